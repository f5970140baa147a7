// Unit tables for the transport's pure parts: WWW-Authenticate parsing, scope merging, Link
// pagination, the error envelope, Retry-After and redaction.
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {parseChallenges, pickChallenge} from '../../../src/lib/remote/transport/challenge.js'
import {envelopeText, networkError, parseEnvelope, statusError} from '../../../src/lib/remote/transport/errors.js'
import {redactUrl, retryAfterMs} from '../../../src/lib/remote/transport/http.js'
import {covers, mergeScopes, repositoryScope} from '../../../src/lib/remote/transport/scope.js'
import {nextLink} from '../../../src/lib/remote/registry.js'
import {ExitCode} from '../../../src/lib/errors.js'

describe('parseChallenges', () => {
  const cases: Array<{in: string | string[]; want: Array<{scheme: string; params: Record<string, string>}>}> = [
    {in: 'Basic realm="registry"', want: [{scheme: 'basic', params: {realm: 'registry'}}]},
    {
      in: 'Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:a/b:pull"',
      want: [{scheme: 'bearer', params: {realm: 'https://auth.example.com/token', service: 'registry.example.com', scope: 'repository:a/b:pull'}}],
    },
    {
      in: 'Basic realm="x", Bearer realm="https://t/token",service=svc',
      want: [
        {scheme: 'basic', params: {realm: 'x'}},
        {scheme: 'bearer', params: {realm: 'https://t/token', service: 'svc'}},
      ],
    },
    {in: ['Basic realm="a"', 'Bearer realm="b"'], want: [{scheme: 'basic', params: {realm: 'a'}}, {scheme: 'bearer', params: {realm: 'b'}}]},
    {in: 'BEARER Realm="q\\"uoted", error="insufficient_scope"', want: [{scheme: 'bearer', params: {realm: 'q"uoted', error: 'insufficient_scope'}}]},
    {in: 'Bearer realm="a,b",scope="repository:x:pull,push"', want: [{scheme: 'bearer', params: {realm: 'a,b', scope: 'repository:x:pull,push'}}]},
    {in: '', want: []},
  ]
  for (const c of cases) it(JSON.stringify(c.in), () => assert.deepEqual(parseChallenges(c.in), c.want))
  it('prefers Bearer over Basic', () => assert.equal(pickChallenge(parseChallenges('Basic realm="x", Bearer realm="y"'))?.scheme, 'bearer'))
  it('ignores unknown schemes', () => assert.equal(pickChallenge(parseChallenges('Negotiate abc')), undefined))
})

describe('scopes', () => {
  it('merges actions per resource, sorted', () => {
    assert.deepEqual(mergeScopes(['repository:a:pull', 'repository:b:pull', 'repository:a:push', 'repository:a:pull']), ['repository:a:pull,push', 'repository:b:pull'])
  })
  it('covers', () => {
    assert.ok(covers(['repository:a:pull,push'], ['repository:a:pull']))
    assert.ok(!covers(['repository:a:pull'], ['repository:a:push']))
    assert.ok(!covers(['repository:a:pull'], ['repository:b:pull']))
    assert.ok(covers(['registry:catalog:*'], ['registry:catalog:*']))
    assert.ok(covers(['repository:a:*'], ['repository:a:delete']))
  })
  it('repositoryScope', () => assert.equal(repositoryScope('x/y', 'pull', 'push'), 'repository:x/y:pull,push'))
})

describe('nextLink', () => {
  const cases = [
    {in: '</v2/x/tags/list?n=2&last=b>; rel="next"', want: '/v2/x/tags/list?n=2&last=b'},
    {in: '<https://r/v2/_catalog?last=z&n=100>; rel=next', want: 'https://r/v2/_catalog?last=z&n=100'},
    {in: '</a>; rel="prev", </b>; rel="next"', want: '/b'},
    {in: '</a>; rel="prev"', want: undefined},
    {in: undefined, want: undefined},
  ]
  for (const c of cases) it(String(c.in), () => assert.equal(nextLink(c.in), c.want))
})

describe('registry errors', () => {
  const ctx = {registry: 'r:5000', subject: 'r:5000/app:1', what: 'manifest'}
  const req = {method: 'GET', path: '/v2/app/manifests/1'}
  const body = (errors: unknown) => Buffer.from(JSON.stringify({errors}))
  it('reads the envelope as sent', () => {
    const e = parseEnvelope(body([{code: 'MANIFEST_UNKNOWN', message: 'manifest unknown', detail: {Tag: '1'}}]))
    assert.equal(envelopeText(e), 'MANIFEST_UNKNOWN: manifest unknown')
    assert.equal(parseEnvelope(Buffer.from('<html>')), undefined)
  })
  const cases = [
    {status: 404, body: body([{code: 'MANIFEST_UNKNOWN', message: 'manifest unknown'}]), exit: ExitCode.NotFound, msg: 'manifest r:5000/app:1: not found (MANIFEST_UNKNOWN: manifest unknown)'},
    {status: 404, body: body([{code: 'NAME_UNKNOWN', message: 'repository name not known to registry'}]), exit: ExitCode.NotFound, msg: 'manifest r:5000/app:1: not found (NAME_UNKNOWN: repository name not known to registry)'},
    {status: 401, body: undefined, exit: ExitCode.Auth, msg: 'unauthorized: r:5000/app:1: authentication required (ocitool auth login r:5000)'},
    {status: 403, body: body([{code: 'DENIED', message: 'requested access to the resource is denied'}]), exit: ExitCode.Auth, msg: 'denied: r:5000/app:1: your credentials do not allow GET /v2/app/manifests/1 (DENIED: requested access to the resource is denied)'},
    {status: 500, body: Buffer.from('oops'), exit: ExitCode.Registry, msg: 'manifest r:5000/app:1: registry answered 500 to GET /v2/app/manifests/1'},
    {status: 200, body: Buffer.from('<html></html>'), type: 'text/html', exit: ExitCode.Registry, msg: 'r:5000: answered 200 with an HTML page to GET /v2/app/manifests/1: is this a registry?'},
  ]
  for (const c of cases) {
    it(`${c.status} ${c.msg.slice(0, 30)}`, () => {
      const e = statusError(c.status, c.body, c.type, ctx, req)
      assert.equal(e.exitCode, c.exit)
      assert.equal(e.message, c.msg)
    })
  }
  it('network errors name the host', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), {code: 'ECONNREFUSED'})
    assert.equal(networkError(refused, '127.0.0.1:1', 'https').message, '127.0.0.1:1: connection refused')
    const unknown = Object.assign(new Error('getaddrinfo ENOTFOUND x.invalid'), {code: 'ENOTFOUND'})
    assert.equal(networkError(unknown, 'x.invalid', 'https').message, 'x.invalid: unknown host')
    const tls = Object.assign(new Error('self signed'), {code: 'SELF_SIGNED_CERT_IN_CHAIN'})
    assert.equal(networkError(tls, 'h', 'https').exitCode, ExitCode.Registry)
  })
})

describe('retryAfterMs and redactUrl', () => {
  it('seconds and dates', () => {
    assert.equal(retryAfterMs('2'), 2000)
    assert.equal(retryAfterMs(undefined), undefined)
    const inFive = new Date(Date.now() + 5000).toUTCString()
    const ms = retryAfterMs(inFive)!
    assert.ok(ms > 3000 && ms <= 5000, String(ms))
    assert.equal(retryAfterMs('soon'), undefined)
  })
  it('hides passwords and token-like query parameters', () => {
    assert.equal(redactUrl('https://u:secret@h/v2/?access_token=abc&n=1'), 'https://u:REDACTED@h/v2/?access_token=REDACTED&n=1')
  })
})

describe('HttpClient retries and a request of its own signal', () => {
  it('aborting the request ends its wait between tries: no further try, an InterruptedError', async () => {
    const {createServer} = await import('node:http')
    const {HttpClient} = await import('../../../src/lib/remote/transport/http.js')
    const {InterruptedError} = await import('../../../src/lib/errors.js')
    let seen = 0
    const stop = new AbortController()
    const server = createServer((_req, res) => {
      seen++
      res.writeHead(503, {'content-length': '0'}).end()
      setTimeout(() => stop.abort(), 20)
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const client = new HttpClient({retryBaseMs: 10_000})
    try {
      const port = (server.address() as {port: number}).port
      await assert.rejects(client.send({method: 'GET', url: `http://127.0.0.1:${port}/v2/`, signal: stop.signal}), (e) => e instanceof InterruptedError)
      assert.equal(seen, 1)
    } finally {
      client.close()
      await new Promise((resolve) => server.close(resolve))
    }
  })
})

describe('HttpClient and the operation signal', () => {
  const serve = async (handler: Parameters<typeof import('node:http').createServer>[1]) => {
    const {createServer} = await import('node:http')
    const server = createServer(handler)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    return {server, url: `http://127.0.0.1:${(server.address() as {port: number}).port}`}
  }

  it('finished requests leave no abort listener on the signal (one for the client)', async () => {
    const {getEventListeners} = await import('node:events')
    const {HttpClient, drain, readBody} = await import('../../../src/lib/remote/transport/http.js')
    const {server, url} = await serve((req, res) => res.writeHead(200, {'content-length': '2'}).end(req.method === 'HEAD' ? undefined : 'ok'))
    const stop = new AbortController()
    const client = new HttpClient({signal: stop.signal})
    try {
      for (let i = 0; i < 40; i++) {
        const res = await client.send({method: i % 2 ? 'HEAD' : 'GET', url: `${url}/v2/x/blobs/${i}`})
        if (i % 4 === 0) assert.equal((await readBody(res.body, 10, 'body')).toString(), 'ok')
        else await drain(res.body)
      }
      const put = await client.send({method: 'PUT', url: `${url}/v2/x/manifests/t`, body: Buffer.from('{}')})
      await drain(put.body)
      assert.equal(getEventListeners(stop.signal, 'abort').length, 1)
    } finally {
      client.close()
      await new Promise((resolve) => server.close(resolve))
    }
  })

  it("the client's signal ends a request in flight with an InterruptedError", async () => {
    const {HttpClient} = await import('../../../src/lib/remote/transport/http.js')
    const {InterruptedError} = await import('../../../src/lib/errors.js')
    const stop = new AbortController()
    const {server, url} = await serve(() => setTimeout(() => stop.abort(), 20)) // never answers
    const client = new HttpClient({signal: stop.signal})
    try {
      await assert.rejects(client.send({method: 'GET', url: `${url}/v2/`}), (e) => e instanceof InterruptedError)
    } finally {
      client.close()
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    }
  })
})
