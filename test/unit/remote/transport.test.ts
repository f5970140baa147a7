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
    const plain = Object.assign(new Error('write EPROTO 80:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:x.c:350:'), {code: 'EPROTO'})
    assert.equal(networkError(plain, 'token server h:1', 'https').message, 'token server h:1: does not speak TLS (an https URL for a plain-HTTP port?)')
    const parse = Object.assign(new Error('Parse Error: Invalid character in Content-Length'), {code: 'HPE_UNEXPECTED_CONTENT_LENGTH', reason: 'Invalid character in Content-Length'})
    assert.equal(networkError(parse, 'h:1', 'http').message, 'h:1: answered malformed HTTP (Invalid character in Content-Length)')
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

/** serve starts a node:http server on a free loopback port, for the HttpClient tests. */
async function serve(handler: Parameters<typeof import('node:http').createServer>[1]) {
  const {createServer} = await import('node:http')
  const server = createServer(handler)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const host = `127.0.0.1:${(server.address() as {port: number}).port}`
  const close = () => {
    server.closeAllConnections()
    return new Promise((resolve) => server.close(resolve))
  }
  return {host, url: `http://${host}`, close}
}

describe('HttpClient retries and a request of its own signal', () => {
  it('aborting the request ends its wait between tries: no further try, an InterruptedError', async () => {
    const {HttpClient} = await import('../../../src/lib/remote/transport/http.js')
    const {InterruptedError} = await import('../../../src/lib/errors.js')
    let seen = 0
    const stop = new AbortController()
    const server = await serve((_req, res) => {
      seen++
      res.writeHead(503, {'content-length': '0'}).end()
      setTimeout(() => stop.abort(), 20)
    })
    const client = new HttpClient({retryBaseMs: 10_000})
    try {
      await assert.rejects(client.send({method: 'GET', url: `${server.url}/v2/`, signal: stop.signal}), (e) => e instanceof InterruptedError)
      assert.equal(seen, 1)
    } finally {
      client.close()
      await server.close()
    }
  })
})

describe('HttpClient and the operation signal', () => {
  it('finished requests leave no abort listener on the signal (one for the client)', async () => {
    const {getEventListeners} = await import('node:events')
    const {HttpClient, drain, readBody} = await import('../../../src/lib/remote/transport/http.js')
    const {url, close} = await serve((req, res) => res.writeHead(200, {'content-length': '2'}).end(req.method === 'HEAD' ? undefined : 'ok'))
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
      await close()
    }
  })

  it("the client's signal ends a request in flight with an InterruptedError", async () => {
    const {HttpClient} = await import('../../../src/lib/remote/transport/http.js')
    const {InterruptedError} = await import('../../../src/lib/errors.js')
    const stop = new AbortController()
    const {url, close} = await serve(() => setTimeout(() => stop.abort(), 20)) // never answers
    const client = new HttpClient({signal: stop.signal})
    try {
      await assert.rejects(client.send({method: 'GET', url: `${url}/v2/`}), (e) => e instanceof InterruptedError)
    } finally {
      client.close()
      await close()
    }
  })
})

describe('HttpClient on node:http: redirects, bodies, headers', () => {
  const readAll = async (r: import('node:stream').Readable) => {
    const parts: Buffer[] = []
    for await (const c of r) parts.push(c as Buffer)
    return Buffer.concat(parts).toString()
  }

  it('follows a redirect to another host without Authorization, and names the final URL', async () => {
    const {HttpClient} = await import('../../../src/lib/remote/transport/http.js')
    const seen: Array<{where: string; auth?: string; ua?: string}> = []
    const storage = await serve((req, res) => {
      seen.push({where: 'storage', auth: req.headers.authorization, ua: req.headers['user-agent']})
      res.end('blob bytes')
    })
    const registry = await serve((req, res) => {
      seen.push({where: 'registry', auth: req.headers.authorization})
      if (req.url === '/v2/a/blobs/x') res.writeHead(307, {location: '/v2/a/blobs/y'}).end()
      else res.writeHead(302, {location: `${storage.url}/data?sig=1`}).end()
    })
    const client = new HttpClient({userAgent: 'ocitool-test'})
    try {
      const res = await client.send({method: 'GET', url: `${registry.url}/v2/a/blobs/x`, authorization: {origin: registry.url, value: 'Bearer secret'}})
      assert.equal(res.status, 200)
      assert.equal(res.url, `${storage.url}/data?sig=1`)
      assert.equal(await readAll(res.body), 'blob bytes')
      assert.deepEqual(seen, [
        {where: 'registry', auth: 'Bearer secret'},
        {where: 'registry', auth: 'Bearer secret'},
        {where: 'storage', auth: undefined, ua: 'ocitool-test'},
      ])
    } finally {
      client.close()
      await Promise.all([registry.close(), storage.close()])
    }
  })

  it('stops after 10 redirects; does not follow one for a streamed body; 303 becomes a GET', async () => {
    const {HttpClient} = await import('../../../src/lib/remote/transport/http.js')
    const {Readable} = await import('node:stream')
    const methods: string[] = []
    const {url, close} = await serve((req, res) => {
      methods.push(`${req.method} ${req.url} ${req.headers['content-length'] ?? '-'}`)
      if (req.method === 'GET') assert.equal(req.headers['content-type'], undefined)
      req.resume()
      if (req.url === '/loop') res.writeHead(302, {location: '/loop'}).end()
      else if (req.url === '/see-other') res.writeHead(303, {location: '/done'}).end()
      else if (req.url === '/moved') res.writeHead(307, {location: '/done'}).end()
      else if (req.url === '/bad') res.writeHead(302, {location: 'http://[bad'}).end()
      else res.end('done')
    })
    const client = new HttpClient()
    try {
      await assert.rejects(client.send({method: 'GET', url: `${url}/loop`, retry: false}), (e: NodeJS.ErrnoException) => e.code === 'ERR_TOO_MANY_REDIRECTS')
      assert.equal(methods.length, 11)
      await assert.rejects(client.send({method: 'GET', url: `${url}/bad`, retry: false}), (e: NodeJS.ErrnoException) => e.code === 'ERR_BAD_REDIRECT')
      methods.length = 0
      const streamed = await client.send({method: 'PUT', url: `${url}/moved`, body: () => Readable.from([Buffer.from('abc')]), headers: {'content-length': '3'}, retry: false})
      assert.equal(streamed.status, 307)
      streamed.body.resume()
      const replayed = await client.send({method: 'PUT', url: `${url}/moved`, body: Buffer.from('abcd')})
      assert.equal(replayed.status, 200)
      replayed.body.resume()
      const seeOther = await client.send({method: 'POST', url: `${url}/see-other`})
      assert.equal(await readAll(seeOther.body), 'done')
      const withBody = await client.send({method: 'POST', url: `${url}/see-other`, body: Buffer.from('{}'), headers: {'content-type': 'application/json', 'content-length': '2'}})
      assert.equal(await readAll(withBody.body), 'done')
      assert.deepEqual(methods, ['PUT /moved 3', 'PUT /moved 4', 'PUT /done 4', 'POST /see-other 0', 'GET /done -', 'POST /see-other 2', 'GET /done -'])
    } finally {
      client.close()
      await close()
    }
  })
})

describe('HttpClient timeouts', () => {
  it('a server silent before its answer, or in the middle of a body, fails with ETIMEDOUT', async () => {
    const {HttpClient} = await import('../../../src/lib/remote/transport/http.js')
    const {url, close} = await serve((req, res) => {
      if (req.url === '/body') {
        res.writeHead(200, {'content-length': '100'})
        res.write('partial')
      } // otherwise: no answer at all
    })
    const client = new HttpClient({idleTimeoutMs: 150})
    try {
      await assert.rejects(client.send({method: 'GET', url: `${url}/silent`, retry: false}), (e: NodeJS.ErrnoException) => e.code === 'ETIMEDOUT' && /nothing received/.test(e.message))
      const res = await client.send({method: 'GET', url: `${url}/body`, retry: false})
      assert.equal(res.status, 200)
      await assert.rejects(
        (async () => {
          for await (const _ of res.body) {
            // read until it fails
          }
        })(),
        (e: NodeJS.ErrnoException) => e.code === 'ETIMEDOUT',
      )
    } finally {
      client.close()
      await close()
    }
  })
})

describe('HttpClient: where a redirect may lead (issue 12)', () => {
  it('a redirect to file:, ftp: or data: fails with ERR_BAD_REDIRECT instead of throwing in a callback', async () => {
    const {HttpClient, failedUrl} = await import('../../../src/lib/remote/transport/http.js')
    const targets = ['file:///etc/passwd', 'ftp://127.0.0.1/x', 'data:,hi', 'javascript:1']
    const {url, host, close} = await serve((req, res) => res.writeHead(307, {location: targets[Number(req.url?.slice(1))]}).end())
    const client = new HttpClient()
    try {
      for (const [i, t] of targets.entries()) {
        await assert.rejects(client.send({method: 'GET', url: `${url}/${i}`, retry: false}), (e: NodeJS.ErrnoException) => {
          assert.equal(e.code, 'ERR_BAD_REDIRECT')
          assert.match(e.message, new RegExp(`redirected GET to a ${t.split(':')[0]}: URL`))
          assert.equal(new URL(failedUrl(e)!).host, host)
          return true
        })
      }
    } finally {
      client.close()
      await close()
    }
  })

  it('a body holding credentials follows a redirect within its origin only', async () => {
    const {HttpClient, failedUrl} = await import('../../../src/lib/remote/transport/http.js')
    const elsewhere: string[] = []
    const other = await serve((req, res) => {
      req.on('data', (c: Buffer) => elsewhere.push(c.toString()))
      req.on('end', () => res.end('{"token":"stolen"}'))
    })
    const bodies: string[] = []
    const realm = await serve((req, res) => {
      let body = ''
      req.on('data', (c: Buffer) => (body += c.toString()))
      req.on('end', () => {
        bodies.push(`${req.url} ${body}`)
        if (req.url === '/token') res.writeHead(308, {location: '/token/'}).end()
        else if (req.url === '/away') res.writeHead(307, {location: `${other.url}/token`}).end()
        else res.end('{"token":"ok"}')
      })
    })
    const client = new HttpClient()
    const form = 'grant_type=password&username=alice&password=secret'
    try {
      const same = await client.send({method: 'POST', url: `${realm.url}/token`, body: form, secretBody: true, retry: false})
      assert.equal(same.status, 200)
      same.body.resume()
      await assert.rejects(client.send({method: 'POST', url: `${realm.url}/away`, body: form, secretBody: true, retry: false}), (e: NodeJS.ErrnoException) => {
        assert.equal(e.code, 'ERR_CREDENTIAL_REDIRECT')
        assert.match(e.message, new RegExp(`carrying credentials to ${other.url}`))
        assert.equal(new URL(failedUrl(e)!).host, realm.host)
        return true
      })
      assert.deepEqual(elsewhere, [])
      assert.deepEqual(bodies, [`/token ${form}`, `/token/ ${form}`, `/away ${form}`])
      // without the mark, a replayable body follows a 307 anywhere (an upload to storage)
      const plain = await client.send({method: 'PUT', url: `${realm.url}/away`, body: 'blob bytes', retry: false})
      assert.equal(plain.status, 200)
      plain.body.resume()
      assert.deepEqual(elsewhere, ['blob bytes'])
    } finally {
      client.close()
      await Promise.all([realm.close(), other.close()])
    }
  })

  it('failedUrl names the last hop: a redirect to a closed port', async () => {
    const {HttpClient, failedUrl} = await import('../../../src/lib/remote/transport/http.js')
    const {freePort} = await import('../../support/registry.js')
    const closed = await freePort()
    const {url, close} = await serve((_req, res) => res.writeHead(302, {location: `http://127.0.0.1:${closed}/data`}).end())
    const client = new HttpClient()
    try {
      await assert.rejects(client.send({method: 'GET', url: `${url}/v2/x/blobs/y`, retry: false}), (e: NodeJS.ErrnoException) => {
        assert.equal(e.code, 'ECONNREFUSED')
        assert.equal(failedUrl(e), `http://127.0.0.1:${closed}/data`)
        return true
      })
    } finally {
      client.close()
      await close()
    }
  })
})
