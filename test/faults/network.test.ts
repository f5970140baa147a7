// The network and the registry misbehave: dropped downloads resume with Range, dropped uploads
// restart their session, 429 Retry-After is honoured, an expired token is renewed once, a
// redirect to another host never gets Authorization, and --verbose never prints a secret.
// Complements test/commands/errors.test.ts and transfer-errors.test.ts (not repeated here).
import assert from 'node:assert/strict'
import * as fsp from 'node:fs/promises'
import * as path from 'node:path'
import {after, before, describe, it} from 'node:test'

import {runCli} from '../support/cli.js'
import {type PushedFixture, pushFixture, sha256} from '../support/fixtures.js'
import {type FaultProxy, startProxy, startRecorder} from '../support/proxy.js'
import {pushBigImage} from '../support/big-image.js'
import {type RunningRegistry, startRegistry} from '../support/registry.js'
import {type TmpDir, tmpDir} from '../support/tmp.js'

const BIG = 8 * 1024 * 1024

/** pushBig pushes an image with one incompressible 8 MiB layer: manifest digest, layer digest, layer bytes */
const pushBig = (reg: RunningRegistry, repoTag: string) => pushBigImage(reg, repoTag, 'faults-big', BIG)

/** one line, starting with "Error: ", no stack frames */
function assertOneLine(stderr: string, pattern: RegExp): void {
  const lines = stderr.split('\n').filter((l) => l !== '')
  assert.equal(lines.length, 1, `expected one line, got:\n${stderr}`)
  assert.match(lines[0], /^Error: /)
  assert.doesNotMatch(stderr, /\n\s+at /)
  assert.match(lines[0], pattern)
}

const fast = {OCITOOL_RETRY_BASE_MS: '10'}

describe('faults: plain registry behind the proxy', () => {
  let a: RunningRegistry
  let b: RunningRegistry
  let proxyA: FaultProxy
  let proxyB: FaultProxy
  let tmp: TmpDir
  let big: {digest: string; layer: string; bytes: Buffer}
  let small: PushedFixture

  before(async () => {
    ;[a, b, tmp] = await Promise.all([startRegistry({flavour: 'plain'}), startRegistry({flavour: 'plain'}), tmpDir('faults-net')])
    big = await pushBig(a, 'src/big:v1')
    small = await pushFixture(a, 'src/small:v1', 'oci', 'faults-small')
    ;[proxyA, proxyB] = await Promise.all([startProxy({upstream: a.url}), startProxy({upstream: b.url})])
  })
  after(async () => {
    await proxyA?.stop()
    await proxyB?.stop()
    await a?.stop()
    await b?.stop()
    await tmp?.remove()
  })

  it('a download dropped half way resumes with Range and the result is byte-identical', async () => {
    proxyA.clearFaults()
    proxyA.clearRequests()
    proxyA.addFault({match: {method: 'GET', path: `/blobs/${big.layer}`, nth: 1}, action: {kind: 'dropResponseAfter', bytes: 3 * 1024 * 1024}})
    const layout = path.join(tmp.path, 'resumed-layout')
    const r = await runCli(['pull', `${proxyA.host}/src/big:v1`, layout, '--format', 'oci'], {env: fast})
    assert.equal(r.code, 0, r.stderr)
    const gets = proxyA.requests().filter((q) => q.method === 'GET' && q.path.includes(`/blobs/${big.layer}`))
    assert.equal(gets.length, 2, 'one dropped GET and one resumed GET')
    assert.equal(gets[0].fault, 'dropResponseAfter')
    assert.equal(gets[0].headers.range, undefined)
    const m = /^bytes=(\d+)-$/.exec(String(gets[1].headers.range))
    assert.ok(m, `second GET asks for the rest: ${gets[1].headers.range}`)
    assert.ok(Number(m[1]) > 0 && Number(m[1]) <= 3 * 1024 * 1024, `resumes from ${m[1]}`)
    assert.ok(gets[1].bytesOut < BIG, 'the second GET did not fetch the whole blob again')
    const pulled = await fsp.readFile(path.join(layout, 'blobs', 'sha256', big.layer.slice(7)))
    assert.equal(sha256(pulled), big.layer)
    assert.ok(pulled.equals(big.bytes))
    // and a tarball pull of the same image through the same fault
    proxyA.clearFaults()
    proxyA.addFault({match: {method: 'GET', path: `/blobs/${big.layer}`, nth: 1}, action: {kind: 'dropResponseAfter', bytes: 1024 * 1024}})
    const file = path.join(tmp.path, 'resumed.tar')
    const t = await runCli(['pull', `${proxyA.host}/src/big:v1`, file], {env: fast})
    proxyA.clearFaults()
    assert.equal(t.code, 0, t.stderr)
    const d = await runCli(['digest', `docker-archive:${file}`])
    assert.equal(d.code, 0, d.stderr)
    const direct = await runCli(['digest', `${a.host}/src/big:v1`])
    assert.ok(d.stdout.trim().startsWith('sha256:'))
    assert.equal(direct.stdout.trim(), big.digest)
  })

  it('an upload dropped half way restarts its session and the pushed digest is right', async () => {
    proxyB.clearFaults()
    proxyB.clearRequests()
    proxyB.addFault({match: {method: 'PUT', path: '/blobs/uploads/', nth: 1}, action: {kind: 'dropRequestAfter', bytes: 2 * 1024 * 1024}})
    const r = await runCli(['copy', `${a.host}/src/big:v1`, `${proxyB.host}/up/big:v1`], {env: fast})
    proxyB.clearFaults()
    assert.equal(r.code, 0, r.stderr)
    const reqs = proxyB.requests()
    const dropped = reqs.find((q) => q.fault === 'dropRequestAfter')
    assert.ok(dropped, 'the fault fired')
    const posts = reqs.filter((q) => q.method === 'POST' && q.path.includes('/blobs/uploads/'))
    assert.ok(posts.some((q) => q.time > dropped.time), 'a new upload session was started after the drop')
    const d = await runCli(['digest', `${b.host}/up/big:v1`])
    assert.equal(d.stdout.trim(), big.digest)
    const blob = await runCli(['blob', `${b.host}/up/big@${big.layer}`])
    assert.equal(blob.code, 0, blob.stderr)
    assert.equal(sha256(blob.stdoutBytes), big.layer)
  })

  it('429 with Retry-After: 2 waits about 2 s before retrying, then succeeds', async () => {
    proxyA.clearFaults()
    proxyA.clearRequests()
    proxyA.addFault({match: {path: '/manifests/v1', nth: 1}, action: {kind: 'status', status: 429, headers: {'Retry-After': '2'}}})
    const r = await runCli(['digest', `${proxyA.host}/src/small:v1`], {env: fast})
    proxyA.clearFaults()
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, `${small.manifestDigest}\n`)
    const reqs = proxyA.requests().filter((q) => q.path.includes('/manifests/v1'))
    const i = reqs.findIndex((q) => q.status === 429)
    assert.ok(i >= 0 && reqs[i + 1], 'a 429 and a retry')
    const gap = reqs[i + 1].time - reqs[i].time
    assert.ok(gap >= 1900 && gap < 5000, `waited ${gap} ms`)
  })

  it('a 429 without Retry-After and 502/504 are retried with growing backoff', async () => {
    proxyA.clearFaults()
    proxyA.clearRequests()
    proxyA.addFault({match: {path: '/manifests/v1', nth: 1}, action: {kind: 'status', status: 502}})
    proxyA.addFault({match: {path: '/manifests/v1', nth: 2}, action: {kind: 'status', status: 429}})
    proxyA.addFault({match: {path: '/manifests/v1', nth: 3}, action: {kind: 'status', status: 504}})
    const r = await runCli(['digest', `${proxyA.host}/src/small:v1`], {env: {OCITOOL_RETRY_BASE_MS: '100'}})
    proxyA.clearFaults()
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, `${small.manifestDigest}\n`)
    const times = proxyA.requests().filter((q) => q.path.includes('/manifests/v1')).map((q) => q.time)
    assert.equal(times.length, 4)
    const gaps = times.slice(1).map((t, i) => t - times[i])
    assert.ok(gaps[0] >= 50, `first backoff ${gaps[0]} ms`)
    assert.ok(gaps[2] > gaps[0], `backoff grows: ${gaps.join(', ')} ms`)
  })

  it('after the retry budget a 503 names the host and the last status', async () => {
    proxyA.clearFaults()
    proxyA.clearRequests()
    proxyA.addFault({match: {path: '/manifests/v1'}, action: {kind: 'status', status: 503}})
    const r = await runCli(['digest', `${proxyA.host}/src/small:v1`], {env: {...fast, OCITOOL_RETRIES: '2'}})
    const tries = proxyA.requests().filter((q) => q.path.includes('/manifests/v1')).length
    proxyA.clearFaults()
    assert.equal(r.code, 5, r.stderr)
    assertOneLine(r.stderr, new RegExp(`${proxyA.host.replace(/\./g, '\\.')}.*503|503.*${proxyA.host.replace(/\./g, '\\.')}`))
    assert.equal(tries, 3, 'OCITOOL_RETRIES=2: one try and two retries')
  })

  it('a dropped connection on every try is exit 5 naming the host', async () => {
    proxyA.clearFaults()
    proxyA.addFault({match: {path: '/manifests/v1'}, action: {kind: 'randomFail', probability: 1, seed: 1, how: 'drop'}})
    const r = await runCli(['digest', `${proxyA.host}/src/small:v1`], {env: {...fast, OCITOOL_RETRIES: '1'}})
    proxyA.clearFaults()
    assert.equal(r.code, 5, r.stderr)
    assertOneLine(r.stderr, new RegExp(proxyA.host.replace(/\./g, '\\.')))
  })

  it('a corrupted blob through `blob` and `pull --format oci` is exit 6 and leaves no output', async () => {
    proxyA.clearFaults()
    const layer = small.images[0].layerDigests[1]
    proxyA.addFault({match: {method: 'GET', path: `/blobs/${layer}`}, action: {kind: 'corrupt', offset: 3}})
    const dir = path.join(tmp.path, 'corrupt')
    await fsp.mkdir(dir)
    const pull = await runCli(['pull', `${proxyA.host}/src/small:v1`, path.join(dir, 'layout'), '--format', 'oci'], {env: fast})
    const blob = await runCli(['blob', `${proxyA.host}/src/small@${layer}`], {env: fast})
    proxyA.clearFaults()
    assert.equal(pull.code, 6, pull.stderr)
    assertOneLine(pull.stderr, /digest mismatch/)
    assert.deepEqual(await fsp.readdir(dir), [])
    assert.equal(blob.code, 6, blob.stderr)
    assertOneLine(blob.stderr, /digest mismatch/)
  })
})

describe('faults: token registry behind the proxy', () => {
  let reg: RunningRegistry
  let backing: RunningRegistry
  let proxy: FaultProxy
  let tmp: TmpDir
  let img: PushedFixture
  const creds = () => ['--username', 'alice', '--password', reg.users.alice]

  before(async () => {
    ;[reg, backing, tmp] = await Promise.all([startRegistry({flavour: 'token'}), startRegistry({flavour: 'plain'}), tmpDir('faults-token')])
    ;[img] = await Promise.all([pushFixture(reg, 'tok/app:v1', 'oci', 'faults-token'), pushFixture(backing, 'tok/app:v1', 'oci', 'faults-token')])
    proxy = await startProxy({upstream: reg.url})
  })
  after(async () => {
    await proxy?.stop()
    await reg?.stop()
    await backing?.stop()
    await tmp?.remove()
  })

  it('a token that expires mid-pull (401 on the 3rd blob GET) is renewed once and the pull completes', async () => {
    proxy.clearFaults()
    proxy.clearRequests()
    proxy.addFault({match: {method: 'GET', path: '/blobs/', nth: 3}, action: {kind: 'unauthorized'}})
    const before = reg.tokenServer!.requests().length
    const file = path.join(tmp.path, 'renewed.tar')
    const r = await runCli(['pull', `${proxy.host}/tok/app:v1`, file, ...creds()], {env: fast})
    proxy.clearFaults()
    assert.equal(r.code, 0, r.stderr)
    assert.ok(proxy.requests().some((q) => q.fault === 'unauthorized'), 'the fault fired')
    const tokenReqs = reg.tokenServer!.requests().slice(before)
    assert.ok(tokenReqs.length >= 2, `the token was fetched and renewed (${tokenReqs.length} token requests)`)
    assert.ok(tokenReqs.length <= 3, `renewed once, not in a loop (${tokenReqs.length} token requests)`)
    const d = await runCli(['digest', `docker-archive:${file}`])
    assert.equal(d.code, 0, d.stderr)
    const gets = proxy.requests().filter((q) => q.method === 'GET' && q.path.includes('/blobs/') && q.status === 200)
    assert.equal(new Set(gets.map((q) => q.path)).size, 3, 'config and both layers arrived')
  })

  it('a token refused again after renewal is exit 4, not a loop', async () => {
    proxy.clearFaults()
    proxy.clearRequests()
    proxy.addFault({match: {method: 'GET', path: '/manifests/v1'}, action: {kind: 'unauthorized'}})
    const r = await runCli(['manifest', `${proxy.host}/tok/app:v1`, ...creds()], {env: fast})
    proxy.clearFaults()
    assert.equal(r.code, 4, r.stderr)
    assertOneLine(r.stderr, /unauthori|auth|denied|credentials/i)
    assert.ok(proxy.requests().filter((q) => q.fault === 'unauthorized').length <= 3)
  })

  for (const cmd of ['copy', 'pull'] as const) {
    it(`${cmd} through a blob redirect to another host never sends Authorization there`, async () => {
      const storage = await startRecorder({serveFrom: backing.url})
      const dst = await startRegistry({flavour: 'plain'})
      try {
        const layer = img.images[0].layerDigests[0]
        proxy.clearFaults()
        proxy.clearRequests()
        proxy.addFault({match: {method: 'GET', path: `/blobs/${layer}`}, action: {kind: 'redirect', to: `${storage.url}/v2/tok/app/blobs/${layer}`}})
        const out = cmd === 'copy' ? `${dst.host}/tok/app:v1` : path.join(tmp.path, 'redirected.tar')
        const r = await runCli([cmd, `${proxy.host}/tok/app:v1`, out, ...creds()], {env: fast})
        proxy.clearFaults()
        assert.equal(r.code, 0, r.stderr)
        const atStorage = storage.requests()
        assert.ok(atStorage.length >= 1, 'the redirect was followed')
        for (const q of atStorage) assert.equal(q.headers.authorization, undefined, 'no credentials to the other host')
        const atRegistry = proxy.requests().filter((q) => q.path.includes(`/blobs/${layer}`))
        assert.match(String(atRegistry.at(-1)?.headers.authorization), /^Bearer /, 'the registry itself got the token')
        if (cmd === 'copy') {
          const d = await runCli(['digest', out])
          assert.equal(d.stdout.trim(), img.manifestDigest)
        }
      } finally {
        await storage.stop()
        await dst.stop()
      }
    })
  }
})

describe('faults: --verbose never prints a secret', () => {
  let basic: RunningRegistry
  let token: RunningRegistry
  let basicProxy: FaultProxy
  let tokenProxy: FaultProxy
  let tmp: TmpDir
  before(async () => {
    ;[basic, token, tmp] = await Promise.all([startRegistry({flavour: 'basic'}), startRegistry({flavour: 'token'}), tmpDir('faults-secrets')])
    await Promise.all([pushFixture(basic, 'sec/app:v1', 'oci', 'faults-sec'), pushFixture(token, 'sec/app:v1', 'oci', 'faults-sec')])
    ;[basicProxy, tokenProxy] = await Promise.all([startProxy({upstream: basic.url}), startProxy({upstream: token.url})])
  })
  after(async () => {
    await basicProxy?.stop()
    await tokenProxy?.stop()
    await basic?.stop()
    await token?.stop()
    await tmp?.remove()
  })

  it('passwords, Basic credentials and issued tokens do not appear on stdout or stderr', async () => {
    const secrets = new Set<string>()
    for (const reg of [basic, token]) {
      for (const [user, pw] of Object.entries(reg.users)) {
        secrets.add(pw)
        secrets.add(Buffer.from(`${user}:${pw}`).toString('base64'))
      }
    }
    const outputs: string[] = []
    const run = async (args: string[], env: Record<string, string> = fast) => {
      const r = await runCli([...args, '--verbose'], {env})
      outputs.push(`$ ${args[0]} ${args[1]}\n${r.stdout}${r.stderr}`)
      return r
    }
    const creds = (reg: RunningRegistry) => ['--username', 'alice', '--password', reg.users.alice]
    for (const [reg, proxy] of [[basic, basicProxy], [token, tokenProxy]] as const) {
      proxy.clearFaults()
      proxy.clearRequests()
      assert.equal((await run(['digest', `${proxy.host}/sec/app:v1`, ...creds(reg)])).code, 0)
      assert.equal((await run(['pull', `${proxy.host}/sec/app:v1`, path.join(tmp.path, `${reg.flavour}.tar`), ...creds(reg)])).code, 0)
      assert.equal((await run(['copy', `${proxy.host}/sec/app:v1`, `${proxy.host}/sec/copy:v1`, ...creds(reg)])).code, 0)
      // wrong password, failing registry, expired token
      assert.notEqual((await run(['digest', `${proxy.host}/sec/app:v1`, '--username', 'alice', '--password', `${reg.users.alice}-wrong`])).code, 0)
      secrets.add(`${reg.users.alice}-wrong`)
      proxy.addFault({match: {path: '/manifests/'}, action: {kind: 'status', status: 500}})
      assert.equal((await run(['digest', `${proxy.host}/sec/app:v1`, ...creds(reg)], {...fast, OCITOOL_RETRIES: '1'})).code, 5)
      proxy.clearFaults()
      proxy.addFault({match: {path: '/manifests/'}, action: {kind: 'unauthorized'}})
      assert.equal((await run(['manifest', `${proxy.host}/sec/app:v1`, ...creds(reg)])).code, 4)
      proxy.clearFaults()
      // --password-stdin too
      const r = await runCli(['digest', `${proxy.host}/sec/app:v1`, '--username', 'alice', '--password-stdin', '--verbose'], {input: `${reg.users.alice}\n`})
      outputs.push(r.stdout + r.stderr)
      assert.equal(r.code, 0, r.stderr)
      // every token the registry was sent, captured at the proxy
      for (const q of proxy.requests()) {
        const m = /^Bearer (.+)$/.exec(String(q.headers.authorization ?? ''))
        if (m) secrets.add(m[1])
      }
    }
    assert.ok([...secrets].some((s) => s.split('.').length === 3), 'captured at least one issued JWT')
    const all = outputs.join('\n')
    assert.match(all, /GET|HEAD/, '--verbose traced requests')
    for (const s of secrets) {
      assert.ok(!all.includes(s), `secret ${s.slice(0, 12)}… printed:\n${all.split('\n').filter((l) => l.includes(s)).slice(0, 3).join('\n')}`)
      // a token's signature part alone is also secret
      const sig = s.split('.')[2]
      if (sig && sig.length > 20) assert.ok(!all.includes(sig), 'a token signature was printed')
    }
  })
})
