// Issue 12, items 2, 3, 8 (second part) and 9: where a registry, its token realm or a redirect
// may send a request, and what a failure then names. Hostile servers on loopback play the
// registry, the realm or a storage host; items 2 and 9 run against the real registry (token and
// TLS flavours) with only the realm or the upload Location made hostile.
import assert from 'node:assert/strict'
import * as fsp from 'node:fs/promises'
import * as https from 'node:https'
import * as path from 'node:path'
import {after, before, describe, it} from 'node:test'

import {runCli} from '../support/cli.js'
import {sha256} from '../support/fixtures.js'
import {type HostileServer, startHostileServer} from '../support/hostile-server.js'
import {freePort, type RunningRegistry, startRegistry} from '../support/registry.js'
import {type TmpDir, tmpDir} from '../support/tmp.js'

const fast = {env: {OCITOOL_RETRIES: '0'}, timeoutMs: 30_000}
const zero = `sha256:${'0'.repeat(64)}`

function assertOneLine(stderr: string, pattern: RegExp): string {
  const lines = stderr.split('\n').filter((l) => l !== '')
  assert.equal(lines.length, 1, `expected one line, got:\n${stderr}`)
  assert.doesNotMatch(stderr, /\n\s+at |TypeError|Invalid URL/)
  assert.match(lines[0], /^Error: /)
  assert.match(lines[0], pattern)
  return lines[0]
}

const json = (res: import('node:http').ServerResponse, status: number, doc: unknown, headers: Record<string, string> = {}) =>
  res.writeHead(status, {'content-type': 'application/json', ...headers}).end(JSON.stringify(doc))

describe('issue 12 item 3: a redirect or next page to a non-http URL', () => {
  let reg: HostileServer
  before(async () => {
    reg = await startHostileServer((req, res) => {
      const u = new URL(req.url ?? '/', 'http://x')
      if (u.pathname === '/v2/') return json(res, 200, {}, {'docker-distribution-api-version': 'registry/2.0'})
      if (u.pathname.startsWith('/v2/file/')) return res.writeHead(307, {location: 'file:///etc/passwd'}).end()
      if (u.pathname.startsWith('/v2/ftp/')) return res.writeHead(302, {location: 'ftp://127.0.0.1/x'}).end()
      if (u.pathname === '/v2/link/tags/list') return json(res, 200, {name: 'link', tags: ['a']}, {link: '<file:///etc/passwd>; rel="next"'})
      if (u.pathname === '/v2/badlink/tags/list') return json(res, 200, {name: 'badlink', tags: ['a']}, {link: '<http://[bad>; rel="next"'})
      if (u.pathname === '/v2/rel/tags/list') {
        // an absolute-path link, then a path-relative one, then the end
        const last = u.searchParams.get('last')
        if (!last) return json(res, 200, {name: 'rel', tags: ['a']}, {link: '</v2/rel/tags/list?last=a&n=1000>; rel="next"'})
        if (last === 'a') return json(res, 200, {name: 'rel', tags: ['b']}, {link: '<list?last=b&n=1000>; rel="next"'})
        return json(res, 200, {name: 'rel', tags: ['c']})
      }
      json(res, 404, {errors: [{code: 'NAME_UNKNOWN', message: 'no'}]})
    })
  })
  after(() => reg.close())

  for (const repo of ['file', 'ftp']) {
    const scheme = repo === 'file' ? 'file' : 'ftp'
    for (const args of [['manifest', `${repo}:1`], ['digest', `${repo}:1`], ['blob', `${repo}@${zero}`], ['ls', repo]]) {
      it(`${args[0]} redirected to ${scheme}: is exit 5 in one line naming the registry`, async () => {
        const r = await runCli([args[0], `${reg.host}/${args[1]}`], fast)
        assert.equal(r.code, 5, r.stderr)
        assertOneLine(r.stderr, new RegExp(`${reg.host}.*${scheme}: URL`))
        assert.equal(r.stdout, '')
      })
    }
  }

  it('ls with a Link: <file:...> next page is exit 5 in one line naming the registry', async () => {
    const r = await runCli(['ls', `${reg.host}/link`], fast)
    assert.equal(r.code, 5, r.stderr)
    assertOneLine(r.stderr, new RegExp(`tags of ${reg.host}/link: ${reg.host} linked the next page to a file: URL`))
  })

  it('ls with a next page that is not a URL is exit 5 in one line naming the registry', async () => {
    const r = await runCli(['ls', `${reg.host}/badlink`], fast)
    assert.equal(r.code, 5, r.stderr)
    assertOneLine(r.stderr, new RegExp(`tags of ${reg.host}/badlink: ${reg.host} linked the next page to an unreadable URL`))
  })

  it('ls follows relative next-page links (absolute path and path-relative)', async () => {
    const r = await runCli(['ls', `${reg.host}/rel`], fast)
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(r.stdout.trim().split('\n'), ['a', 'b', 'c'])
    assert.deepEqual(reg.seen.filter((s) => s.url.startsWith('/v2/rel/')).map((s) => s.url), [
      '/v2/rel/tags/list?n=1000',
      '/v2/rel/tags/list?last=a&n=1000',
      '/v2/rel/tags/list?last=b&n=1000',
    ])
  })
})

describe('issue 12 item 8: an error after a redirect names the host that failed', () => {
  let reg: HostileServer
  let storage: HostileServer
  let closedPort: number
  before(async () => {
    closedPort = await freePort()
    storage = await startHostileServer((_req, res) => res.writeHead(500, {'content-type': 'text/plain'}).end('storage is down'))
    reg = await startHostileServer((req, res) => {
      const u = new URL(req.url ?? '/', 'http://x')
      if (u.pathname === '/v2/') return json(res, 200, {}, {'docker-distribution-api-version': 'registry/2.0'})
      if (u.pathname.startsWith('/v2/gone/')) return res.writeHead(307, {location: `http://127.0.0.1:${closedPort}/data`}).end()
      if (u.pathname.startsWith('/v2/broken/')) return res.writeHead(307, {location: `${storage.url}/data`}).end()
      json(res, 404, {errors: [{code: 'NAME_UNKNOWN', message: 'no'}]})
    })
  })
  after(() => Promise.all([reg.close(), storage.close()]))

  for (const args of [['blob', `gone@${zero}`], ['manifest', 'gone:1']]) {
    it(`${args[0]} redirected to a closed port names that host, not the registry`, async () => {
      const r = await runCli([args[0], `${reg.host}/${args[1]}`], fast)
      assert.equal(r.code, 5, r.stderr)
      assertOneLine(r.stderr, new RegExp(`^Error: 127\\.0\\.0\\.1:${closedPort}: connection refused.*redirected from ${reg.host}`))
    })
  }

  it('a 500 from the redirect target names the target', async () => {
    const r = await runCli(['blob', `${reg.host}/broken@${zero}`], fast)
    assert.equal(r.code, 5, r.stderr)
    assertOneLine(r.stderr, new RegExp(`answered 500 to GET /data.*answered by ${storage.host}`))
  })
})

describe('issue 12 item 2: the OAuth2 password POST is not replayed to another origin', () => {
  let registry: RunningRegistry
  let realm: HostileServer
  before(async () => {
    let redirectTo = ''
    // the realm refuses GET (so the password grant is used) and 307s the POST elsewhere: to
    // the real token server, which would answer with a good token
    realm = await startHostileServer((req, res) => {
      if (req.method === 'GET') return res.writeHead(405).end()
      res.writeHead(307, {location: redirectTo}).end()
    })
    registry = await startRegistry({flavour: 'token', extraConfig: {auth: {token: {realm: `${realm.url}/token`}}}})
    redirectTo = registry.tokenServer!.realm
  })
  after(() => Promise.all([registry?.stop(), realm?.close()]))

  it('manifest with a password: exit 4 in one line, and the other origin never sees the password', async () => {
    const r = await runCli(['manifest', `${registry.host}/app:1`, '--username', 'alice', '--password', 'alice-secret-pw'], fast)
    assert.equal(r.code, 4, r.stderr)
    assertOneLine(r.stderr, new RegExp(`token server ${realm.host}: redirected a POST carrying credentials to ${registry.tokenServer!.url}`))
    const posts = realm.seen.filter((s) => s.method === 'POST')
    assert.equal(posts.length, 1)
    assert.match(posts[0].body.toString(), /grant_type=password/)
    assert.deepEqual(registry.tokenServer!.requests().filter((q) => q.method === 'POST'), [])
    assert.doesNotMatch(r.stderr, /alice-secret-pw/)
  })
})

describe('issue 12 item 9: an HTTPS registry never has credentials sent over plain HTTP unless --insecure', () => {
  let registry: RunningRegistry
  let realm: HostileServer
  before(async () => {
    let upstream = ''
    let ca: Buffer | undefined
    // a plain-HTTP realm on loopback that forwards to the real (HTTPS) token server
    realm = await startHostileServer((req, res) => {
      const up = https.request(`${upstream}${req.url}`, {method: req.method, ca, headers: {authorization: req.headers.authorization ?? ''}}, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(res)
      })
      up.on('error', () => res.destroy())
      up.end()
    })
    registry = await startRegistry({flavour: 'token', tls: true, extraConfig: {auth: {token: {realm: `${realm.url}/token`}}}})
    upstream = registry.tokenServer!.url
    ca = await fsp.readFile(registry.caFile!)
  })
  after(() => Promise.all([registry?.stop(), realm?.close()]))

  it('a plain-HTTP token realm on loopback: exit 4 in one line, nothing sent to it', async () => {
    const r = await runCli(['manifest', `${registry.host}/app:1`, '--ca-file', registry.caFile!, '--username', 'alice', '--password', 'alice-secret-pw'], fast)
    assert.equal(r.code, 4, r.stderr)
    assertOneLine(r.stderr, /registry is HTTPS but its token realm http:\/\/127\.0\.0\.1:\d+ is plain HTTP; refusing to send credentials in clear text \(use --insecure to allow\)/)
    assert.deepEqual(realm.seen, [])
  })

  it('with --insecure the user asked for it: the token comes through the plain-HTTP realm', async () => {
    const r = await runCli(['manifest', `${registry.host}/app:1`, '--insecure', '--username', 'alice', '--password', 'alice-secret-pw'], fast)
    assert.equal(r.code, 3, r.stderr) // authorised, and the repository is empty
    assert.match(realm.seen[0]?.authorization ?? '', /^Basic /)
  })
})

describe('issue 12 item 9: an upload Location on plain HTTP at the HTTPS registry\'s own host', () => {
  let registry: RunningRegistry
  let proxy: HostileServer
  let work: TmpDir
  before(async () => {
    work = await tmpDir('upload-location')
    registry = await startRegistry({flavour: 'basic', tls: true})
    const ca = await fsp.readFile(registry.caFile!)
    // one port speaking TLS and plain HTTP, forwarding to the registry over TLS; upload
    // sessions are sent to the same host and port over plain HTTP
    proxy = await startHostileServer((req, res, {secure, body}) => {
      // plain HTTP serves upload sessions only, as an HTTPS server answers plain HTTP otherwise
      if (!secure && !req.url?.includes('/blobs/uploads/')) return res.writeHead(400).end('Client sent an HTTP request to an HTTPS server.\n')
      const headers = {...req.headers}
      delete headers['content-length']
      const up = https.request(`${registry.url}${req.url}`, {method: req.method, ca, headers: {...headers, 'content-length': String(body.length)}}, (answer) => {
        const out = {...answer.headers}
        if (typeof out.location === 'string' && out.location.includes('/blobs/uploads/')) {
          const u = new URL(out.location, `https://${proxy.host}`)
          out.location = `http://${proxy.host}${u.pathname}${u.search}`
        }
        res.writeHead(answer.statusCode ?? 502, out)
        answer.pipe(res)
      })
      up.on('error', () => res.destroy())
      up.end(body)
    }, {tls: {certFile: path.join(registry.dir, 'server.crt'), keyFile: path.join(registry.dir, 'server.key')}, dual: true})
  })
  after(() => Promise.all([registry?.stop(), proxy?.close(), work?.remove()]))

  it('blob push: exit 4 in one line; the credential never goes over plain HTTP', async () => {
    const file = path.join(work.path, 'blob.bin')
    await fsp.writeFile(file, 'upload location test\n')
    const r = await runCli(['blob', 'push', `${proxy.host}/app`, file, '--ca-file', registry.caFile!, '--username', 'alice', '--password', 'alice-secret-pw'], fast)
    assert.equal(r.code, 4, r.stderr)
    assertOneLine(r.stderr, new RegExp(`${proxy.host} is HTTPS but sent (PUT|PATCH) to plain-HTTP http://${proxy.host}; refusing to send credentials in clear text`))
    assert.ok(proxy.seen.some((s) => s.secure && s.method === 'POST'), 'the upload was started over TLS')
    assert.deepEqual(proxy.seen.filter((s) => !s.secure && s.url !== '/v2/'), [])
  })

  it('with --insecure the upload goes through and the blob is the file', async () => {
    const bytes = Buffer.from('upload location test, insecure\n')
    const file = path.join(work.path, 'blob2.bin')
    await fsp.writeFile(file, bytes)
    const r = await runCli(['blob', 'push', `${proxy.host}/app`, file, '--insecure', '--username', 'alice', '--password', 'alice-secret-pw'], fast)
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout.trim().split('\n').at(-1), sha256(bytes))
    assert.ok(proxy.seen.some((s) => !s.secure && s.authorization?.startsWith('Basic ')), 'the user asked for plain HTTP')
  })
})
