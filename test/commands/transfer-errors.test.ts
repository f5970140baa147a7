// Transfers that fail half way: bad archives and layouts, blobs that do not match their digest,
// outputs that cannot be written, a disk that fills up and a source registry that goes away.
// Each exits with the code of its class and one `Error:` line naming what and where, leaves no
// output or temporary file next to the output, and tags nothing at a registry destination.
import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import * as fsp from 'node:fs/promises'
import * as path from 'node:path'
import {after, before, describe, it} from 'node:test'
import * as tar from 'tar-stream'

import {runCli} from '../support/cli.js'
import {MediaTypes, type PushedFixture, pushFixture, sha256} from '../support/fixtures.js'
import {type FaultProxy, startProxy} from '../support/proxy.js'
import {pushBigImage} from '../support/big-image.js'
import {type RunningRegistry, startRegistry} from '../support/registry.js'
import {type TmpDir, tmpDir} from '../support/tmp.js'

/** one line, starting with "Error: ", no stack frames */
function assertOneLine(stderr: string, pattern: RegExp): void {
  const lines = stderr.split('\n').filter((l) => l !== '')
  assert.equal(lines.length, 1, `expected one line, got:\n${stderr}`)
  assert.match(lines[0], /^Error: /)
  assert.doesNotMatch(stderr, /\n\s+at /)
  assert.match(lines[0], pattern)
}

/** the tag's digest at reg (HEAD), or undefined when there is no such tag */
async function tagDigest(reg: {url: string}, repo: string, tag: string): Promise<string | undefined> {
  const accept = [MediaTypes.ociManifest, MediaTypes.ociIndex, MediaTypes.dockerManifest].join(', ')
  const r = await fetch(`${reg.url}/v2/${repo}/manifests/${tag}`, {method: 'HEAD', headers: {accept}})
  if (r.status === 404) return undefined
  assert.equal(r.status, 200, `HEAD ${repo}:${tag}`)
  return r.headers.get('docker-content-digest') ?? undefined
}

/** rewriteTar copies a (small) tar entry by entry; edit returns new bytes, or null to leave one out */
async function rewriteTar(src: string, dst: string, edit: (name: string, data: Buffer) => Buffer | null): Promise<void> {
  const extract = tar.extract()
  const pack = tar.pack()
  const out = (async () => {
    const chunks: Buffer[] = []
    for await (const c of pack) chunks.push(c as Buffer)
    await fsp.writeFile(dst, Buffer.concat(chunks))
  })()
  extract.end(await fsp.readFile(src))
  for await (const entry of extract) {
    const chunks: Buffer[] = []
    for await (const c of entry) chunks.push(c as Buffer)
    const data = edit(entry.header.name, Buffer.concat(chunks))
    if (data !== null) pack.entry({...entry.header, size: data.length}, data)
  }
  pack.finalize()
  await out
}

const flipMiddle = (b: Buffer) => {
  const c = Buffer.from(b)
  c[c.length >> 1] ^= 0xff
  return c
}

/** pushBig pushes an image with one incompressible 4 MiB layer, with our client; returns its digest */
const pushBig = async (reg: RunningRegistry, repoTag: string): Promise<string> =>
  (await pushBigImage(reg, repoTag, 'transfer-errors-big', 4 * 1024 * 1024)).digest

describe('transfer errors', () => {
  let a: RunningRegistry
  let b: RunningRegistry
  let proxyA: FaultProxy
  let tmp: TmpDir
  let app: PushedFixture
  let old: PushedFixture
  let goodTar: string
  let goodLayout: string
  let n = 0
  /** a fresh empty directory for one case's output */
  const outDir = async () => {
    const d = path.join(tmp.path, `out-${++n}`)
    await fsp.mkdir(d)
    return d
  }
  /** asserts dir holds exactly `names` (no output, no temporary file) */
  const assertOnly = async (dir: string, names: string[] = []) => assert.deepEqual((await fsp.readdir(dir)).sort(), [...names].sort())
  const untagged = async (repo: string, tag = 'v1') => assert.equal(await tagDigest(b, repo, tag), undefined, `${repo}:${tag} must not exist`)

  before(async () => {
    ;[a, b, tmp] = await Promise.all([startRegistry({flavour: 'plain'}), startRegistry({flavour: 'plain'}), tmpDir('transfer-errors')])
    ;[app, old] = await Promise.all([pushFixture(a, 'src/app:v1', 'oci', 'te-app'), pushFixture(b, 'keep/app:v1', 'oci', 'te-old')])
    await pushBig(a, 'src/big:v1')
    proxyA = await startProxy({upstream: a.url})
    goodTar = path.join(tmp.path, 'good.tar')
    goodLayout = path.join(tmp.path, 'good-layout')
    for (const args of [[goodTar], [goodLayout, '--format', 'oci']]) {
      const r = await runCli(['pull', `${a.host}/src/app:v1`, ...args])
      assert.equal(r.code, 0, r.stderr)
    }
  })
  after(async () => {
    await proxyA?.stop()
    await a?.stop()
    await b?.stop()
    await tmp?.remove()
  })

  it('1. a truncated docker tarball is exit 6, as push input and as copy source', async () => {
    const dir = await outDir()
    const file = path.join(dir, 'half.tar')
    const whole = await fsp.readFile(goodTar)
    await fsp.writeFile(file, whole.subarray(0, whole.length >> 1))
    const push = await runCli(['push', file, `${b.host}/t1/push:v1`])
    assert.equal(push.code, 6, push.stderr)
    assertOneLine(push.stderr, new RegExp(`${file}.*truncated`))
    const copy = await runCli(['copy', `docker-archive:${file}`, `${b.host}/t1/copy:v1`])
    assert.equal(copy.code, 6, copy.stderr)
    assertOneLine(copy.stderr, new RegExp(`docker-archive:${file}.*truncated`))
    await untagged('t1/push')
    await untagged('t1/copy')
    await assertOnly(dir, ['half.tar'])
  })

  it('2. a tarball without manifest.json: push is exit 2 (not an image archive), copy exit 3', async () => {
    const dir = await outDir()
    const file = path.join(dir, 'no-manifest.tar')
    await rewriteTar(goodTar, file, (name, data) => (name === 'manifest.json' ? null : data))
    const push = await runCli(['push', file, `${b.host}/t2/push:v1`])
    assert.equal(push.code, 2, push.stderr)
    assertOneLine(push.stderr, new RegExp(`${file}: a tar without manifest.json or index.json`))
    const copy = await runCli(['copy', `docker-archive:${file}`, `${b.host}/t2/copy:v1`])
    assert.equal(copy.code, 3, copy.stderr)
    assertOneLine(copy.stderr, new RegExp(`docker-archive:${file}: not a docker archive: it has no manifest.json`))
    await untagged('t2/push')
    await untagged('t2/copy')
  })

  it('3. manifest.json naming a file that is not in the tarball is exit 3', async () => {
    const dir = await outDir()
    const file = path.join(dir, 'dangling.tar')
    await rewriteTar(goodTar, file, (name, data) => {
      if (name !== 'manifest.json') return data
      const m = JSON.parse(data.toString())
      m[0].Layers[0] = 'missing.tar.gz'
      return Buffer.from(JSON.stringify(m))
    })
    const push = await runCli(['push', file, `${b.host}/t3/push:v1`])
    assert.equal(push.code, 3, push.stderr)
    assertOneLine(push.stderr, new RegExp(`${file}: manifest.json names layer "missing.tar.gz", which is not in the archive`))
    await untagged('t3/push')
  })

  it('4. an OCI layout without index.json is exit 3, pushed or copied', async () => {
    const dir = await outDir()
    const layout = path.join(dir, 'layout')
    await fsp.cp(goodLayout, layout, {recursive: true})
    await fsp.rm(path.join(layout, 'index.json'))
    const push = await runCli(['push', layout, `${b.host}/t4/push:v1`])
    assert.equal(push.code, 3, push.stderr)
    assertOneLine(push.stderr, new RegExp(`${layout} is not an OCI image layout \\(it has no index.json\\)`))
    const copy = await runCli(['copy', `oci:${layout}`, `${b.host}/t4/copy:v1`])
    assert.equal(copy.code, 3, copy.stderr)
    assertOneLine(copy.stderr, new RegExp(`oci:${layout}: .*no index.json`))
    await untagged('t4/push')
    await untagged('t4/copy')
  })

  it('5. a manifest of an unknown media type is refused before anything is pushed', async () => {
    const dir = await outDir()
    const layout = path.join(dir, 'layout')
    await fsp.cp(goodLayout, layout, {recursive: true})
    const m = JSON.parse(app.manifestBytes.toString())
    m.mediaType = 'application/x-unknown'
    const bytes = Buffer.from(JSON.stringify(m))
    await fsp.writeFile(path.join(layout, 'blobs', 'sha256', sha256(bytes).slice(7)), bytes)
    const index = {schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests: [{mediaType: 'application/x-unknown', size: bytes.length, digest: sha256(bytes), annotations: {'org.opencontainers.image.ref.name': 'v1'}}]}
    await fsp.writeFile(path.join(layout, 'index.json'), JSON.stringify(index))
    const push = await runCli(['push', layout, `${b.host}/t5/push:v1`])
    assert.equal(push.code, 2, push.stderr)
    assertOneLine(push.stderr, new RegExp(`oci:${layout}: manifest ${sha256(bytes)} has the unknown media type "application/x-unknown"`))
    assert.deepEqual(b.requests().filter((q) => q.path.startsWith('/v2/t5/') && q.method !== 'HEAD'), [], 'nothing uploaded')
    await untagged('t5/push')
  })

  it('6a. a layer that does not match its digest inside a docker tarball is exit 6', async () => {
    const dir = await outDir()
    const file = path.join(dir, 'flipped.tar')
    const layer = app.images[0].layerDigests[0].slice(7)
    await rewriteTar(goodTar, file, (name, data) => (name === `${layer}.tar.gz` ? flipMiddle(data) : data))
    const push = await runCli(['push', file, `${b.host}/t6/tar:v1`])
    assert.equal(push.code, 6, push.stderr)
    assertOneLine(push.stderr, new RegExp(`blob sha256:${layer} from docker-archive:${file}: digest mismatch`))
    const copy = await runCli(['copy', `docker-archive:${file}`, `${b.host}/t6/tar-copy:v1`])
    assert.equal(copy.code, 6, copy.stderr)
    assertOneLine(copy.stderr, /digest mismatch/)
    await untagged('t6/tar')
    await untagged('t6/tar-copy')
  })

  it('6b. a blob file that does not match its digest in an OCI layout is exit 6', async () => {
    const dir = await outDir()
    const layout = path.join(dir, 'layout')
    await fsp.cp(goodLayout, layout, {recursive: true})
    const layer = app.images[0].layerDigests[1]
    const blob = path.join(layout, 'blobs', 'sha256', layer.slice(7))
    await fsp.writeFile(blob, flipMiddle(await fsp.readFile(blob)))
    const push = await runCli(['push', layout, `${b.host}/t6/layout:v1`])
    assert.equal(push.code, 6, push.stderr)
    assertOneLine(push.stderr, new RegExp(`blob ${layer} from oci:${layout}: digest mismatch`))
    await untagged('t6/layout')
  })

  it('6c. a blob corrupted on the way from the registry: copy and pull are exit 6, leaving nothing', async () => {
    const layer = app.images[0].layerDigests[0]
    proxyA.clearFaults()
    proxyA.addFault({match: {method: 'GET', path: `/blobs/${layer}`}, action: {kind: 'corrupt'}})
    try {
      const copy = await runCli(['copy', `${proxyA.host}/src/app:v1`, `${b.host}/t6/reg:v1`])
      assert.equal(copy.code, 6, copy.stderr)
      assertOneLine(copy.stderr, new RegExp(`blob ${layer} from ${proxyA.host}/src/app:v1: digest mismatch`))
      await untagged('t6/reg')
      for (const format of ['tarball', 'oci']) {
        const dir = await outDir()
        const pull = await runCli(['pull', `${proxyA.host}/src/app:v1`, path.join(dir, 'out'), '--format', format])
        assert.equal(pull.code, 6, pull.stderr)
        assertOneLine(pull.stderr, new RegExp(`blob ${layer} from ${proxyA.host}/src/app:v1: digest mismatch`))
        await assertOnly(dir)
      }
    } finally {
      proxyA.clearFaults()
    }
  })

  it('7. an output that cannot be created is exit 1 in one line naming it', async () => {
    const missing = await runCli(['pull', `${a.host}/src/app:v1`, '/nonexistent-dir/x.tar'])
    assert.equal(missing.code, 1, missing.stderr)
    assertOneLine(missing.stderr, /cannot create \/nonexistent-dir\/x\.tar: its directory does not exist/)
    const dir = await outDir()
    await fsp.chmod(dir, 0o555)
    const probe = path.join(dir, 'probe')
    const chmodStops = await fsp.writeFile(probe, '').then(() => fsp.rm(probe).then(() => false), () => true)
    // as root chmod does not stop writes: a path under a regular file cannot be created by anyone
    let out = path.join(dir, 'x.tar')
    if (!chmodStops) {
      await fsp.chmod(dir, 0o755)
      await fsp.writeFile(path.join(dir, 'file.txt'), 'not a directory\n')
      out = path.join(dir, 'file.txt', 'x.tar')
    }
    const r = await runCli(['pull', `${a.host}/src/app:v1`, out])
    assert.equal(r.code, 1, r.stderr)
    assertOneLine(r.stderr, new RegExp(`${out.replace(/\./g, '\\.')}.*(permission denied|not a directory)`, 'i'))
    await fsp.chmod(dir, 0o755)
    await assertOnly(dir, chmodStops ? [] : ['file.txt'])
  })

  it('8. a full disk is exit 1 in one line, leaving no partial file', async (t) => {
    const dir = await outDir()
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', dir], {stdio: 'pipe'})
    } catch (e) {
      t.skip(`cannot mount a 2 MiB tmpfs here: ${String((e as {stderr?: Buffer}).stderr ?? e).trim()}`)
      return
    }
    try {
      for (const [name, format] of [['big.tar', 'tarball'], ['layout', 'oci']]) {
        const r = await runCli(['pull', `${a.host}/src/big:v1`, path.join(dir, name), '--format', format])
        assert.equal(r.code, 1, r.stderr)
        assertOneLine(r.stderr, new RegExp(`${dir}.*no space left on device`, 'i'))
        await assertOnly(dir)
      }
    } finally {
      execFileSync('umount', [dir])
    }
  })

  it('9. a source registry that goes away mid-copy is exit 5 naming it; nothing is tagged', async () => {
    const c = await startRegistry({flavour: 'plain'})
    const proxy = await startProxy({upstream: c.url})
    try {
      await pushBig(c, 'src/big:v1')
      proxy.addFault({match: {method: 'GET', path: '/blobs/', times: 2}, action: {kind: 'stall', ms: 1000}})
      const running = runCli(['copy', `${proxy.host}/src/big:v1`, `${b.host}/t9/big:v1`], {env: {OCITOOL_RETRY_BASE_MS: '10'}})
      const deadline = Date.now() + 20_000
      while (!proxy.requests().some((q) => q.fault === 'stall')) {
        assert.ok(Date.now() < deadline, 'the copy never asked for a blob')
        await new Promise((r) => setTimeout(r, 20))
      }
      await c.stop()
      const r = await running
      assert.equal(r.code, 5, r.stderr)
      // the proxy stands for the registry's address: with nothing behind it, it answers 502
      assertOneLine(r.stderr, new RegExp(`blob ${proxy.host.replace(/\./g, '\\.')}/src/big@sha256:\\w+: registry answered 502`))
      await untagged('t9/big')
    } finally {
      await proxy.stop()
      await c.stop()
    }
  })

  it('10. a copy that fails half way leaves an existing tag at its old digest', async () => {
    assert.equal(await tagDigest(b, 'keep/app', 'v1'), old.manifestDigest)
    const layer = app.images[0].layerDigests[1]
    proxyA.clearFaults()
    proxyA.addFault({match: {method: 'GET', path: `/blobs/${layer}`}, action: {kind: 'corrupt'}})
    try {
      const r = await runCli(['copy', `${proxyA.host}/src/app:v1`, `${b.host}/keep/app:v1`])
      assert.equal(r.code, 6, r.stderr)
      assertOneLine(r.stderr, /digest mismatch/)
    } finally {
      proxyA.clearFaults()
    }
    assert.equal(await tagDigest(b, 'keep/app', 'v1'), old.manifestDigest)
    // and when the destination fails: every blob upload to it ends in a 500
    const proxyB = await startProxy({upstream: b.url})
    try {
      proxyB.addFault({match: {method: 'PUT', path: '/blobs/uploads/'}, action: {kind: 'status', status: 500}})
      const r = await runCli(['copy', `${a.host}/src/big:v1`, `${proxyB.host}/keep/app:v1`], {env: {OCITOOL_RETRY_BASE_MS: '10'}})
      assert.equal(r.code, 5, r.stderr)
      assertOneLine(r.stderr, new RegExp(`${proxyB.host.replace(/\./g, '\\.')}.*500`))
    } finally {
      await proxyB.stop()
    }
    assert.equal(await tagDigest(b, 'keep/app', 'v1'), old.manifestDigest)
  })
})
