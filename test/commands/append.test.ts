// append and mutate against the real registry: results checked with skopeo, base bytes never
// moved within a registry (checked on the registry's request log), bad input refused cleanly.
import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import {mkdir, readFile, readdir, symlink, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {gunzipSync, gzipSync} from 'node:zlib'
import {runCli} from '../support/cli.js'
import {type PushedFixture, makeLayerTar, pushFixture, sha256, skopeo} from '../support/fixtures.js'
import {run} from '../support/exec.js'
import {startProxy} from '../support/proxy.js'
import {type RunningRegistry, startRegistry} from '../support/registry.js'
import {type TmpDir, tmpDir} from '../support/tmp.js'

const inspect = async (reg: RunningRegistry, ref: string) => {
  const r = await skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/${ref}`])
  assert.equal(r.code, 0, r.stderr)
  return {doc: JSON.parse(r.stdout), digest: sha256(Buffer.from(r.stdout))}
}
const configOf = async (reg: RunningRegistry, ref: string) => JSON.parse((await runCli(['config', `${reg.host}/${ref}`])).stdout)
const blobMoves = (reg: RunningRegistry, since: number) =>
  reg.requests().slice(since).filter((q) => q.path.includes('/blobs/') && !q.path.includes('/uploads') && (q.method === 'GET' || q.method === 'PUT'))

describe('append', () => {
  let reg: RunningRegistry
  let tmp: TmpDir
  let oci: PushedFixture
  let docker: PushedFixture
  let index: PushedFixture
  let layerTar: Buffer
  let layerFile: string
  before(async () => {
    reg = await startRegistry({flavour: 'plain'})
    tmp = await tmpDir('append')
    ;[oci, docker, index] = await Promise.all([
      pushFixture(reg, 'ap/oci:v1', 'oci', 'ap-oci'),
      pushFixture(reg, 'ap/docker:v1', 'docker', 'ap-docker'),
      pushFixture(reg, 'ap/index:v1', 'index', 'ap-index'),
    ])
    layerTar = await makeLayerTar('appended')
    layerFile = join(tmp.path, 'layer.tar')
    await writeFile(layerFile, layerTar)
  })
  after(async () => {
    await reg?.stop()
    await tmp?.remove()
  })

  it('appends a tar in the same repository without moving a base byte', async () => {
    const mark = reg.requests().length
    const r = await runCli(['append', '-b', `${reg.host}/ap/oci:v1`, '-f', layerFile, '-t', `${reg.host}/ap/oci:v2`])
    assert.equal(r.code, 0, r.stderr)
    const {doc, digest} = await inspect(reg, 'ap/oci:v2')
    assert.equal(r.stdout, `${reg.host}/ap/oci@${digest}\n`)
    assert.equal(doc.mediaType, 'application/vnd.oci.image.manifest.v1+json')
    assert.equal(doc.layers.length, oci.images[0].layerDigests.length + 1)
    assert.deepEqual(doc.layers.slice(0, -1).map((l: {digest: string}) => l.digest), oci.images[0].layerDigests)
    assert.equal(doc.layers.at(-1).mediaType, 'application/vnd.oci.image.layer.v1.tar+gzip')
    const cfg = await configOf(reg, 'ap/oci:v2')
    assert.equal(cfg.rootfs.diff_ids.at(-1), sha256(layerTar))
    assert.equal(cfg.history.at(-1).created_by, 'ocitool append')
    const moved = blobMoves(reg, mark).filter((q) => oci.images[0].layerDigests.some((d) => q.path.endsWith(d)))
    assert.deepEqual(moved, [], 'no base layer downloaded or uploaded')
    const layer = await runCli(['blob', `${reg.host}/ap/oci@${doc.layers.at(-1).digest}`])
    assert.deepEqual(gunzipSync(layer.stdoutBytes), layerTar)
  })

  it('reads the layer from stdin, with the appendlayer/containerregistry flag names; Docker media types kept', async () => {
    const r = await runCli(['append', '--src-image', `${reg.host}/ap/docker:v1`, '--tarball', '-', '--dst-image', `${reg.host}/ap/docker:v2`], {input: layerTar})
    assert.equal(r.code, 0, r.stderr)
    const {doc} = await inspect(reg, 'ap/docker:v2')
    assert.equal(doc.mediaType, 'application/vnd.docker.distribution.manifest.v2+json')
    assert.equal(doc.layers.at(-1).mediaType, 'application/vnd.docker.image.rootfs.diff.tar.gzip')
    assert.equal((await configOf(reg, 'ap/docker:v2')).rootfs.diff_ids.at(-1), sha256(layerTar))
  })

  it('into a registry, the new layer is uploaded while it is made: one streamed PATCH, then PUT ?digest', async () => {
    const proxy = await startProxy({upstream: reg.url})
    try {
      const r = await runCli(['append', '-b', `${proxy.host}/ap/oci:v1`, '-f', layerFile, '-t', `${proxy.host}/ap/stream:v1`])
      assert.equal(r.code, 0, r.stderr)
      const {doc} = await inspect(reg, 'ap/stream:v1')
      const layer = doc.layers.at(-1) as {digest: string; size: number}
      const q = proxy.requests()
      const patches = q.filter((x) => x.method === 'PATCH' && x.path.includes('/blobs/uploads/'))
      assert.equal(patches.length, 1, JSON.stringify(q.map((x) => `${x.method} ${x.path} ${x.bytesIn}`)))
      assert.equal(patches[0].bytesIn, layer.size)
      assert.equal(patches[0].status, 202)
      // no second upload of the layer's bytes: the copy found it there
      assert.deepEqual(q.filter((x) => x.bytesIn >= layer.size && x !== patches[0]), [])
      const blob = await runCli(['blob', `${reg.host}/ap/stream@${layer.digest}`])
      assert.deepEqual(gunzipSync(blob.stdoutBytes), layerTar)
    } finally {
      await proxy.stop()
    }
  })

  it('a streamed upload the registry refuses falls back to uploading the layer from its file', async () => {
    const proxy = await startProxy({upstream: reg.url})
    try {
      proxy.addFault({match: {method: 'PATCH', path: '/blobs/uploads/'}, action: {kind: 'status', status: 500}})
      const r = await runCli(['append', '-b', `${proxy.host}/ap/oci:v1`, '-f', layerFile, '-t', `${proxy.host}/ap/fallback:v1`], {env: {OCITOOL_RETRIES: '0'}})
      assert.equal(r.code, 0, r.stderr)
      assert.equal(r.stderr, '')
      const {doc} = await inspect(reg, 'ap/fallback:v1')
      const layer = doc.layers.at(-1) as {digest: string; size: number}
      const q = proxy.requests()
      assert.ok(q.some((x) => x.fault !== undefined && x.method === 'PATCH'), 'the fault fired')
      const puts = q.filter((x) => x.method === 'PUT' && x.path.includes('/blobs/uploads/') && x.bytesIn === layer.size)
      assert.equal(puts.length, 1, 'the layer was uploaded once, from its file')
      const blob = await runCli(['blob', `${reg.host}/ap/fallback@${layer.digest}`])
      assert.deepEqual(gunzipSync(blob.stdoutBytes), layerTar)
    } finally {
      await proxy.stop()
    }
  })

  it('a directory is packed reproducibly (SOURCE_DATE_EPOCH) with modes and links; skopeo unpacks it', async () => {
    const dir = join(tmp.path, 'tree')
    await mkdir(join(dir, 'etc/app'), {recursive: true})
    await writeFile(join(dir, 'etc/app/config.yaml'), 'mode: prod\n', {mode: 0o640})
    await writeFile(join(dir, 'run.sh'), '#!/bin/sh\necho hi\n', {mode: 0o755})
    await symlink('etc/app/config.yaml', join(dir, 'config'))
    const env = {SOURCE_DATE_EPOCH: '1700000000'}
    const a = await runCli(['append', '-b', `${reg.host}/ap/oci:v1`, '-f', dir, '-t', `${reg.host}/ap/dir:a`], {env})
    const b = await runCli(['append', '-b', `${reg.host}/ap/oci:v1`, '-f', dir, '-t', `${reg.host}/ap/dir:b`], {env})
    assert.equal(a.code, 0, a.stderr)
    assert.equal(a.stdout.split('@')[1], b.stdout.split('@')[1], 'same inputs, same digest')
    assert.equal((await configOf(reg, 'ap/dir:a')).history.at(-1).created, '2023-11-14T22:13:20.000Z')
    const out = join(tmp.path, 'skopeo-dir')
    assert.equal((await skopeo(['copy', '--src-tls-verify=false', `docker://${reg.host}/ap/dir:a`, `dir:${out}`])).code, 0)
    const {doc} = await inspect(reg, 'ap/dir:a')
    const last = join(out, doc.layers.at(-1).digest.slice(7))
    const listing = (await run('tar', ['-tvzf', last])).stdout
    assert.match(listing, /-rw-r----- 0\/0\s+11 2023-11-14 \S+ etc\/app\/config\.yaml/)
    assert.match(listing, /-rwxr-xr-x 0\/0\s+\d+ 2023-11-14 \S+ run\.sh/)
    assert.match(listing, /lrwxrwxrwx 0\/0\s+0 2023-11-14 \S+ config -> etc\/app\/config\.yaml/)
  })

  it('an index base gets the layer on every platform, or only on --platform ones', async () => {
    const all = await runCli(['append', '-b', `${reg.host}/ap/index:v1`, '-f', layerFile, '-t', `${reg.host}/ap/index:all`])
    assert.equal(all.code, 0, all.stderr)
    const {doc} = await inspect(reg, 'ap/index:all')
    assert.equal(doc.manifests.length, 3)
    for (const child of doc.manifests) {
      assert.ok(!index.images.some((i) => i.manifestDigest === child.digest), 'every child changed')
    }
    const one = await runCli(['append', '-b', `${reg.host}/ap/index:v1`, '-f', layerFile, '-t', `${reg.host}/ap/index:arm`, '--platform', 'linux/arm64'])
    assert.equal(one.code, 0, one.stderr)
    const {doc: d1} = await inspect(reg, 'ap/index:arm')
    const kept = d1.manifests.filter((c: {digest: string}) => index.images.some((i) => i.manifestDigest === c.digest))
    assert.equal(kept.length, 2, 'other platforms kept as they were')
    const none = await runCli(['append', '-b', `${reg.host}/ap/index:v1`, '-f', layerFile, '-t', `${reg.host}/ap/index:none`, '--platform', 'windows/amd64'])
    assert.equal(none.code, 3)
    assert.match(none.stderr, /^Error: .*no image for platform windows\/amd64/)
  })

  it('across registries the base streams through once; -o writes a tarball instead; base annotations', async () => {
    const other = await startRegistry({flavour: 'plain'})
    try {
      const mark = reg.requests().length
      const r = await runCli(['append', '-b', `${reg.host}/ap/oci:v1`, '-f', layerFile, '-t', `${other.host}/far/app:v1`, '--set-base-image-annotations'])
      assert.equal(r.code, 0, r.stderr)
      const gets = reg.requests().slice(mark).filter((q) => q.method === 'GET' && q.path.includes('/blobs/'))
      for (const d of oci.images[0].layerDigests) assert.equal(gets.filter((q) => q.path.endsWith(d)).length, 1, `base layer ${d} read once`)
      const {doc} = await inspect(other, 'far/app:v1')
      assert.equal(doc.annotations['org.opencontainers.image.base.name'], `${reg.host}/ap/oci:v1`)
      assert.equal(doc.annotations['org.opencontainers.image.base.digest'], oci.manifestDigest)
    } finally {
      await other.stop()
    }
    const file = join(tmp.path, 'appended.tar')
    const o = await runCli(['append', '-b', `${reg.host}/ap/oci:v1`, '-f', layerFile, '-t', `${reg.host}/ap/oci:file`, '-o', file])
    assert.equal(o.code, 0, o.stderr)
    assert.equal((await skopeo(['copy', `docker-archive:${file}`, `dir:${join(tmp.path, 'from-file')}`])).code, 0)
    const ls = await runCli(['ls', `${reg.host}/ap/oci`])
    assert.ok(!ls.stdout.split('\n').includes('file'), 'nothing pushed with -o')
  })

  it('bad input: not a tar, an escaping entry, a truncated gzip, a missing base — one line, nothing pushed', async () => {
    const notTar = join(tmp.path, 'not.tar')
    await writeFile(notTar, 'this is not a tar archive, just text\n'.repeat(40))
    const escaping = join(tmp.path, 'evil.tar')
    const evil = Buffer.from(layerTar)
    evil.write('../../etc/passwd\0', 0, 'latin1') // first entry's name
    let sum = 0
    evil.fill(' ', 148, 156)
    for (let i = 0; i < 512; i++) sum += evil[i]
    evil.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1')
    await writeFile(escaping, evil)
    const truncated = join(tmp.path, 'cut.tar.gz')
    const gz = gzipSync(layerTar)
    await writeFile(truncated, gz.subarray(0, Math.floor(gz.length / 2)))
    const cases: Array<[string[], number[], RegExp]> = [
      [['-f', notTar], [2], /not a tar/],
      [['-f', escaping], [2], /escapes the root|outside/],
      [['-f', truncated], [2, 6], /truncated|unexpected end|corrupt/i],
    ]
    for (const [args, codes, msg] of cases) {
      const r = await runCli(['append', '-b', `${reg.host}/ap/oci:v1`, ...args, '-t', `${reg.host}/ap/bad:v1`])
      assert.ok(codes.includes(r.code), `${args.join(' ')}: exit ${r.code}: ${r.stderr}`)
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
      assert.match(r.stderr, msg)
    }
    const missing = await runCli(['append', '-b', `${reg.host}/ap/nope:v1`, '-f', layerFile, '-t', `${reg.host}/ap/bad:v1`])
    assert.equal(missing.code, 3)
    assert.equal((await runCli(['ls', `${reg.host}/ap/bad`])).code, 3, 'nothing pushed')
    const tmpLeft = (await readdir(tmp.path)).filter((n) => n.includes('.tmp'))
    assert.deepEqual(tmpLeft, [])
    void createHash
    void readFile
  })
})

describe('append to a token registry without push rights', () => {
  let reg: RunningRegistry
  before(async () => {
    reg = await startRegistry({flavour: 'token'})
    await pushFixture(reg, 'tok/base:v1', 'oci', 'ap-token')
  })
  after(() => reg?.stop())

  it('is exit 4 and pushes nothing', async () => {
    const t = await tmpDir('append-token')
    try {
      const f = join(t.path, 'l.tar')
      await writeFile(f, await makeLayerTar('tok'))
      const r = await runCli(['append', '-b', `${reg.host}/tok/base:v1`, '-f', f, '-t', `${reg.host}/tok/base:v2`, '--username', 'bob', '--password', reg.users.bob])
      assert.equal(r.code, 4, r.stderr)
      assert.equal(r.stderr.trim().split('\n').length, 1)
      const ls = await runCli(['ls', `${reg.host}/tok/base`, '--username', 'alice', '--password', reg.users.alice])
      assert.deepEqual(ls.stdout.trim().split('\n'), ['v1'])
    } finally {
      await t.remove()
    }
  })
})

describe('mutate', () => {
  let reg: RunningRegistry
  let index: PushedFixture
  before(async () => {
    reg = await startRegistry({flavour: 'plain'})
    index = await pushFixture(reg, 'mu/index:v1', 'index', 'mu-index')
    await pushFixture(reg, 'mu/docker:v1', 'docker', 'mu-docker')
  })
  after(() => reg?.stop())

  it('changes the config of every child of an index; --platform changes only that one', async () => {
    const r = await runCli(['mutate', `${reg.host}/mu/index:v1`, '-l', 'team=core', '-e', 'MODE=prod', '--entrypoint', '/bin/app,--serve', '-a', 'org.example/note=hi', '-t', `${reg.host}/mu/index:v2`])
    assert.equal(r.code, 0, r.stderr)
    const {doc} = await inspect(reg, 'mu/index:v2')
    for (const child of doc.manifests) {
      const cfg = JSON.parse((await runCli(['config', `${reg.host}/mu/index@${child.digest}`])).stdout)
      assert.equal(cfg.config.Labels.team, 'core')
      assert.ok(cfg.config.Env.includes('MODE=prod'))
      assert.deepEqual(cfg.config.Entrypoint, ['/bin/app', '--serve'])
      const m = JSON.parse((await runCli(['manifest', `${reg.host}/mu/index@${child.digest}`])).stdout)
      assert.equal(m.annotations['org.example/note'], 'hi')
    }
    const one = await runCli(['mutate', `${reg.host}/mu/index:v1`, '-l', 'only=arm', '--platform', 'linux/arm64', '-t', `${reg.host}/mu/index:arm`])
    assert.equal(one.code, 0, one.stderr)
    const {doc: d1} = await inspect(reg, 'mu/index:arm')
    assert.equal(d1.manifests.filter((c: {digest: string}) => index.images.some((i) => i.manifestDigest === c.digest)).length, 2)
  })

  it('--to-oci converts media types; without -t the tag itself moves', async () => {
    const r = await runCli(['mutate', `${reg.host}/mu/docker:v1`, '--to-oci', '-u', 'nobody'])
    assert.equal(r.code, 0, r.stderr)
    const {doc} = await inspect(reg, 'mu/docker:v1')
    assert.equal(doc.mediaType, 'application/vnd.oci.image.manifest.v1+json')
    assert.equal(doc.config.mediaType, 'application/vnd.oci.image.config.v1+json')
    assert.ok(doc.layers.every((l: {mediaType: string}) => l.mediaType === 'application/vnd.oci.image.layer.v1.tar+gzip'))
    assert.equal((await configOf(reg, 'mu/docker:v1')).config.User, 'nobody')
    const bad = await runCli(['mutate', `${reg.host}/mu/docker:v1`, '-l', 'novalue'])
    assert.equal(bad.code, 2)
    assert.match(bad.stderr, /--label novalue: expected KEY=VALUE/)
  })
})
