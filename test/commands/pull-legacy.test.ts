// pull --format legacy against the real registry: the legacy `docker save` layout (uncompressed
// <id>/layer.tar, json, VERSION, repositories), read back by skopeo (which nobody here wrote)
// and by ocitool push.
import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {mkdir, readFile, readdir, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {gzipSync} from 'node:zlib'
import {runCli} from '../support/cli.js'
import {type PushedFixture, MediaTypes, makeLayerTar, pushFixture, sha256, skopeo} from '../support/fixtures.js'
import {run} from '../support/exec.js'
import {type RunningRegistry, startRegistry} from '../support/registry.js'
import {type TmpDir, tmpDir} from '../support/tmp.js'

const hex = (d: string) => d.slice('sha256:'.length)

interface Built {
  configDigest: string
  diffIds: string[]
}

/**
 * pushImage pushes an OCI image of the given raw layer tars (`zstd` or gzip) with skopeo;
 * `diffIds` overrides what the config says.
 */
async function pushImage(reg: RunningRegistry, dir: string, repoTag: string, layers: {raw: Buffer; zstd?: boolean}[], diffIds?: string[]): Promise<Built> {
  await mkdir(dir, {recursive: true})
  const descs = []
  for (const {raw, zstd} of layers) {
    const bytes = zstd ? execFileSync('zstd', ['-q', '-c'], {input: raw}) : gzipSync(raw)
    await writeFile(join(dir, hex(sha256(bytes))), bytes)
    descs.push({mediaType: zstd ? 'application/vnd.oci.image.layer.v1.tar+zstd' : MediaTypes.ociLayerGzip, size: bytes.length, digest: sha256(bytes)})
  }
  const ids = diffIds ?? layers.map((l) => sha256(l.raw))
  const config = Buffer.from(JSON.stringify({architecture: 'amd64', os: 'linux', config: {Cmd: ['/bin/sh']}, rootfs: {type: 'layers', diff_ids: ids}}))
  await writeFile(join(dir, hex(sha256(config))), config)
  const manifest = {schemaVersion: 2, mediaType: MediaTypes.ociManifest, config: {mediaType: MediaTypes.ociConfig, size: config.length, digest: sha256(config)}, layers: descs}
  await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest))
  await writeFile(join(dir, 'version'), 'Directory Transport Version: 1.1\n')
  const r = await skopeo(['copy', '--quiet', '--preserve-digests', '--dest-tls-verify=false', `dir:${dir}`, `docker://${reg.host}/${repoTag}`])
  assert.equal(r.code, 0, r.stderr)
  return {configDigest: sha256(config), diffIds: ids}
}

async function tarNames(file: string, verbose = false): Promise<string[]> {
  const t = await run('tar', [verbose ? '-tvf' : '-tf', file])
  assert.equal(t.code, 0, t.stderr)
  return t.stdout.split('\n').filter(Boolean)
}

async function tarJson(file: string, name: string): Promise<any> {
  return JSON.parse((await run('tar', ['-xOf', file, name])).stdout)
}

describe('pull --format legacy', () => {
  let reg: RunningRegistry
  let tmp: TmpDir
  let docker: PushedFixture
  before(async () => {
    reg = await startRegistry({flavour: 'plain'})
    tmp = await tmpDir('pull-legacy')
    docker = await pushFixture(reg, 'lg/docker:v1', 'docker', 'lg-docker')
  })
  after(async () => {
    await reg?.stop()
    await tmp?.remove()
  })

  it('writes docker save\'s layout; skopeo reads the fixture\'s config and diff ids; push keeps the config digest', async () => {
    const image = docker.images[0]
    const file = join(tmp.path, 'out.tar')
    const r = await runCli(['pull', `${reg.host}/lg/docker:v1`, file, '--format', 'legacy'])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /^docker-archive:.*out\.tar@sha256:[0-9a-f]{64}\n$/)

    const names = await tarNames(file)
    const entries = await tarJson(file, 'manifest.json')
    assert.equal(entries.length, 1)
    assert.equal(entries[0].Config, `${hex(image.configDigest)}.json`)
    assert.deepEqual(entries[0].RepoTags, [`${reg.host}/lg/docker:v1`])
    const ids = entries[0].Layers.map((l: string) => l.replace(/\/layer\.tar$/, ''))
    assert.equal(ids.length, 2)
    assert.equal(ids[0], hex(image.diffIds[0]), 'the base layer\'s id is its ChainID, the diff id')
    assert.deepEqual(names.sort(), ['manifest.json', 'repositories', entries[0].Config, ...ids.flatMap((id: string) => [`${id}/layer.tar`, `${id}/json`, `${id}/VERSION`])].sort())
    assert.deepEqual(await tarJson(file, 'repositories'), {[`${reg.host}/lg/docker`]: {v1: ids[1]}})
    const top = await tarJson(file, `${ids[1]}/json`)
    assert.equal(top.id, ids[1])
    assert.equal(top.parent, ids[0])
    assert.equal((await tarJson(file, `${ids[0]}/json`)).parent, undefined)
    // layer.tar is the uncompressed layer
    for (const [i, id] of ids.entries()) {
      const layer = execFileSync('tar', ['-xOf', file, `${id}/layer.tar`], {maxBuffer: 1 << 26})
      assert.equal(sha256(layer), image.diffIds[i])
    }

    const out = join(tmp.path, 'skopeo-dir')
    const s = await skopeo(['copy', `docker-archive:${file}`, `dir:${out}`])
    assert.equal(s.code, 0, s.stderr)
    const m = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8'))
    assert.equal(m.config.digest, image.configDigest)
    // skopeo hands docker-archive layers out uncompressed: their digests are the diff ids
    assert.deepEqual(m.layers.map((l: {digest: string}) => l.digest), image.diffIds)

    const p = await runCli(['push', file, `${reg.host}/lg/back:v1`])
    assert.equal(p.code, 0, p.stderr)
    const pushed = JSON.parse((await skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/lg/back:v1`])).stdout)
    assert.equal(pushed.config.digest, image.configDigest)
    assert.equal(pushed.layers.length, 2)
    const back = await skopeo(['copy', '--src-tls-verify=false', `docker://${reg.host}/lg/back:v1`, `dir:${join(tmp.path, 'back-dir')}`])
    assert.equal(back.code, 0, back.stderr)
  })

  it('several images in one file: a layer used at another position is stored once, and skopeo reads each image', async () => {
    // shared: the fixture's top layer, zstd-compressed, as the base of another image
    const raw1 = await makeLayerTar('lg-docker-layer1')
    assert.equal(sha256(raw1), docker.images[0].diffIds[1])
    const shared = await pushImage(reg, join(tmp.path, 'shared-src'), 'lg/shared:v1', [{raw: raw1, zstd: true}, {raw: await makeLayerTar('lg-extra')}])
    const file = join(tmp.path, 'multi.tar')
    const r = await runCli(['pull', `${reg.host}/lg/docker:v1`, `${reg.host}/lg/shared:v1`, file, '--format', 'legacy'])
    assert.equal(r.code, 0, r.stderr)
    const entries = await tarJson(file, 'manifest.json')
    assert.equal(entries.length, 2)
    // manifest.json names the file itself; the shared image's own id directory has a symlink to it
    assert.equal(entries[1].Layers[0], entries[0].Layers[1])
    const top = (await tarJson(file, 'repositories'))[`${reg.host}/lg/shared`].v1
    const base = (await tarJson(file, `${top}/json`)).parent
    const links = (await tarNames(file, true)).filter((l) => l.startsWith('l'))
    assert.equal(links.length, 1)
    assert.ok(links[0].endsWith(` ${base}/layer.tar -> ../${entries[0].Layers[1]}`), links[0])
    for (const [ref, want] of [[`${reg.host}/lg/docker:v1`, docker.images[0]], [`${reg.host}/lg/shared:v1`, shared]] as const) {
      const out = join(tmp.path, `multi-${want.configDigest.slice(7, 15)}`)
      const s = await skopeo(['copy', `docker-archive:${file}:${ref}`, `dir:${out}`])
      assert.equal(s.code, 0, s.stderr)
      const m = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8'))
      assert.equal(m.config.digest, want.configDigest)
      assert.deepEqual(m.layers.map((l: {digest: string}) => l.digest), want.diffIds)
    }
  })

  it('refuses stdout (exit 2), and a layer that does not hash to its diff id (exit 6, no file left)', async () => {
    const r = await runCli(['pull', `${reg.host}/lg/docker:v1`, '-', '--format', 'legacy'])
    assert.equal(r.code, 2, r.stderr)
    assert.match(r.stderr, /the legacy format needs a file, not stdout/)
    assert.equal(r.stdout, '')

    const raw = await makeLayerTar('lg-liar')
    await pushImage(reg, join(tmp.path, 'liar-src'), 'lg/liar:v1', [{raw}], [sha256('not this layer')])
    const dir = join(tmp.path, 'liar-out')
    await mkdir(dir)
    const bad = await runCli(['pull', `${reg.host}/lg/liar:v1`, join(dir, 'out.tar'), '--format', 'legacy'])
    assert.equal(bad.code, 6, bad.stderr)
    assert.match(bad.stderr, /decompresses to sha256:[0-9a-f]{64}, but the config says sha256:/)
    assert.deepEqual(await readdir(dir), [])
  })
})
