// Bad input and misbehaving registries: each case exits with the code of its class and says so
// in one line on stderr, with no stack trace. Faults come from the test proxy in front of the
// real registry; names resolve offline (test/support/offline-dns.cjs), so nothing leaves loopback.
import assert from 'node:assert/strict'
import {createServer} from 'node:net'
import {after, before, describe, it} from 'node:test'
import {runCli} from '../support/cli.js'
import {type PushedFixture, pushFixture} from '../support/fixtures.js'
import {type FaultProxy, startProxy} from '../support/proxy.js'
import {type RunningRegistry, startRegistry} from '../support/registry.js'

/** one line, starting with "Error: ", no stack frames */
function assertOneLine(stderr: string, pattern: RegExp): void {
  const lines = stderr.split('\n').filter((l) => l !== '')
  assert.equal(lines.length, 1, `expected one line, got:\n${stderr}`)
  assert.match(lines[0], /^Error: /)
  assert.doesNotMatch(stderr, /\n\s+at /)
  assert.match(lines[0], pattern)
}

async function closedPort(): Promise<number> {
  const srv = createServer()
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))
  const port = (srv.address() as {port: number}).port
  await new Promise((r) => srv.close(r))
  return port
}

describe('bad input and failing registries', () => {
  let reg: RunningRegistry
  let proxy: FaultProxy
  let img: PushedFixture
  before(async () => {
    reg = await startRegistry({flavour: 'plain'})
    img = await pushFixture(reg, 'bad/app:v1', 'oci', 'errors')
    proxy = await startProxy({upstream: reg.url})
  })
  after(async () => {
    await proxy?.stop()
    await reg?.stop()
  })

  const malformed = ['UPPER/case:tag', 'repo@sha256:abc', 'a//b', 'repo:', ':tag', 'repo with space', 'répo', `${'a'.repeat(256)}`, 'host:99999/x', 'repo@md5:d41d8cd98f00b204e9800998ecf8427e']
  for (const input of malformed) {
    it(`malformed reference ${JSON.stringify(input.slice(0, 40))} is exit 2`, async () => {
      const r = await runCli(['digest', input])
      assert.equal(r.code, 2)
      assertOneLine(r.stderr, /invalid reference/)
    })
  }

  it('a bad flag value is exit 2 in one line', async () => {
    const r = await runCli(['manifest', `${reg.host}/bad/app:v1`, '--platform', 'linux/amd64/v8/extra'])
    assert.equal(r.code, 2)
    assertOneLine(r.stderr, /platform/)
    const missing = await runCli(['manifest'])
    assert.equal(missing.code, 2)
    assertOneLine(missing.stderr, /missing .*arg|image/i)
  })

  it('unknown host is exit 5 "unknown host"', async () => {
    const r = await runCli(['digest', 'no-such-registry.example.invalid/app:v1'])
    assert.equal(r.code, 5)
    assertOneLine(r.stderr, /^Error: no-such-registry\.example\.invalid: unknown host$/)
  })

  it('connection refused is exit 5 naming host and port', async () => {
    const port = await closedPort()
    const r = await runCli(['digest', `127.0.0.1:${port}/app:v1`])
    assert.equal(r.code, 5)
    assertOneLine(r.stderr, new RegExp(`^Error: 127\\.0\\.0\\.1:${port}: connection refused`))
  })

  it('a tag that does not exist is exit 3 with the registry\'s code', async () => {
    const r = await runCli(['manifest', `${reg.host}/bad/app:nope`])
    assert.equal(r.code, 3)
    assertOneLine(r.stderr, new RegExp(`^Error: manifest ${reg.host}/bad/app:nope: not found \\(MANIFEST_UNKNOWN: manifest unknown\\)$`))
  })

  it('a repository that does not exist is exit 3', async () => {
    const r = await runCli(['ls', `${reg.host}/no/such/repo`])
    assert.equal(r.code, 3)
    assertOneLine(r.stderr, /no\/such\/repo: not found \(NAME_UNKNOWN: repository name not known to registry\)/)
  })

  it('manifest bytes that do not match Docker-Content-Digest are exit 6', async () => {
    const tampered = Buffer.from(img.manifestBytes.toString().replace('"schemaVersion":2', '"schemaVersion": 2'))
    proxy.clearFaults()
    proxy.addFault({match: {method: 'GET', path: '/manifests/v1'}, action: {kind: 'replace', body: tampered}})
    const r = await runCli(['manifest', `${proxy.host}/bad/app:v1`])
    proxy.clearFaults()
    assert.equal(r.code, 6)
    assertOneLine(r.stderr, new RegExp(`bytes hash to sha256:[a-f0-9]{64} but Docker-Content-Digest says ${img.manifestDigest}`))
    assert.equal(r.stdout, '', 'nothing printed')
  })

  it('a registry that answers HTML is exit 5 "is this a registry?"', async () => {
    proxy.clearFaults()
    proxy.addFault({match: {path: '/v2/bad'}, action: {kind: 'html'}})
    const r = await runCli(['manifest', `${proxy.host}/bad/app:v1`])
    proxy.clearFaults()
    assert.equal(r.code, 5)
    assertOneLine(r.stderr, /HTML|not a (manifest|registry)|is this a registry/i)
  })

  it('a blob whose bytes do not match its digest is exit 6', async () => {
    const layer = img.images[0].layerDigests[0]
    proxy.clearFaults()
    proxy.addFault({match: {method: 'GET', path: `/blobs/${layer}`}, action: {kind: 'corrupt'}})
    const r = await runCli(['blob', `${proxy.host}/bad/app@${layer}`])
    proxy.clearFaults()
    assert.equal(r.code, 6)
    assertOneLine(r.stderr, new RegExp(`blob ${proxy.host}/bad/app@${layer}: digest mismatch`))
  })

  it('a 500 that persists is exit 5 after retries, naming the status', async () => {
    proxy.clearFaults()
    proxy.clearRequests()
    proxy.addFault({match: {path: '/manifests/v1'}, action: {kind: 'status', status: 500}})
    const r = await runCli(['manifest', `${proxy.host}/bad/app:v1`], {env: {OCITOOL_RETRY_BASE_MS: '10'}})
    const tries = proxy.requests().filter((q) => q.path.includes('/manifests/v1') && q.fault).length
    proxy.clearFaults()
    assert.equal(r.code, 5)
    assertOneLine(r.stderr, /registry answered 500 to GET \/v2\/bad\/app\/manifests\/v1/)
    assert.equal(tries, 5, 'one try and four retries')
  })

  it('a 503 that clears up is retried and succeeds', async () => {
    proxy.clearFaults()
    proxy.addFault({match: {path: '/manifests/v1', times: 2}, action: {kind: 'status', status: 503}})
    const r = await runCli(['digest', `${proxy.host}/bad/app:v1`], {env: {OCITOOL_RETRY_BASE_MS: '10'}})
    proxy.clearFaults()
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, `${img.manifestDigest}\n`)
  })
})

describe('registry warnings and redirects', () => {
  let reg: RunningRegistry
  let proxy: FaultProxy
  let img: PushedFixture
  before(async () => {
    reg = await startRegistry({flavour: 'basic'})
    img = await pushFixture(reg, 'warn/app:v1', 'oci', 'warnings')
    proxy = await startProxy({upstream: reg.url})
  })
  after(async () => {
    await proxy?.stop()
    await reg?.stop()
  })
  const creds = () => ['--username', 'alice', '--password', reg.users.alice]

  it('a registry Warning header is shown once on stderr, and the command still succeeds', async () => {
    proxy.clearFaults()
    proxy.addFault({match: {path: '/v2/warn/'}, action: {kind: 'replace', body: img.manifestBytes, headers: {warning: '299 - "this registry is deprecated; move to reg2"', 'docker-content-digest': img.manifestDigest}}})
    const r = await runCli(['manifest', `${proxy.host}/warn/app:v1`, ...creds()])
    proxy.clearFaults()
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(r.stdoutBytes, img.manifestBytes)
    assert.equal(r.stderr, `Warning: ${proxy.host}: this registry is deprecated; move to reg2\n`)
  })

  it('a blob redirect to another host is followed without sending Authorization there', async () => {
    const {startRecorder} = await import('../support/proxy.js')
    // "blob storage": a plain registry holding the same deterministic fixture, behind a recorder
    const backing = await startRegistry({flavour: 'plain'})
    await pushFixture(backing, 'warn/app:v1', 'oci', 'warnings')
    const storage = await startRecorder({serveFrom: backing.url})
    try {
      const layer = img.images[0].layerDigests[0]
      proxy.clearFaults()
      proxy.addFault({match: {method: 'GET', path: `/blobs/${layer}`}, action: {kind: 'redirect', to: `${storage.url}/v2/warn/app/blobs/${layer}`}})
      const r = await runCli(['blob', `${proxy.host}/warn/app@${layer}`, ...creds()])
      proxy.clearFaults()
      assert.equal(r.code, 0, r.stderr)
      assert.deepEqual(r.stdoutBytes, img.images[0].blobs.get(layer))
      const atStorage = storage.requests()
      assert.equal(atStorage.length, 1)
      assert.equal(atStorage[0].headers.authorization, undefined, 'no credentials to the other host')
      const atRegistry = proxy.requests().filter((q) => q.path.includes(`/blobs/${layer}`))
      assert.match(String(atRegistry.at(-1)?.headers.authorization), /^Basic /, 'the registry itself got them')
    } finally {
      await storage.stop()
      await backing.stop()
    }
  })
})
