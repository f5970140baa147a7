// Proves test/support works with the real tools (distribution 2.8, skopeo), independently
// of ocitool: every registry flavour starts, accepts a skopeo push of a fixture with the
// digest we built, challenges as expected, and logs requests; the token server's JWTs are
// accepted by the real registry and limited to what the user may do.

import assert from 'node:assert/strict'
import * as fs from 'node:fs'
import * as http from 'node:http'
import * as https from 'node:https'
import {after, before, describe, it} from 'node:test'
import {buildImage, buildIndex, pushFixture, sha256, skopeo, skopeoRegistryArgs} from '../support/fixtures.js'
import {isRunning, startRegistry, type Flavour, type RunningRegistry} from '../support/registry.js'

interface Reply {
  status: number
  headers: http.IncomingHttpHeaders
  body: string
}

/** request sends one HTTP(S) request to the test registry, trusting its CA if it has one. */
function request(reg: {caFile?: string}, url: string, opts: {method?: string; headers?: Record<string, string>; body?: string} = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const mod = url.startsWith('https:') ? https : http
    const ca = reg.caFile ? fs.readFileSync(reg.caFile) : undefined
    const req = mod.request(url, {method: opts.method ?? 'GET', headers: opts.headers, ca}, (res) => {
      let body = ''
      res.setEncoding('utf8').on('data', (s: string) => (body += s))
      res.on('end', () => resolve({status: res.statusCode ?? 0, headers: res.headers, body}))
    })
    req.on('error', reject)
    req.end(opts.body)
  })
}

const basic = (user: string, pw: string) => `Basic ${Buffer.from(`${user}:${pw}`).toString('base64')}`
const claims = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8'))

/** parseChallenge reads `Bearer realm="…",service="…",scope="…"` into its parameters. */
function parseChallenge(h: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const m of h.replace(/^\w+\s+/, '').matchAll(/(\w+)="([^"]*)"/g)) out[m[1]] = m[2]
  return out
}

const started: RunningRegistry[] = []
async function start(flavour: Flavour, opts: {tls?: boolean} = {}): Promise<RunningRegistry> {
  const reg = await startRegistry({flavour, ...opts})
  started.push(reg)
  return reg
}

after(async () => {
  for (const reg of started) await reg.stop()
  for (const reg of started) {
    assert.equal(isRunning(reg.pid), false, `registry pid ${reg.pid} still running`)
    assert.equal(fs.existsSync(reg.dir), false, `${reg.dir} not removed`)
  }
})

describe('fixtures', () => {
  it('are deterministic', async () => {
    const a = await buildImage({layers: 2, seed: 's', mediaTypes: 'oci'})
    const b = await buildImage({layers: 2, seed: 's', mediaTypes: 'oci'})
    assert.equal(a.manifestDigest, b.manifestDigest)
    assert.notEqual(a.manifestDigest, (await buildImage({layers: 2, seed: 't', mediaTypes: 'oci'})).manifestDigest)
    assert.equal((await buildIndex('s')).manifestDigest, (await buildIndex('s')).manifestDigest)
  })
})

for (const flavour of ['plain', 'basic', 'tls', 'token'] as const) {
  describe(`registry flavour ${flavour}`, () => {
    let reg: RunningRegistry
    const auth = (user = 'alice') => (flavour === 'basic' ? {authorization: basic(user, reg.users[user])} : undefined)
    before(async () => {
      reg = await start(flavour)
    })

    it('round-trips the oci fixture through skopeo with the same digest', async () => {
      const pushed = await pushFixture(reg, 'support/oci:v1', 'oci', `seed-${flavour}`)
      const raw = await skopeo(['inspect', '--raw', ...skopeoRegistryArgs(reg, ''), `docker://${pushed.ref}`])
      assert.equal(raw.code, 0, raw.stderr)
      assert.equal(sha256(raw.stdoutBytes), pushed.manifestDigest)
      assert.deepEqual(raw.stdoutBytes, pushed.manifestBytes)
    })

    it('answers GET /v2/ as its flavour should', async () => {
      const res = await request(reg, `${reg.url}/v2/`)
      const want = {plain: 200, tls: 200, basic: 401, token: 401}[flavour]
      assert.equal(res.status, want)
      if (flavour === 'basic') assert.match(String(res.headers['www-authenticate']), /^Basic realm="/)
      if (flavour === 'token') {
        const ch = parseChallenge(String(res.headers['www-authenticate']))
        assert.match(String(res.headers['www-authenticate']), /^Bearer /)
        assert.equal(ch.realm, reg.tokenServer!.realm)
        assert.equal(ch.service, reg.tokenServer!.service)
      }
    })

    if (flavour !== 'token') {
      it('lists tags, and logs the request', async () => {
        const res = await request(reg, `${reg.url}/v2/support/oci/tags/list`, {headers: auth()})
        assert.equal(res.status, 200, res.body)
        assert.deepEqual(JSON.parse(res.body).tags, ['v1'])
        const logged = await reg.waitForRequest((r) => r.path === '/v2/support/oci/tags/list' && r.status === 200)
        assert.equal(logged.method, 'GET')
        assert.equal(logged.status, 200)
      })
    }

    if (flavour === 'basic') {
      it('refuses a wrong password', async () => {
        const res = await request(reg, `${reg.url}/v2/support/oci/tags/list`, {headers: {authorization: basic('alice', 'nope')}})
        assert.equal(res.status, 401)
      })
    }

    if (flavour === 'tls') {
      it('is not trusted without its CA', async () => {
        await assert.rejects(request({}, `${reg.url}/v2/`), /self[- ]signed|unable to (get|verify)/i)
      })
    }

    if (flavour === 'token') {
      const getToken = async (user: string | undefined, scopes: string[]) => {
        const q = new URLSearchParams({service: reg.tokenServer!.service})
        for (const s of scopes) q.append('scope', s)
        if (user) q.set('account', user)
        const res = await request(reg, `${reg.tokenServer!.realm}?${q}`, {headers: user ? {authorization: basic(user, reg.users[user])} : undefined})
        assert.equal(res.status, 200, res.body)
        return JSON.parse(res.body) as {token: string; access_token: string; expires_in: number; issued_at: string}
      }

      it('issues a token the registry accepts for tags/list, and logs the request', async () => {
        const denied = await request(reg, `${reg.url}/v2/support/oci/tags/list`)
        assert.equal(denied.status, 401)
        assert.match(String(denied.headers['www-authenticate']), /scope="repository:support\/oci:pull"/)
        const body = await getToken('alice', ['repository:support/oci:pull'])
        assert.equal(body.token, body.access_token)
        assert.equal(body.expires_in, 300)
        const res = await request(reg, `${reg.url}/v2/support/oci/tags/list`, {headers: {authorization: `Bearer ${body.token}`}})
        assert.equal(res.status, 200, res.body)
        assert.deepEqual(JSON.parse(res.body).tags, ['v1'])
        const logged = await reg.waitForRequest((r) => r.path === '/v2/support/oci/tags/list' && r.status === 200)
        assert.equal(logged.method, 'GET')
      })

      it("limits bob to pull: his token is refused a push", async () => {
        const body = await getToken('bob', ['repository:support/oci:pull,push'])
        assert.deepEqual(claims(body.token).access, [{type: 'repository', name: 'support/oci', actions: ['pull']}])
        const pull = await request(reg, `${reg.url}/v2/support/oci/tags/list`, {headers: {authorization: `Bearer ${body.token}`}})
        assert.equal(pull.status, 200)
        const push = await request(reg, `${reg.url}/v2/support/oci/blobs/uploads/`, {method: 'POST', headers: {authorization: `Bearer ${body.token}`}})
        assert.ok([401, 403].includes(push.status), `push got ${push.status}`)
        assert.match(String(push.headers['www-authenticate']), /insufficient_scope/)
      })

      it('records every scope of one token request, and refuses wrong passwords and anonymous pulls', async () => {
        await getToken('alice', ['repository:a/b:pull', 'repository:c/d:pull,push'])
        const last = reg.tokenServer!.requests().at(-1)!
        assert.deepEqual(last.scopes, ['repository:a/b:pull', 'repository:c/d:pull,push'])
        assert.equal(last.user, 'alice')
        const bad = await request(reg, `${reg.tokenServer!.realm}?service=${reg.tokenServer!.service}`, {headers: {authorization: basic('alice', 'wrong')}})
        assert.equal(bad.status, 401)
        const anon = await getToken(undefined, ['repository:support/oci:pull'])
        assert.deepEqual(claims(anon.token).access[0].actions, [])
        const res = await request(reg, `${reg.url}/v2/support/oci/tags/list`, {headers: {authorization: `Bearer ${anon.token}`}})
        assert.equal(res.status, 401)
      })

      it('supports the OAuth2 password and refresh_token grants', async () => {
        const post = (form: Record<string, string>) => request(reg, reg.tokenServer!.realm, {
          method: 'POST', headers: {'content-type': 'application/x-www-form-urlencoded'}, body: new URLSearchParams(form).toString(),
        })
        const service = reg.tokenServer!.service
        const pw = await post({grant_type: 'password', username: 'alice', password: reg.users.alice, service, scope: 'repository:support/oci:pull', client_id: 'ocitool'})
        assert.equal(pw.status, 200, pw.body)
        const {access_token: first, refresh_token: refresh} = JSON.parse(pw.body)
        assert.ok(refresh)
        const rt = await post({grant_type: 'refresh_token', refresh_token: refresh, service, scope: 'repository:support/oci:pull', client_id: 'ocitool'})
        assert.equal(rt.status, 200, rt.body)
        for (const token of [first, JSON.parse(rt.body).access_token]) {
          const res = await request(reg, `${reg.url}/v2/support/oci/tags/list`, {headers: {authorization: `Bearer ${token}`}})
          assert.equal(res.status, 200)
        }
        assert.equal((await post({grant_type: 'refresh_token', refresh_token: 'bogus', service})).status, 401)
        assert.deepEqual(reg.tokenServer!.requests().slice(-3).map((r) => [r.grantType, r.user]), [['password', 'alice'], ['refresh_token', 'alice'], ['refresh_token', undefined]])
      })
    }
  })
}

describe('other fixtures and combinations', () => {
  it('pushes the docker and three-platform index fixtures', async () => {
    const reg = await start('plain')
    const docker = await pushFixture(reg, 'support/docker:v1', 'docker')
    assert.equal(docker.mediaType, 'application/vnd.docker.distribution.manifest.v2+json')
    const index = await pushFixture(reg, 'support/index:v1', 'index')
    const raw = JSON.parse(index.manifestBytes.toString('utf8'))
    assert.deepEqual(raw.manifests.map((m: {platform: {architecture: string; variant?: string}}) => `${m.platform.architecture}${m.platform.variant ?? ''}`), ['amd64', 'arm64v8', 'armv7'])
    for (const im of index.images) {
      const r = await skopeo(['inspect', '--raw', ...skopeoRegistryArgs(reg, ''), `docker://${reg.host}/support/index@${im.manifestDigest}`])
      assert.equal(sha256(r.stdoutBytes), im.manifestDigest)
    }
  })

  it('serves token auth over TLS, token server included', async () => {
    const reg = await start('token', {tls: true})
    assert.match(reg.tokenServer!.realm, /^https:\/\//)
    await pushFixture(reg, 'support/tls-token:v1', 'oci')
    assert.ok(reg.tokenServer!.requests().some((r) => r.user === 'alice' && r.scopes.includes('repository:support/tls-token:pull,push')))
  })
})
