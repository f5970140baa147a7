/**
 * auth: answers "what Authorization header do these scopes need" for one registry.
 *
 * Basic challenges get the keychain's username/password. Bearer challenges get a token from
 * the realm: GET with Basic credentials (or anonymously), or an OAuth2 POST with
 * `grant_type=refresh_token` when an identity token is held (`grant_type=password` when the
 * realm refuses GET). Every scope asked for during an operation is carried by the next token
 * request, so a copy asks once for pull on the source and push on the destination. Tokens are
 * cached per scope set until shortly before `expires_in`.
 *
 * An identity provider's access token (`ACCESS_TOKEN`; Azure Container Registry's AAD token) is
 * first exchanged for a refresh token, once per run: POST `grant_type=access_token` to the
 * realm's sibling `exchange` endpoint (`https://R.azurecr.io/oauth2/token` → `…/oauth2/exchange`),
 * answered `{"refresh_token": …}`. A realm without one (404/405) gets the token as it is.
 *
 * Credentials never go in clear text unless the user asked for it (--insecure): a plain-HTTP
 * realm is refused for an HTTPS registry (loopback and private hosts included), and for a
 * plain-HTTP registry too unless the realm's host is one plain HTTP is allowed for by default.
 * The OAuth2 POST's body is a credential: the HttpClient does not take it to another origin.
 */
import {isInsecureByDefault} from '../../name/reference.js'
import {AuthError, RegistryError} from '../../errors.js'
import type {Keychain, ResolvedCredential} from '../../auth/types.js'
import type {Challenge} from './challenge.js'
import {networkError, statusError} from './errors.js'
import {type HttpClient, type RawRequest, type RawResponse, type TlsSettings, failedUrl, readBody, webUrl} from './http.js'
import {covers, mergeScopes} from './scope.js'

interface CachedToken {
  scopes: string[]
  value: string
  expiresAt: number
}

export interface AuthenticatorOptions {
  /** registry host as named by the user (`127.0.0.1:5000`), for keychains and messages */
  registry: string
  keychain?: Keychain
  http: HttpClient
  insecure?: boolean
  /** the registry's own TLS settings: its token server is reached with them too */
  tls?: TlsSettings
  /** host[:port] put in place of the realm's for every token request (python-dxf's DXF_AUTH_HOST) */
  authHost?: string
}

export class Authenticator {
  private challenge?: Challenge
  private credential?: Promise<ResolvedCredential | undefined>
  private tokens: CachedToken[] = []
  /** token requests under way: concurrent requests (batch mode) wait for one that covers them */
  private fetching: Array<{scopes: string[]; token: Promise<CachedToken>}> = []
  private wanted = new Set<string>()
  /** `scheme://host` the registry answered on (its ping); https until known */
  private registryOrigin?: string
  /** an access token's exchange: the refresh token, or undefined when the realm has no exchange endpoint */
  private exchanged?: Promise<string | undefined>

  constructor(private readonly opts: AuthenticatorOptions) {}

  /** setRegistryOrigin records the scheme the registry was reached on (a realm may not be weaker). */
  setRegistryOrigin(origin: string): void {
    this.registryOrigin = origin
  }

  setChallenge(c: Challenge | undefined): void {
    this.challenge = c
    this.tokens = []
    this.fetching = []
  }

  get scheme(): string | undefined {
    return this.challenge?.scheme
  }

  /** want records scopes the operation will need, so the next token request carries them too. */
  want(scopes: string[]): void {
    for (const s of scopes) this.wanted.add(s)
  }

  /** hasCredentials tells whether a keychain answered for this registry (for error hints). */
  async hasCredentials(): Promise<boolean> {
    return (await this.resolveCredential([...this.wanted])) !== undefined
  }

  /** source names where the credential came from (never the secret), or `anonymous`. */
  async source(): Promise<string> {
    return (await this.resolveCredential([...this.wanted]))?.source ?? 'anonymous'
  }

  /** header returns the Authorization value for a request needing `scopes`, or undefined. */
  async header(scopes: string[]): Promise<string | undefined> {
    this.want(scopes)
    const c = this.challenge
    // no challenge seen: the registry let /v2/ through, so no credential is asked for (nor a
    // credential helper run); a 401 later brings a challenge and the transport asks again
    if (!c) return undefined
    const cred = await this.resolveCredential(scopes)
    if (c.scheme === 'basic') {
      if (cred?.credential.kind !== 'basic') return undefined
      const {username, password} = cred.credential
      return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`
    }
    if (cred?.credential.kind === 'registryToken') return `Bearer ${cred.credential.token}`
    if (cred?.credential.kind === 'accessToken') {
      const token = cred.credential.token
      this.exchanged ??= this.exchange(c, token)
      if ((await this.exchanged) === undefined) return `Bearer ${token}`
    }
    const now = Date.now()
    const cached = this.tokens.find((t) => t.expiresAt > now && covers(t.scopes, scopes))
    if (cached) return `Bearer ${cached.value}`
    const flying = this.fetching.find((f) => covers(f.scopes, scopes))
    if (flying) return `Bearer ${(await flying.token).value}`
    const all = mergeScopes([...this.wanted, ...scopes])
    const entry = {scopes: all, token: this.fetchToken(c, all, cred)}
    this.fetching.push(entry)
    try {
      const token = await entry.token
      this.tokens.push(token)
      return `Bearer ${token.value}`
    } finally {
      this.fetching = this.fetching.filter((f) => f !== entry)
    }
  }

  /** invalidate forgets a token the registry refused (expired early, say). */
  invalidate(header: string | undefined): void {
    if (!header) return
    this.tokens = this.tokens.filter((t) => `Bearer ${t.value}` !== header)
  }

  private resolveCredential(scopes: string[]): Promise<ResolvedCredential | undefined> {
    if (!this.opts.keychain) return Promise.resolve(undefined)
    this.credential ??= this.opts.keychain.resolve({registry: this.opts.registry, scopes})
    return this.credential
  }

  /** realmUrl is the challenge's realm, refused when it is not http(s) or would take credentials in clear text. */
  private realmUrl(c: Challenge): URL {
    const realm = c.params.realm
    if (!realm) throw new RegistryError(`${this.opts.registry}: bearer challenge without a realm`, {code: 'BAD_CHALLENGE'})
    const url = webUrl(realm)
    if (url && this.opts.authHost) url.host = this.opts.authHost
    if (!url) throw new RegistryError(`${this.opts.registry}: bearer realm is not an http(s) URL: ${realm.slice(0, 200)}`, {code: 'BAD_CHALLENGE'})
    if (url.protocol !== 'https:' && !this.opts.insecure) {
      const registryPlain = this.registryOrigin?.startsWith('http:') ?? false
      if (!registryPlain) {
        throw new AuthError(`${this.opts.registry}: registry is HTTPS but its token realm ${url.origin} is plain HTTP; refusing to send credentials in clear text (use --insecure to allow)`, {code: 'INSECURE_REALM'})
      }
      if (!isInsecureByDefault(url.host)) {
        throw new AuthError(`${this.opts.registry}: token realm ${url.origin} is plain HTTP; refusing to send credentials there (use --insecure to allow)`, {code: 'INSECURE_REALM'})
      }
    }
    return url
  }

  /** exchange trades an access token for a refresh token at the realm's `exchange` endpoint (ACR's). */
  private async exchange(c: Challenge, accessToken: string): Promise<string | undefined> {
    const url = new URL('exchange', this.realmUrl(c))
    const form = new URLSearchParams({grant_type: 'access_token', access_token: accessToken})
    if (c.params.service) form.set('service', c.params.service)
    const res = await this.send({
      method: 'POST',
      url: url.toString(),
      headers: {'content-type': 'application/x-www-form-urlencoded'},
      body: form.toString(),
      secretBody: true,
    })
    if (res.status === 404 || res.status === 405) {
      res.body.resume()
      return undefined
    }
    const body = await readBody(res.body, 1024 * 1024, `refresh token from ${new URL(res.url).origin}`)
    const server = `token server ${new URL(res.url).host}`
    if (res.status !== 200) {
      throw statusError(res.status, body, res.headers['content-type'] as string | undefined, {registry: this.opts.registry, subject: this.opts.registry, hadCredentials: true, server}, {method: 'POST', path: 'exchange'})
    }
    let doc: {refresh_token?: unknown}
    try {
      doc = JSON.parse(body.toString('utf8'))
    } catch {
      throw new RegistryError(`${this.opts.registry}: ${server} answered the access token exchange with something that is not JSON`, {code: 'BAD_TOKEN'})
    }
    if (typeof doc.refresh_token !== 'string' || doc.refresh_token === '') {
      throw new RegistryError(`${this.opts.registry}: ${server} answered the access token exchange without a refresh_token`, {code: 'BAD_TOKEN'})
    }
    return doc.refresh_token
  }

  private async fetchToken(c: Challenge, scopes: string[], cred: ResolvedCredential | undefined): Promise<CachedToken> {
    const url = this.realmUrl(c)
    const realm = url.toString()
    const service = c.params.service
    const credential = cred?.credential
    if (credential?.kind === 'identityToken') {
      return this.postToken(url, {grant_type: 'refresh_token', refresh_token: credential.token, service, scopes})
    }
    if (credential?.kind === 'accessToken') {
      // header() exchanged it before asking for a token; a realm without the endpoint never gets here
      const refresh = await this.exchanged
      return this.postToken(url, {grant_type: 'refresh_token', refresh_token: refresh!, service, scopes})
    }
    const query = new URLSearchParams()
    if (service) query.set('service', service)
    for (const s of scopes) query.append('scope', s)
    if (credential?.kind === 'basic') query.set('account', credential.username)
    for (const [k, v] of query) url.searchParams.append(k, v)
    const basic = credential?.kind === 'basic' ? `Basic ${Buffer.from(`${credential.username}:${credential.password}`).toString('base64')}` : undefined
    const res = await this.send({
      method: 'GET',
      url: url.toString(),
      authorization: basic ? {origin: url.origin, value: basic} : undefined,
    })
    if ((res.status === 404 || res.status === 405) && credential?.kind === 'basic') {
      res.body.resume()
      return this.postToken(webUrl(realm)!, {grant_type: 'password', username: credential.username, password: credential.password, service, scopes})
    }
    return this.readToken(res, scopes, credential !== undefined)
  }

  /** send asks the token server; a failure names the token server's host (the one that failed). */
  private async send(req: RawRequest): Promise<RawResponse> {
    try {
      return await this.opts.http.send({...req, tls: this.opts.tls})
    } catch (e) {
      const at = webUrl(failedUrl(e) ?? req.url) ?? new URL(req.url)
      throw networkError(e, `token server ${at.host}`, at.protocol.replace(':', ''))
    }
  }

  private async postToken(
    url: URL,
    p: {grant_type: string; refresh_token?: string; username?: string; password?: string; service?: string; scopes: string[]},
  ): Promise<CachedToken> {
    const form = new URLSearchParams({grant_type: p.grant_type, client_id: 'ocitool'})
    if (p.service) form.set('service', p.service)
    if (p.scopes.length > 0) form.set('scope', p.scopes.join(' '))
    if (p.refresh_token) form.set('refresh_token', p.refresh_token)
    if (p.username !== undefined) form.set('username', p.username)
    if (p.password !== undefined) form.set('password', p.password)
    const res = await this.send({
      method: 'POST',
      url: url.toString(),
      headers: {'content-type': 'application/x-www-form-urlencoded'},
      body: form.toString(),
      secretBody: true,
    })
    return this.readToken(res, p.scopes, true)
  }

  private async readToken(res: {status: number; headers: Record<string, unknown>; body: import('node:stream').Readable; url: string}, scopes: string[], hadCredentials: boolean): Promise<CachedToken> {
    const body = await readBody(res.body, 1024 * 1024, `token from ${new URL(res.url).origin}`)
    const subject = subjectOf(this.opts.registry, scopes)
    if (res.status !== 200) {
      const server = `token server ${new URL(res.url).host}`
      throw statusError(res.status, body, res.headers['content-type'] as string | undefined, {registry: this.opts.registry, subject, hadCredentials, server}, {method: 'GET', path: 'token'})
    }
    let doc: {token?: unknown; access_token?: unknown; expires_in?: unknown; issued_at?: unknown}
    try {
      doc = JSON.parse(body.toString('utf8'))
    } catch {
      throw new RegistryError(`${this.opts.registry}: token server at ${new URL(res.url).origin} answered something that is not JSON`, {code: 'BAD_TOKEN'})
    }
    const value = typeof doc.token === 'string' && doc.token !== '' ? doc.token : doc.access_token
    if (typeof value !== 'string' || value === '') {
      throw new RegistryError(`${this.opts.registry}: token server answered without a token`, {code: 'BAD_TOKEN'})
    }
    const expiresIn = typeof doc.expires_in === 'number' && doc.expires_in > 0 ? doc.expires_in : 60
    const issued = typeof doc.issued_at === 'string' ? Date.parse(doc.issued_at) : Number.NaN
    const start = Number.isNaN(issued) ? Date.now() : Math.min(issued, Date.now())
    // renew a little early, so a token does not expire between our check and the registry's
    const margin = Math.min(10, expiresIn / 10) * 1000
    return {scopes, value, expiresAt: start + expiresIn * 1000 - margin}
  }
}

function subjectOf(registry: string, scopes: string[]): string {
  const repo = scopes.map((s) => /^repository:(.+):[^:]*$/.exec(s)?.[1]).find(Boolean)
  return repo ? `${registry}/${repo}` : registry
}
