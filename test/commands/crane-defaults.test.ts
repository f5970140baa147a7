// crane's defaults (issue 16 item 7): flatten and index filter without -t push by digest to
// the image's own repository and print repo@digest; --platform OS matches any architecture;
// --json on refs, auth get, alias get and blob push. Against the real registry.
import assert from 'node:assert/strict'
import {writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {runCli} from '../support/cli.js'
import {type PushedFixture, pushFixture, sha256, skopeo} from '../support/fixtures.js'
import {type RunningRegistry, startRegistry} from '../support/registry.js'
import {type TmpDir, tmpDir} from '../support/tmp.js'

async function raw(reg: RunningRegistry, ref: string): Promise<Buffer> {
  const r = await skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/${ref}`])
  assert.equal(r.code, 0, r.stderr)
  return r.stdoutBytes
}

describe("crane's defaults", () => {
  let reg: RunningRegistry
  let tmp: TmpDir
  let img: PushedFixture
  let idx: PushedFixture
  before(async () => {
    reg = await startRegistry({flavour: 'plain'})
    tmp = await tmpDir('crane-defaults')
    ;[img, idx] = await Promise.all([pushFixture(reg, 'cd/app:v1', 'docker', 'cd-app'), pushFixture(reg, 'cd/multi:v1', 'index', 'cd-multi')])
  })
  after(async () => {
    await reg?.stop()
    await tmp?.remove()
  })

  it('flatten IMG without -t pushes by digest to its repository and prints repo@digest', async () => {
    const r = await runCli(['flatten', `${reg.host}/cd/app:v1`])
    assert.equal(r.code, 0, r.stderr)
    const m = /^(\S+)@(sha256:[0-9a-f]{64})\n$/.exec(r.stdout)
    assert.ok(m, r.stdout)
    assert.equal(m[1], `${reg.host}/cd/app`)
    assert.notEqual(m[2], img.manifestDigest)
    const manifest = JSON.parse((await raw(reg, `cd/app@${m[2]}`)).toString())
    assert.equal(manifest.layers.length, 1)
    assert.equal(sha256(await raw(reg, 'cd/app:v1')), img.manifestDigest, 'the tag is not moved')
    const local = await runCli(['flatten', `oci:${tmp.path}/none`])
    assert.equal(local.code, 2)
    assert.match(local.stderr, /a local image needs --tag/)
  })

  it('index filter IMG --platform linux (OS only) keeps every linux image and pushes by digest', async () => {
    const r = await runCli(['index', 'filter', `${reg.host}/cd/multi:v1`, '--platform', 'linux'])
    assert.equal(r.code, 0, r.stderr)
    const m = /^(\S+)@(sha256:[0-9a-f]{64})\n$/.exec(r.stdout)
    assert.ok(m, r.stdout)
    assert.equal(m[1], `${reg.host}/cd/multi`)
    const index = JSON.parse((await raw(reg, `cd/multi@${m[2]}`)).toString())
    assert.deepEqual(index.manifests.map((d: {digest: string}) => d.digest), idx.images.map((i) => i.manifestDigest))
    // one platform's OS alone picks the first linux image, as crane does
    const d = await runCli(['digest', `${reg.host}/cd/multi:v1`, '--platform', 'linux'])
    assert.equal(d.code, 0, d.stderr)
    assert.equal(d.stdout.trim(), idx.images[0].manifestDigest)
    const w = await runCli(['index', 'filter', `${reg.host}/cd/multi:v1`, '--platform', 'windows'])
    assert.equal(w.code, 3, w.stderr)
  })

  it('--json on refs, auth get, alias get and blob push', async () => {
    const file = join(tmp.path, 'blob.bin')
    await writeFile(file, 'some blob bytes')
    const b = await runCli(['blob', 'push', `${reg.host}/cd/store`, file, '--json'])
    assert.equal(b.code, 0, b.stderr)
    const pushed = JSON.parse(b.stdout)
    assert.equal(pushed.digest, sha256('some blob bytes'))
    assert.equal(pushed.size, 15)
    const set = await runCli(['alias', 'set', `${reg.host}/cd/store`, 'data', pushed.digest])
    assert.equal(set.code, 0, set.stderr)
    const a = await runCli(['alias', 'get', `${reg.host}/cd/store`, 'data', '--json'])
    assert.equal(a.code, 0, a.stderr)
    assert.deepEqual(JSON.parse(a.stdout), {name: 'data', digests: [pushed.digest]})
    const refs = await runCli(['refs', `${reg.host}/cd/app:v1`, '--json'])
    assert.equal(refs.code, 0, refs.stderr)
    const index = JSON.parse(refs.stdout)
    assert.equal(index.schemaVersion, 2)
    assert.deepEqual(index.manifests, [])
    const g = await runCli(['auth', 'get', reg.host, '--json', '--username', 'u', '--password', 'p'])
    assert.equal(g.code, 0, g.stderr)
    assert.deepEqual(JSON.parse(g.stdout), {ServerURL: reg.host, Username: 'u', Secret: 'p'})
  })
})
