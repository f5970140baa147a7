// Proves test/support/proxy.ts and offline-dns.cjs against the real distribution registry,
// with node:http, fetch and got as clients (not ocitool): every fault kind does what it says,
// and a CLI started with offline-dns.cjs resolves only localhost, IPs and OCITOOL_TEST_HOSTS.

import assert from 'node:assert/strict'
import * as fs from 'node:fs'
import * as http from 'node:http'
import * as https from 'node:https'
import * as path from 'node:path'
import {after, before, beforeEach, describe, it} from 'node:test'
import {fileURLToPath} from 'node:url'
import {makeCa, makeServerCert} from '../support/certs.js'
import {run} from '../support/exec.js'
import {pushFixture, seededBytes, sha256, type PushedFixture} from '../support/fixtures.js'
import {startProxy, startRecorder, type FaultProxy, type Recorder} from '../support/proxy.js'
import {startRegistry, type RunningRegistry} from '../support/registry.js'
import {tmpDir} from '../support/tmp.js'

const root = fileURLToPath(new URL('../..', import.meta.url))
const offlineDns = path.join(root, 'test/support/offline-dns.cjs')

interface Reply {
  status: number
  headers: http.IncomingHttpHeaders
  body: Buffer
  /** Set when the request or response failed; body then holds what arrived. */
  error?: NodeJS.ErrnoException
}

/** request sends one request on a fresh connection and never rejects: failures land in `error`. */
function request(url: string, opts: {method?: string; headers?: Record<string, string>; body?: Buffer; ca?: Buffer} = {}): Promise<Reply> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    let reply: Reply = {status: 0, headers: {}, body: Buffer.alloc(0)}
    const done = (error?: Error) => resolve({...reply, body: Buffer.concat(chunks), error})
    const mod = url.startsWith('https:') ? https : http
    const req = mod.request(url, {method: opts.method ?? 'GET', headers: opts.headers, agent: false, ca: opts.ca}, (res) => {
      reply = {status: res.statusCode ?? 0, headers: res.headers, body: Buffer.alloc(0)}
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => done())
      res.on('error', done)
    })
    req.on('error', done)
    req.end(opts.body)
  })
}

const accept = 'application/vnd.oci.image.manifest.v1+json'
const started: Array<{stop(): Promise<void>}> = []
const keep = <T extends {stop(): Promise<void>}>(x: T): T => (started.push(x), x)

let reg: RunningRegistry
let proxy: FaultProxy
let recorder: Recorder
let fixture: PushedFixture
/** A 4 MiB blob pushed through the proxy; big enough to cut in the middle. */
const big = seededBytes('proxy-big-blob', 4 << 20)
const bigDigest = sha256(big)

before(async () => {
  reg = keep(await startRegistry({flavour: 'plain'}))
  fixture = await pushFixture(reg, 'proxy/oci:v1', 'oci')
  proxy = keep(await startProxy({upstream: reg.url}))
  recorder = keep(await startRecorder({serveFrom: reg.url}))
})
after(async () => {
  for (const s of started.reverse()) await s.stop()
})
beforeEach(() => proxy.clearFaults())

const blobUrl = (digest: string) => `${proxy.url}/v2/proxy/oci/blobs/${digest}`
const manifestUrl = () => `${proxy.url}/v2/proxy/oci/manifests/v1`

describe('fault proxy: forwarding', () => {
  it('passes manifests through and records requests', async () => {
    const t0 = Date.now()
    const r = await request(manifestUrl(), {headers: {accept, 'x-test': 'yes'}})
    assert.equal(r.status, 200)
    assert.deepEqual(r.body, fixture.manifestBytes)
    assert.equal(r.headers['docker-content-digest'], fixture.manifestDigest)
    const rec = proxy.requests().at(-1)!
    assert.equal(rec.method, 'GET')
    assert.equal(rec.path, '/v2/proxy/oci/manifests/v1')
    assert.equal(rec.status, 200)
    assert.equal(rec.headers['x-test'], 'yes')
    assert.equal(rec.bytesOut, fixture.manifestBytes.length)
    assert.ok(rec.time >= t0 && rec.time <= Date.now())
    assert.equal(rec.fault, undefined)
  })

  it('streams an upload and rewrites upload Locations to itself', async () => {
    const start = await request(`${proxy.url}/v2/proxy/big/blobs/uploads/`, {method: 'POST'})
    assert.equal(start.status, 202)
    const location = String(start.headers.location)
    assert.ok(location.startsWith(`${proxy.url}/v2/proxy/big/blobs/uploads/`), location)
    const put = await request(`${location}&digest=${bigDigest}`, {method: 'PUT', body: big, headers: {'content-type': 'application/octet-stream'}})
    assert.equal(put.status, 201, put.body.toString())
    assert.equal(put.headers.location, `${proxy.url}/v2/proxy/big/blobs/${bigDigest}`)
    assert.equal(proxy.requests().at(-1)!.bytesIn, big.length)
    const got = await request(`${proxy.url}/v2/proxy/big/blobs/${bigDigest}`)
    assert.equal(sha256(got.body), bigDigest)
  })
})

describe('fault proxy: faults', () => {
  const bigUrl = () => `${proxy.url}/v2/proxy/big/blobs/${bigDigest}`

  it('status: 429 with Retry-After, without contacting upstream, first `times` only', async () => {
    proxy.addFault({match: {path: '/manifests/', times: 1}, action: {kind: 'status', status: 429, headers: {'Retry-After': '2'}}})
    const first = await request(`${manifestUrl()}?try=1`, {headers: {accept}})
    assert.equal(first.status, 429)
    assert.equal(first.headers['retry-after'], '2')
    assert.equal(JSON.parse(first.body.toString()).errors[0].code, 'TOOMANYREQUESTS')
    const second = await request(`${manifestUrl()}?try=2`, {headers: {accept}})
    assert.equal(second.status, 200)
    // The access log is in order: once try=2 is there, a forwarded try=1 would be too.
    await reg.waitForRequest((q) => q.uri.endsWith('?try=2'))
    assert.equal(reg.requests().filter((q) => q.uri.endsWith('?try=1')).length, 0)
    const [a, b] = proxy.requests().slice(-2)
    assert.deepEqual([a.status, a.fault, b.status, b.fault], [429, 'status', 200, undefined])
    assert.ok(b.time >= a.time)
  })

  it('dropResponseAfter: the client gets an error after at most N bytes', async () => {
    proxy.addFault({match: {path: bigDigest}, action: {kind: 'dropResponseAfter', bytes: 100_000}})
    const r = await request(bigUrl())
    assert.equal(r.status, 200)
    assert.ok(r.error, 'expected a client error')
    assert.ok(r.body.length <= 100_000, `${r.body.length} bytes`)
    assert.equal(proxy.requests().at(-1)!.bytesOut, 100_000)
  })

  it('truncate: full Content-Length, exactly N bytes, then the connection ends', async () => {
    proxy.addFault({match: {path: bigDigest}, action: {kind: 'truncate', bytes: 1000}})
    const r = await request(bigUrl())
    assert.equal(r.headers['content-length'], String(big.length))
    assert.deepEqual(r.body, big.subarray(0, 1000))
    assert.ok(r.error, 'a premature close should be a client error')
  })

  it('corrupt: one flipped byte in the middle, headers still claim the digest', async () => {
    proxy.addFault({match: {path: bigDigest}, action: {kind: 'corrupt'}})
    const r = await request(bigUrl())
    assert.equal(r.error, undefined)
    assert.equal(r.headers['docker-content-digest'], bigDigest)
    assert.equal(r.body.length, big.length)
    assert.notEqual(sha256(r.body), bigDigest)
    const diff = [...r.body.keys()].filter((i) => r.body[i] !== big[i])
    assert.deepEqual(diff, [big.length / 2])
  })

  it('redirect to the recorder delivers the blob, and fetch drops Authorization', async () => {
    const digest = fixture.images[0].layerDigests[0]
    const bytes = fixture.images[0].blobs.get(digest)!
    proxy.addFault({match: {method: 'GET', path: `/blobs/${digest}`}, action: {kind: 'redirect', to: (p) => `${recorder.url}${p}`}})
    const seen = recorder.requests().length
    const res = await fetch(blobUrl(digest), {headers: {authorization: 'Bearer secret-token'}})
    assert.equal(res.status, 200)
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), bytes)
    assert.equal(proxy.requests().at(-1)!.status, 307)
    assert.equal(proxy.requests().at(-1)!.headers.authorization, 'Bearer secret-token')
    const [rec] = recorder.requests().slice(seen)
    assert.equal(rec.path, `/v2/proxy/oci/blobs/${digest}`)
    assert.equal(rec.headers.authorization, undefined)
    // The recorder does record Authorization when a client sends it (and still serves the blob).
    const direct = await request(`${recorder.url}/v2/proxy/oci/blobs/${digest}`, {headers: {authorization: 'Bearer leaked'}})
    assert.deepEqual(direct.body, bytes)
    assert.equal(recorder.requests().at(-1)!.headers.authorization, 'Bearer leaked')
  })

  it('html, replace and stall', async () => {
    proxy.addFault({match: {path: '/v2/', nth: 1}, action: {kind: 'html'}})
    const html = await request(`${proxy.url}/v2/`)
    assert.equal(html.status, 200)
    assert.match(String(html.headers['content-type']), /^text\/html/)
    assert.equal(html.body.toString(), '<html><body>Welcome to nginx</body></html>')

    proxy.addFault({match: {path: '/manifests/', nth: 1}, action: {kind: 'replace', body: '{}'}})
    const replaced = await request(manifestUrl(), {headers: {accept}})
    assert.equal(replaced.status, 200)
    assert.equal(replaced.body.toString(), '{}')
    assert.equal(replaced.headers['content-length'], '2')
    assert.equal(replaced.headers['docker-content-digest'], fixture.manifestDigest)

    proxy.addFault({match: {path: '/v2/', method: 'get'}, action: {kind: 'stall', ms: 300}})
    const t0 = Date.now()
    assert.equal((await request(`${proxy.url}/v2/`)).status, 200)
    assert.ok(Date.now() - t0 >= 290)
  })

  it('nth, times, method and RegExp matching', async () => {
    const statuses = async (n: number, method = 'GET') => {
      const out: number[] = []
      for (let i = 0; i < n; i++) out.push((await request(`${proxy.url}/v2/`, {method})).status)
      return out
    }
    proxy.addFault({match: {path: /^\/v2\/$/, nth: 2}, action: {kind: 'status', status: 503}})
    assert.deepEqual(await statuses(3), [200, 503, 200])
    proxy.clearFaults()
    proxy.addFault({match: {method: 'HEAD', path: '/v2/'}, action: {kind: 'status', status: 500}})
    proxy.addFault({match: {path: '/v2/', times: 2}, action: {kind: 'status', status: 502}})
    assert.deepEqual(await statuses(3), [502, 502, 200])
    assert.deepEqual(await statuses(1, 'HEAD'), [500])
  })

  it('randomFail is reproducible for a seed', async () => {
    const sequence = async () => {
      proxy.clearFaults()
      proxy.addFault({match: {path: '/v2/'}, action: {kind: 'randomFail', probability: 0.5, seed: 42}})
      const out: number[] = []
      for (let i = 0; i < 16; i++) out.push((await request(`${proxy.url}/v2/`)).status)
      return out
    }
    const a = await sequence()
    assert.deepEqual(await sequence(), a)
    assert.ok(a.includes(200) && a.includes(503), a.join(','))
    proxy.clearFaults()
    proxy.addFault({match: {path: '/v2/', nth: 1}, action: {kind: 'randomFail', probability: 1, seed: 1, how: 'drop'}})
    assert.ok((await request(`${proxy.url}/v2/`)).error)
  })

  it('dropRequestAfter: the upload connection dies without a response', async () => {
    const start = await request(`${proxy.url}/v2/proxy/drop/blobs/uploads/`, {method: 'POST'})
    proxy.addFault({match: {method: 'PUT'}, action: {kind: 'dropRequestAfter', bytes: 65_536}})
    const put = await request(`${start.headers.location}&digest=${bigDigest}`, {method: 'PUT', body: big})
    assert.ok(put.error, `expected a client error, got ${put.status}`)
    assert.equal(put.status, 0)
    const rec = proxy.requests().at(-1)!
    assert.equal(rec.error, 'dropped after 65536 request body bytes')
    assert.ok(rec.bytesIn >= 65_536)
  })
})

describe('fault proxy: token and TLS upstreams', () => {
  it('keeps the token realm, rewrites it on request, and replays it for unauthorized', async () => {
    const tokenReg = keep(await startRegistry({flavour: 'token'}))
    const realm = tokenReg.tokenServer!.realm
    const p = keep(await startProxy({upstream: tokenReg.url}))
    p.addFault({match: {path: '/manifests/', nth: 1}, action: {kind: 'unauthorized'}})
    const early = await request(`${p.url}/v2/some/repo/manifests/x`)
    assert.equal(early.status, 401)
    assert.equal(early.headers['www-authenticate'], `Bearer realm="${realm}",service="${tokenReg.tokenServer!.service}"`)
    const challenge = String((await request(`${p.url}/v2/some/repo/tags/list`)).headers['www-authenticate'])
    assert.match(challenge, new RegExp(`realm="${realm}"`))
    p.addFault({match: {path: '/manifests/'}, action: {kind: 'unauthorized'}})
    assert.equal((await request(`${p.url}/v2/other/manifests/y`)).headers['www-authenticate'], challenge)

    const tokenUrl = new URL(realm).origin
    const rewriting = keep(await startProxy({upstream: tokenReg.url, rewriteOrigins: {[tokenUrl]: 'http://127.0.0.1:9'}}))
    const r = await request(`${rewriting.url}/v2/`)
    assert.match(String(r.headers['www-authenticate']), /realm="http:\/\/127\.0\.0\.1:9\/token"/)
  })

  it('forwards to an HTTPS upstream and serves HTTPS itself', async () => {
    const tlsReg = keep(await startRegistry({flavour: 'tls'}))
    const dir = await tmpDir('proxy-tls')
    keep({stop: () => dir.remove()})
    const ca = await makeCa(dir.path, 'proxy test CA')
    const cert = await makeServerCert(dir.path, ca, 'proxy')
    const p = keep(await startProxy({upstream: tlsReg.url, upstreamCa: tlsReg.caFile, tls: {cert: cert.certFile, key: cert.keyFile}}))
    assert.ok(p.url.startsWith('https://127.0.0.1:'))
    const r = await request(`${p.url}/v2/`, {ca: fs.readFileSync(ca.certFile)})
    assert.equal(r.status, 200, r.error?.message)
    assert.equal(r.headers['docker-distribution-api-version'], 'registry/2.0')
  })
})

describe('offline-dns.cjs', () => {
  /** node runs a script in a child with the preload, from the repo root (so got resolves). */
  const node = (script: string, env: Record<string, string> = {}) =>
    run(process.execPath, ['--require', offlineDns, '--input-type=module', '-e', script], {cwd: root, env: {...process.env, ...env}, timeoutMs: 15_000})

  it('fails unknown names with a Node-shaped ENOTFOUND, quickly', async () => {
    const r = await node(`
      import dns from 'node:dns'
      const t0 = performance.now()
      dns.lookup('no-such-host.invalid', (e) => console.log(JSON.stringify({ms: performance.now() - t0, e: {...e, message: e.message}})))`)
    assert.equal(r.code, 0, r.stderr)
    const {ms, e} = JSON.parse(r.stdout)
    assert.deepEqual(e, {errno: -3008, code: 'ENOTFOUND', syscall: 'getaddrinfo', hostname: 'no-such-host.invalid', message: 'getaddrinfo ENOTFOUND no-such-host.invalid'})
    assert.ok(ms < 100, `${ms} ms`)
  })

  it('resolves OCITOOL_TEST_HOSTS names and localhost, and got reaches the registry by name', async () => {
    const port = new URL(proxy.url).port
    const r = await node(`
      import dns from 'node:dns'
      import got from 'got'
      const out = {}
      out.named = await dns.promises.lookup('reg.test')
      out.all = await new Promise((r) => dns.lookup('REG.TEST', {all: true}, (e, a) => r(a)))
      out.localhost = (await dns.promises.lookup('localhost')).address
      const res = await got('http://reg.test:${port}/v2/', {throwHttpErrors: false})
      out.status = res.statusCode
      out.other = await got('http://registry.example/v2/', {retry: {limit: 0}}).catch((e) => e.code)
      console.log(JSON.stringify(out))`, {OCITOOL_TEST_HOSTS: 'reg.test=127.0.0.1'})
    assert.equal(r.code, 0, r.stderr)
    const out = JSON.parse(r.stdout)
    assert.deepEqual(out.named, {address: '127.0.0.1', family: 4})
    assert.deepEqual(out.all, [{address: '127.0.0.1', family: 4}])
    assert.match(out.localhost, /^(127\.0\.0\.1|::1)$/)
    assert.equal(out.status, 200)
    assert.equal(out.other, 'ENOTFOUND')
    assert.equal(proxy.requests().at(-1)!.headers.host, `reg.test:${port}`)
    await reg.waitForRequest((q) => q.path === '/v2/' && q.userAgent.startsWith('got'))
  })
})
