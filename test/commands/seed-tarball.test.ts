// Seed 002 (go-containerregistry's tarball README): its shell lines run as written through bash
// (`ocitool` for `crane`, the local registry's host before `ubuntu`/`hello-world`): the pulled
// tarball's files and manifest.json, a foreign layer kept in LayerSources keyed by its diff_id,
// and `validate --tarball` of a multi-image file checking every image.
import assert from 'node:assert/strict'
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import {after, before, describe, it} from 'node:test'
import {gzipSync} from 'node:zlib'
import {makeLayerTar, pushFixture, sha256, type PushedFixture} from '../support/fixtures.js'
import {type RunningRegistry, startRegistry} from '../support/registry.js'
import {sh} from '../support/shell.js'
import {tmpDir, type TmpDir} from '../support/tmp.js'

const foreignType = 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip'

async function putBlob(reg: RunningRegistry, repo: string, bytes: Buffer): Promise<string> {
  const digest = sha256(bytes)
  const start = await fetch(`${reg.url}/v2/${repo}/blobs/uploads/`, {method: 'POST'})
  assert.equal(start.status, 202, await start.text())
  const url = new URL(start.headers.get('location')!, reg.url)
  url.searchParams.set('digest', digest)
  const res = await fetch(url, {method: 'PUT', body: bytes, headers: {'content-type': 'application/octet-stream'}})
  assert.equal(res.status, 201, await res.text())
  return digest
}

async function putManifest(reg: RunningRegistry, repo: string, ref: string, doc: object, mediaType: string): Promise<string> {
  const bytes = Buffer.from(JSON.stringify(doc))
  const res = await fetch(`${reg.url}/v2/${repo}/manifests/${ref}`, {method: 'PUT', body: bytes, headers: {'content-type': mediaType}})
  assert.equal(res.status, 201, await res.text())
  return sha256(bytes)
}

describe('seed 002 go-containerregistry tarball', () => {
  let reg: RunningRegistry
  let work: TmpDir
  let ubuntu: PushedFixture
  let nano: {digest: string; listDigest: string; config: string; diffIds: string[]; layers: string[]}
  before(async () => {
    ;[reg, work] = await Promise.all([startRegistry({flavour: 'plain'}), tmpDir('seed-tarball')])
    ubuntu = await pushFixture(reg, 'ubuntu:latest', 'docker', 'seed-ubuntu')
    // hello-world:nanoserver: a manifest list with one windows image whose first layer is foreign
    const tars = await Promise.all(['win-base', 'win-1', 'win-2'].map((k) => makeLayerTar(k)))
    const gz = tars.map((t) => gzipSync(t))
    const layers = await Promise.all(gz.map((b) => putBlob(reg, 'hello-world', b)))
    const diffIds = tars.map((t) => sha256(t))
    const config = Buffer.from(JSON.stringify({architecture: 'amd64', os: 'windows', 'os.version': '10.0.17763.1040', rootfs: {type: 'layers', diff_ids: diffIds}, config: {}}))
    const configDigest = await putBlob(reg, 'hello-world', config)
    const manifest = {
      schemaVersion: 2,
      mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
      config: {mediaType: 'application/vnd.docker.container.image.v1+json', size: config.length, digest: configDigest},
      layers: gz.map((b, i) => ({
        mediaType: i === 0 ? foreignType : 'application/vnd.docker.image.rootfs.diff.tar.gzip',
        size: b.length,
        digest: layers[i],
        ...(i === 0 ? {urls: [`${reg.url}/v2/hello-world/blobs/${layers[0]}`]} : {}),
      })),
    }
    const digest = await putManifest(reg, 'hello-world', sha256(Buffer.from(JSON.stringify(manifest))), manifest, manifest.mediaType)
    const size = Buffer.byteLength(JSON.stringify(manifest))
    const list = {
      manifests: [{digest, mediaType: manifest.mediaType, platform: {architecture: 'amd64', os: 'windows', 'os.version': '10.0.17763.1040'}, size}],
      mediaType: 'application/vnd.docker.distribution.manifest.list.v2+json',
      schemaVersion: 2,
    }
    const listDigest = await putManifest(reg, 'hello-world', 'nanoserver', list, list.mediaType)
    nano = {digest, listDigest, config: configDigest, diffIds, layers}
  })
  after(async () => {
    await Promise.all([reg?.stop(), work?.remove()])
  })

  it('$ ocitool pull ubuntu ubuntu.tar && mkdir ubuntu && tar xf ubuntu.tar -C ubuntu && rm ubuntu.tar; tree ubuntu/; jq < ubuntu/manifest.json', async () => {
    const r = await sh(`ocitool pull ${reg.host}/ubuntu ubuntu.tar && mkdir ubuntu && tar xf ubuntu.tar -C ubuntu && rm ubuntu.tar`, {cwd: work.path})
    assert.equal(r.code, 0, r.stderr)
    const tree = await sh('tree ubuntu/', {cwd: work.path})
    assert.equal(tree.code, 0, tree.stderr)
    const image = ubuntu.images[0]
    for (const d of image.layerDigests) assert.match(tree.stdout, new RegExp(`── ${d.slice(7)}\\.tar\\.gz\\n`))
    assert.match(tree.stdout, /── manifest\.json\n/)
    assert.match(tree.stdout, new RegExp(`── ${image.configDigest}\\n`))
    const jq = await sh('jq < ubuntu/manifest.json', {cwd: work.path})
    const doc = JSON.parse(jq.stdout) as Array<{Config: string; RepoTags: string[]; Layers: string[]}>
    assert.equal(doc.length, 1)
    assert.equal(doc[0].Config, image.configDigest)
    assert.deepEqual(doc[0].RepoTags, [`${reg.host}/ubuntu:latest`])
    assert.deepEqual(doc[0].Layers, image.layerDigests.map((d) => `${d.slice(7)}.tar.gz`))
    // the files are the registry's blobs, byte for byte
    for (const d of image.layerDigests) assert.equal(sha256(await fs.readFile(path.join(work.path, 'ubuntu', `${d.slice(7)}.tar.gz`))), d)
    assert.equal(sha256(await fs.readFile(path.join(work.path, 'ubuntu', image.configDigest))), image.configDigest)
  })

  it('$ ocitool manifest ubuntu@sha256:…', async () => {
    const r = await sh(`ocitool manifest ${reg.host}/ubuntu@${ubuntu.manifestDigest}`, {cwd: work.path})
    assert.equal(r.code, 0, r.stderr)
    assert.ok(r.stdoutBytes.equals(ubuntu.manifestBytes))
  })

  it('$ ocitool pull hello-world:nanoserver@sha256:… nanoserver.tar; mkdir; tar xf; rm; tree; jq < nanoserver/manifest.json', async () => {
    const r = await sh(`ocitool pull ${reg.host}/hello-world:nanoserver@${nano.digest} nanoserver.tar`, {cwd: work.path})
    assert.equal(r.code, 0, r.stderr)
    const x = await sh('mkdir nanoserver && tar xf nanoserver.tar -C nanoserver && rm nanoserver.tar', {cwd: work.path})
    assert.equal(x.code, 0, x.stderr)
    const tree = await sh('tree nanoserver/', {cwd: work.path})
    for (const d of nano.layers) assert.match(tree.stdout, new RegExp(`── ${d.slice(7)}\\.tar\\.gz\\n`))
    assert.match(tree.stdout, new RegExp(`── ${nano.config}\\n`))
    const jq = await sh('jq < nanoserver/manifest.json', {cwd: work.path})
    const doc = JSON.parse(jq.stdout) as Array<{Config: string; RepoTags: string[]; Layers: string[]; LayerSources: Record<string, {mediaType: string; digest: string; urls: string[]}>}>
    assert.equal(doc[0].Config, nano.config)
    assert.equal(doc[0].RepoTags.length, 1)
    assert.deepEqual(doc[0].Layers, nano.layers.map((d) => `${d.slice(7)}.tar.gz`))
    const ls = await sh(`jq '.[0].LayerSources' < nanoserver/manifest.json`, {cwd: work.path})
    const sources = JSON.parse(ls.stdout) as Record<string, {mediaType: string; digest: string; urls: string[]}>
    assert.deepEqual(Object.keys(sources), [nano.diffIds[0]], 'LayerSources is keyed by the foreign layer diff_id')
    assert.equal(sources[nano.diffIds[0]].mediaType, foreignType)
    assert.equal(sources[nano.diffIds[0]].digest, nano.layers[0])
    assert.deepEqual(sources[nano.diffIds[0]].urls, [`${reg.url}/v2/hello-world/blobs/${nano.layers[0]}`])
    const rootfs = await sh(`jq < nanoserver/${nano.config.replace(':', '\\:')} | jq .rootfs`, {cwd: work.path})
    assert.equal(rootfs.code, 0, rootfs.stderr)
    assert.deepEqual(JSON.parse(rootfs.stdout), {type: 'layers', diff_ids: nano.diffIds})
  })

  it('$ ocitool manifest hello-world:nanoserver | jq .; and @sha256:… | jq . (the urls field)', async () => {
    const list = await sh(`ocitool manifest ${reg.host}/hello-world:nanoserver | jq .`, {cwd: work.path})
    assert.equal(list.code, 0, list.stderr)
    const l = JSON.parse(list.stdout) as {mediaType: string; manifests: Array<{digest: string; platform: {os: string}}>}
    assert.equal(l.mediaType, 'application/vnd.docker.distribution.manifest.list.v2+json')
    assert.deepEqual(l.manifests.map((m) => [m.digest, m.platform.os]), [[nano.digest, 'windows']])
    const one = await sh(`ocitool manifest ${reg.host}/hello-world:nanoserver@${nano.digest} | jq .`, {cwd: work.path})
    const m = JSON.parse(one.stdout) as {layers: Array<{mediaType: string; urls?: string[]}>}
    assert.equal(m.layers[0].mediaType, foreignType)
    assert.equal(m.layers[0].urls?.length, 1)
  })

  it('validate --tarball of a multi-image file checks every image; a corrupt second image fails (exit 6)', async () => {
    const r = await sh(`ocitool pull ${reg.host}/ubuntu ${reg.host}/hello-world:nanoserver@${nano.digest} multi.tar`, {cwd: work.path})
    assert.equal(r.code, 0, r.stderr)
    const v = await sh('ocitool validate --tarball multi.tar', {cwd: work.path})
    assert.equal(v.code, 0, v.stderr)
    for (const d of [ubuntu.manifestDigest, nano.digest]) assert.match(v.stdout, new RegExp(`^PASS: multi\\.tar ${d}`, 'm'))
    assert.match(v.stdout, /^PASS: multi\.tar: 2 images/m)
    // corrupt one byte of the nanoserver image's last layer inside the tar: only that image holds it
    const file = path.join(work.path, 'multi.tar')
    const tar = await fs.readFile(file)
    const gz = gzipSync(await makeLayerTar('win-2'))
    const at = tar.indexOf(gz)
    assert.ok(at > 0, 'the layer is stored as is in the tar')
    tar[at + gz.length - 9] ^= 0xff
    await fs.writeFile(path.join(work.path, 'bad.tar'), tar)
    const bad = await sh('ocitool validate --tarball bad.tar', {cwd: work.path})
    assert.equal(bad.code, 6, bad.stdout + bad.stderr)
    assert.match(bad.stderr, new RegExp(nano.layers[2].slice(7, 19)))
  })
})
