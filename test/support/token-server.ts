// A small Docker registry token server (https://distribution.github.io/distribution/spec/auth/token/
// and .../auth/oauth/) for tests: GET /token with optional Basic auth, POST /token with
// grant_type=password or refresh_token. Tokens are RS256 JWTs with an x5c header whose
// single certificate is the one the registry lists in `auth.token.rootcertbundle`.
// Azure Container Registry's endpoints too: with `acr: true` the realm is `/oauth2/token`, and
// `POST /oauth2/exchange` (form: grant_type=access_token, service, access_token, tenant optional)
// trades an identity provider's access token (`aadToken(user)`) for a refresh token, answered
// `{"refresh_token": …}`; an unknown access token gets 401, as ACR answers.

import * as crypto from 'node:crypto'
import * as fsp from 'node:fs/promises'
import * as http from 'node:http'
import * as https from 'node:https'
import type {AddressInfo} from 'node:net'
import {makeSigningCert, type CertPair} from './certs.js'
import {tmpDir} from './tmp.js'

export type Action = 'pull' | 'push' | 'delete' | '*'
/** Grants by resource: a repository name glob (`*` matches anything, `/` included), or `type:glob` for other types (`registry:catalog`). */
export type Grants = Record<string, Action[]>
/** Permissions maps a user name to their grants. */
export type Permissions = Record<string, Grants>

export interface TokenServerOptions {
  /** user → password. Default `{alice: 'alice-secret-pw', bob: 'bob-secret-pw'}`. */
  users?: Record<string, string>
  /** Default: alice may do everything, bob may only pull. */
  permissions?: Permissions
  /** Grants for requests without credentials. Default: none. */
  anonymous?: Grants
  /** Token lifetime in seconds. Default 300. */
  expiresIn?: number
  service?: string
  issuer?: string
  /** Serve HTTPS with this certificate; plain HTTP otherwise. */
  tls?: CertPair
  /** Where to write the signing certificate; a fresh temp dir by default. */
  dir?: string
  /** The realm is ACR's `/oauth2/token` (default `/token`); `/oauth2/exchange` is served either way. */
  acr?: boolean
}

/** TokenRequest is one request the server answered, for assertions. */
export interface TokenRequest {
  method: string
  path: string
  status: number
  scopes: string[]
  service?: string
  account?: string
  grantType?: string
  clientId?: string
  /** The authenticated user (Basic auth, password grant or refresh token); absent when anonymous. */
  user?: string
  /** The request's Host header (the name the client reached the server by). */
  host?: string
}

export interface ResourceActions {
  type: string
  name: string
  actions: string[]
}

export interface RunningTokenServer {
  /** Base URL, `http(s)://127.0.0.1:PORT`. */
  url: string
  /** The realm to configure in the registry: `${url}/token`. */
  realm: string
  service: string
  issuer: string
  /** The PEM signing certificate: the registry's rootcertbundle. */
  certFile: string
  users: Record<string, string>
  requests(): TokenRequest[]
  /** issue mints a token directly, as the server would for user (undefined = anonymous). */
  issue(user: string | undefined, scopes: string[], expiresIn?: number): string
  /** aadToken mints an identity provider's access token for user (opaque), for `/oauth2/exchange`. */
  aadToken(user: string): string
  stop(): Promise<void>
}

export const defaultTokenUsers: Record<string, string> = {alice: 'alice-secret-pw', bob: 'bob-secret-pw'}
export const defaultPermissions: Permissions = {
  alice: {'*': ['*'], 'registry:catalog': ['*']},
  bob: {'*': ['pull']},
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url')

/** parseScope splits `type[(class)]:name:a,b`; the name may itself contain colons. */
export function parseScope(scope: string): ResourceActions | undefined {
  const first = scope.indexOf(':')
  const last = scope.lastIndexOf(':')
  if (first < 0 || last === first) return undefined
  const type = scope.slice(0, first).replace(/\(.*\)$/, '')
  return {type, name: scope.slice(first + 1, last), actions: scope.slice(last + 1).split(',').filter(Boolean)}
}

function globMatch(glob: string, name: string): boolean {
  const re = glob.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')
  return new RegExp(`^${re}$`).test(name)
}

/** allowedActions is the union of the actions grants gives for (type, name). */
function allowedActions(grants: Grants, type: string, name: string): Set<string> {
  const out = new Set<string>()
  for (const [key, actions] of Object.entries(grants)) {
    const colon = key.indexOf(':')
    const [kType, kGlob] = colon < 0 ? ['repository', key] : [key.slice(0, colon), key.slice(colon + 1)]
    if (kType === type && globMatch(kGlob, name)) for (const a of actions) out.add(a)
  }
  return out
}

/**
 * grant intersects the requested scopes with grants, like real token servers: each
 * requested resource appears once, with only the allowed actions (possibly none). A
 * request for `*` gets whatever the user may do.
 */
export function grant(grants: Grants, scopes: string[]): ResourceActions[] {
  const byResource = new Map<string, ResourceActions>()
  for (const s of scopes) {
    const r = parseScope(s)
    if (!r) continue
    const allowed = allowedActions(grants, r.type, r.name)
    const key = `${r.type}:${r.name}`
    const entry = byResource.get(key) ?? {type: r.type, name: r.name, actions: []}
    byResource.set(key, entry)
    const add = (a: string) => {
      if (!entry.actions.includes(a)) entry.actions.push(a)
    }
    for (const a of r.actions) {
      if (allowed.has('*')) add(a)
      else if (a === '*') for (const x of allowed) add(x)
      else if (allowed.has(a)) add(a)
    }
  }
  return [...byResource.values()]
}

/**
 * startTokenServer listens on a free 127.0.0.1 port and answers token requests. Wrong
 * passwords get 401, unknown grant types or missing fields 400; everything is recorded.
 */
export async function startTokenServer(opts: TokenServerOptions = {}): Promise<RunningTokenServer> {
  const users = opts.users ?? defaultTokenUsers
  const permissions = opts.permissions ?? defaultPermissions
  const anonymous = opts.anonymous ?? {}
  const expiresIn = opts.expiresIn ?? 300
  const service = opts.service ?? 'ocitool-test-registry'
  const issuer = opts.issuer ?? 'ocitool-test-token-server'
  const ownDir = opts.dir ? undefined : await tmpDir('token')
  const signer = await makeSigningCert(opts.dir ?? ownDir!.path)
  const key = crypto.createPrivateKey(await fsp.readFile(signer.keyFile))
  const certDer = new crypto.X509Certificate(await fsp.readFile(signer.certFile)).raw
  const log: TokenRequest[] = []
  const refreshTokens = new Map<string, string>()
  const aadTokens = new Map<string, string>()

  const issue = (user: string | undefined, scopes: string[], ttl = expiresIn): string => {
    const now = Math.floor(Date.now() / 1000)
    const header = {typ: 'JWT', alg: 'RS256', x5c: [certDer.toString('base64')]}
    const claims = {
      iss: issuer, sub: user ?? '', aud: service, exp: now + ttl, nbf: now - 1, iat: now,
      jti: crypto.randomBytes(12).toString('hex'),
      access: grant(user === undefined ? anonymous : permissions[user] ?? {}, scopes),
    }
    const signingInput = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`
    return `${signingInput}.${b64url(crypto.sign('sha256', Buffer.from(signingInput), key))}`
  }

  const checkPassword = (user: string, password: string) =>
    Object.hasOwn(users, user) && users[user] === password

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const u = new URL(req.url ?? '/', 'http://x')
    const rec: TokenRequest = {method: req.method ?? '', path: u.pathname, status: 0, scopes: [], host: req.headers.host}
    log.push(rec)
    const reply = (status: number, body: object) => {
      rec.status = status
      const extra: http.OutgoingHttpHeaders = status === 401 ? {'www-authenticate': 'Basic realm="ocitool-test"'} : {}
      res.writeHead(status, {'content-type': 'application/json', ...extra}).end(JSON.stringify(body))
    }
    if (u.pathname === '/oauth2/exchange') return exchange(req, rec, reply)
    if (u.pathname !== '/token' && u.pathname !== '/oauth2/token') return reply(404, {error: 'not_found'})
    const splitScopes = (vals: string[]) => vals.flatMap((s) => s.split(' ')).filter(Boolean)

    if (req.method === 'GET') {
      const q = u.searchParams
      rec.scopes = splitScopes(q.getAll('scope'))
      rec.service = q.get('service') ?? undefined
      rec.account = q.get('account') ?? undefined
      rec.clientId = q.get('client_id') ?? undefined
      let user: string | undefined
      const auth = req.headers.authorization ?? ''
      if (/^basic /i.test(auth)) {
        const decoded = Buffer.from(auth.slice(6).trim(), 'base64').toString('utf8')
        const colon = decoded.indexOf(':')
        const [name, pw] = [decoded.slice(0, colon), decoded.slice(colon + 1)]
        if (colon < 0 || !checkPassword(name, pw)) return reply(401, {errors: [{code: 'UNAUTHORIZED', message: 'invalid username or password'}]})
        user = rec.user = name
      }
      if (rec.service !== undefined && rec.service !== service) return reply(400, {error: 'invalid_request', error_description: `unknown service ${rec.service}`})
      const token = issue(user, rec.scopes)
      const body: Record<string, unknown> = {token, access_token: token, expires_in: expiresIn, issued_at: new Date().toISOString()}
      if (user && q.get('offline_token') === 'true') {
        const rt = crypto.randomBytes(24).toString('hex')
        refreshTokens.set(rt, user)
        body.refresh_token = rt
      }
      return reply(200, body)
    }

    if (req.method === 'POST') {
      const chunks: Buffer[] = []
      let size = 0
      for await (const c of req) {
        size += (c as Buffer).length
        if (size > 65536) return reply(413, {error: 'invalid_request'})
        chunks.push(c as Buffer)
      }
      const f = new URLSearchParams(Buffer.concat(chunks).toString('utf8'))
      rec.scopes = splitScopes(f.getAll('scope'))
      rec.service = f.get('service') ?? undefined
      rec.grantType = f.get('grant_type') ?? undefined
      rec.clientId = f.get('client_id') ?? undefined
      if (!/^application\/x-www-form-urlencoded/i.test(req.headers['content-type'] ?? '')) return reply(400, {error: 'invalid_request', error_description: 'expected a form body'})
      if (rec.service !== service) return reply(400, {error: 'invalid_request', error_description: 'missing or unknown service'})
      let user: string
      let newRefresh = false
      if (rec.grantType === 'password') {
        const name = f.get('username') ?? ''
        if (!checkPassword(name, f.get('password') ?? '')) return reply(401, {error: 'invalid_grant'})
        user = name
        newRefresh = true
      } else if (rec.grantType === 'refresh_token') {
        const found = refreshTokens.get(f.get('refresh_token') ?? '')
        if (!found) return reply(401, {error: 'invalid_grant'})
        user = found
        newRefresh = f.get('access_type') === 'offline'
      } else {
        return reply(400, {error: 'unsupported_grant_type'})
      }
      rec.user = user
      const body: Record<string, unknown> = {
        access_token: issue(user, rec.scopes), token_type: 'Bearer', expires_in: expiresIn,
        scope: rec.scopes.join(' '), issued_at: new Date().toISOString(),
      }
      if (newRefresh) {
        const rt = crypto.randomBytes(24).toString('hex')
        refreshTokens.set(rt, user)
        body.refresh_token = rt
      }
      return reply(200, body)
    }
    return reply(405, {error: 'method_not_allowed'})
  }

  const readForm = async (req: http.IncomingMessage): Promise<URLSearchParams | undefined> => {
    const chunks: Buffer[] = []
    let size = 0
    for await (const c of req) {
      size += (c as Buffer).length
      if (size > 65536) return undefined
      chunks.push(c as Buffer)
    }
    return new URLSearchParams(Buffer.concat(chunks).toString('utf8'))
  }

  /** exchange is ACR's POST /oauth2/exchange: an access token for a refresh token. */
  const exchange = async (req: http.IncomingMessage, rec: TokenRequest, reply: (status: number, body: object) => void) => {
    if (req.method !== 'POST') return reply(405, {error: 'method_not_allowed'})
    const f = await readForm(req)
    if (!f) return reply(413, {error: 'invalid_request'})
    rec.service = f.get('service') ?? undefined
    rec.grantType = f.get('grant_type') ?? undefined
    if (!/^application\/x-www-form-urlencoded/i.test(req.headers['content-type'] ?? '')) return reply(400, {error: 'invalid_request', error_description: 'expected a form body'})
    if (rec.grantType !== 'access_token') return reply(400, {error: 'unsupported_grant_type'})
    if (rec.service !== service) return reply(400, {error: 'invalid_request', error_description: 'missing or unknown service'})
    const user = aadTokens.get(f.get('access_token') ?? '')
    if (!user) return reply(401, {errors: [{code: 'UNAUTHORIZED', message: 'invalid access token'}]})
    rec.user = user
    const rt = crypto.randomBytes(24).toString('hex')
    refreshTokens.set(rt, user)
    return reply(200, {refresh_token: rt})
  }

  const listener = (req: http.IncomingMessage, res: http.ServerResponse) => {
    handle(req, res).catch((err) => {
      if (!res.headersSent) res.writeHead(500).end(String(err))
    })
  }
  const server = opts.tls
    ? https.createServer({cert: await fsp.readFile(opts.tls.certFile), key: await fsp.readFile(opts.tls.keyFile)}, listener)
    : http.createServer(listener)
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const url = `${opts.tls ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    url, realm: `${url}${opts.acr ? '/oauth2/token' : '/token'}`, service, issuer, certFile: signer.certFile, users,
    requests: () => log.map((r) => ({...r, scopes: [...r.scopes]})),
    issue,
    aadToken(user: string) {
      const t = `aad.${crypto.randomBytes(24).toString('base64url')}`
      aadTokens.set(t, user)
      return t
    },
    async stop() {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await ownDir?.remove()
    },
  }
}
