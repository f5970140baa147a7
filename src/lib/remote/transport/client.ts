/**
 * client: the transport for one registry. It finds the scheme (HTTPS; HTTP as a fallback for
 * loopback, `*.local`, RFC 1918 hosts and `--insecure`, as crane does), learns the auth
 * challenge from `GET /v2/`, attaches credentials, renews a refused token once, shows the
 * registry's `Warning` headers once, and maps failures to one-line errors.
 */
import {isInsecureByDefault} from '../../name/reference.js'
import type {Keychain} from '../../auth/types.js'
import {AuthError, RegistryError} from '../../errors.js'
import {Authenticator} from './auth.js'
import {parseChallenges, pickChallenge} from './challenge.js'
import {type ErrorContext, isNotTlsError, networkError, statusError} from './errors.js'
import type {OcitoolError} from '../../errors.js'
import type {Readable} from 'node:stream'
import {type BodyFactory, type HttpClient, type RawResponse, type TlsSettings, drain, failedUrl, readBody, retryAfterMs, waitAsked, webUrl} from './http.js'
import {PACER_MAX, Pacer, throttleText} from './pacer.js'

/** how long HTTP alone is given to answer before HTTPS is tried beside it (loopback: ~3 ms) */
const HTTP_HEAD_START_MS = 100

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref())

export interface TransportOptions {
  http: HttpClient
  keychain?: Keychain
  insecure?: boolean
  /** this registry's TLS settings, when it has its own (every request to it and its token server) */
  tls?: TlsSettings
  /** shown once per distinct text: registry `Warning` headers */
  warn?: (message: string) => void
  /** requests awaiting an answer at most (default PACER_MAX; fewer while the registry sheds load) */
  maxInFlight?: number
  /** requests started per second at most */
  requestsPerSecond?: number
  /** host[:port] the token request goes to instead of the realm's (python-dxf's DXF_AUTH_HOST) */
  authHost?: string
}

export interface RegistryRequest {
  method: string
  /** `/v2/...`, or an absolute URL the registry gave (an upload `Location`) */
  path: string
  scopes: string[]
  headers?: Record<string, string>
  body?: Buffer | string | BodyFactory
  /** statuses that are success */
  expect: number[]
  /** statuses handed back to the caller without an error (e.g. 404 for a HEAD probe) */
  allow?: number[]
  /** for error messages: `subject` like `host/repo:tag`, `what` like `manifest` */
  context: Omit<ErrorContext, 'registry' | 'hadCredentials'>
  followRedirect?: boolean
  retry?: boolean
}

export class RegistryTransport {
  readonly auth: Authenticator
  /** how many requests this registry gets at once (fewer while it sheds load) */
  readonly pacer: Pacer
  private pinged?: Promise<string>
  private warned = new Set<string>()

  /**
   * @param registry the host as named (`127.0.0.1:5000`, `index.docker.io`)
   * @param apiHost where requests go (`registry-1.docker.io` for Docker Hub)
   */
  constructor(
    readonly registry: string,
    readonly apiHost: string,
    private readonly opts: TransportOptions,
  ) {
    this.auth = new Authenticator({registry, keychain: opts.keychain, http: opts.http, insecure: opts.insecure, tls: opts.tls, authHost: opts.authHost})
    this.pacer = new Pacer(opts.maxInFlight ?? PACER_MAX, Date.now, opts.requestsPerSecond)
  }

  /** base resolves `scheme://host` after the first ping. */
  base(): Promise<string> {
    this.pinged ??= this.ping()
    return this.pinged
  }

  private async ping(): Promise<string> {
    const https = `https://${this.apiHost}`
    if (!(this.opts.insecure || isInsecureByDefault(this.apiHost))) {
      let res: RawResponse
      try {
        res = await this.probe(https)
      } catch (e) {
        throw this.networkError(e, https)
      }
      return this.accept(res, https)
    }
    // Where plain HTTP is allowed, HTTP is asked first and HTTPS joins when HTTP fails, answers
    // as something other than a registry, or takes longer than HTTP_HEAD_START_MS. A registry's
    // answer over plain HTTP (its API version header, no redirect) proves that the port speaks
    // HTTP and so cannot speak TLS: it decides at once, saving HTTPS's failed handshake (and
    // TLS's setup) on every run against a local registry. Otherwise HTTPS is preferred.
    const http = `http://${this.apiHost}`
    const stopHttp = new AbortController()
    const stopHttps = new AbortController()
    const viaHttp = this.probe(http, stopHttp.signal)
    const httpRegistry = viaHttp.then(
      (res) => (res.status < 500 && res.headers['docker-distribution-api-version'] && res.url.startsWith('http:') ? res : undefined),
      () => undefined,
    )
    const headStart = await Promise.race([httpRegistry, sleep(HTTP_HEAD_START_MS).then(() => undefined)])
    if (headStart) return this.accept(headStart, http)
    const viaHttps = this.probe(https, stopHttps.signal)
    viaHttps.catch(() => {})
    const first = await Promise.race([
      viaHttps.then(
        (res) => ({https: res}),
        (error: unknown) => ({error}),
      ),
      httpRegistry.then((res) => (res ? {http: res} : new Promise<never>(() => {}))),
    ])
    if ('http' in first) {
      stopHttps.abort()
      return this.accept(first.http, http)
    }
    if ('https' in first || !isNotTlsError(first.error)) {
      stopHttp.abort()
      viaHttp.then((res) => res.body.destroy(), () => {})
      if ('https' in first) return this.accept(first.https, https)
      throw this.networkError(first.error, https)
    }
    let res: RawResponse
    try {
      res = await viaHttp
    } catch (e) {
      throw this.networkError(e, http)
    }
    return this.accept(res, http)
  }

  /** probe asks `base` for `/v2/`; its failures are the caller's to name. */
  private probe(base: string, signal?: AbortSignal): Promise<RawResponse> {
    return this.opts.http.send({method: 'GET', url: `${base}/v2/`, noRetryCodes: ['ECONNREFUSED', 'ENOTFOUND'], signal, pacer: this.pacer, tls: this.opts.tls})
  }

  /** accept learns the challenge and warnings from a ping answer and settles on its scheme. */
  private async accept(res: RawResponse, base: string): Promise<string> {
    this.auth.setRegistryOrigin(base)
    this.noteWarnings(res.headers)
    if (res.status === 401) this.auth.setChallenge(pickChallenge(parseChallenges(res.headers['www-authenticate'])))
    if (res.status >= 500) {
      const body = await readBody(res.body, 64 * 1024, this.registry).catch(() => undefined)
      throw statusError(res.status, body, res.headers['content-type'], {registry: this.registry, subject: this.registry, server: this.otherHost(res.url, base)}, {method: 'GET', path: '/v2/'})
    }
    await drain(res.body)
    return base
  }

  /** request sends one registry API request with credentials; non-success statuses throw. */
  async request(req: RegistryRequest): Promise<RawResponse> {
    const base = await this.base()
    const target = this.target(req, base)
    const url = target.toString()
    // with --insecure the user allows the credential on the registry host's plain HTTP port too
    const origin = this.opts.insecure && target.host === new URL(base).host ? target.origin : base
    // a factory's streams, so a renewal after 401 does not send one again (a one-shot
    // stream's factory hands out the same, already read, stream: it would never end)
    const handedOut = new WeakSet<object>()
    const factory = typeof req.body === 'function' ? req.body : undefined
    const track = (next?: Readable): BodyFactory => () => {
      const stream = next ?? factory!()
      next = undefined
      handedOut.add(stream)
      return stream
    }
    let body = factory ? track() : req.body
    let header = await this.auth.header(req.scopes)
    for (let attempt = 0; ; attempt++) {
      this.refuseClearText(target, base, header, req)
      let res: RawResponse
      try {
        res = await this.opts.http.send({
          method: req.method,
          url,
          headers: req.headers,
          body,
          authorization: header ? {origin, value: header} : undefined,
          followRedirect: req.followRedirect,
          retry: req.retry,
          pacer: this.pacer,
          tls: this.opts.tls,
        })
      } catch (e) {
        throw this.networkError(e, url)
      }
      this.noteWarnings(res.headers)
      const challenge = res.status === 401 && attempt === 0 ? pickChallenge(parseChallenges(res.headers['www-authenticate'])) : undefined
      let replayable = req.body === undefined || typeof req.body === 'string' || Buffer.isBuffer(req.body)
      if (challenge && factory) {
        const fresh = factory()
        replayable = !handedOut.has(fresh) && !fresh.readableDidRead && !fresh.destroyed
        if (replayable) body = track(fresh)
      }
      if (challenge && replayable) {
        // an expired token, or a registry that challenges only some repositories
        if (challenge.scheme !== this.auth.scheme) this.auth.setChallenge(challenge)
        else this.auth.invalidate(header)
        await drain(res.body)
        header = await this.auth.header(req.scopes)
        continue
      }
      if (req.expect.includes(res.status) || req.allow?.includes(res.status)) return res
      // a throttling answer that asks for a longer wait than we make: say so, and when to come back
      const wait = res.status === 429 || res.status === 503 ? waitAsked(res) : undefined
      if (wait !== undefined && wait > this.opts.http.maxRetryAfterMs) {
        const slowDown = throttleText(res.headers, wait, retryAfterMs(res.headers['retry-after']) !== undefined)
        await drain(res.body)
        const about = req.context.what ? `${req.context.what} ${req.context.subject}` : req.context.subject
        throw new RegistryError(`${about}: ${this.registry} ${slowDown}`, {code: `HTTP_${res.status}`})
      }
      const answer = await readBody(res.body, 64 * 1024, this.registry).catch(() => undefined)
      const hadCredentials = await this.auth.hasCredentials()
      const server = this.otherHost(res.url, url)
      const path = (server ? webUrl(res.url) : target)?.pathname ?? target.pathname
      throw statusError(res.status, answer, res.headers['content-type'], {...req.context, registry: this.registry, hadCredentials, server}, {method: req.method, path})
    }
  }

  /**
   * target is where a request goes: a path on the registry, or an absolute URL it gave (an
   * upload `Location`, a `Link` page), which must be http(s); anything else is the registry's
   * fault, named as such (issue 12: a `file:` URL crashed the process).
   */
  private target(req: RegistryRequest, base: string): URL {
    const url = req.path.startsWith('/') && !req.path.startsWith('//') ? webUrl(base + req.path) : webUrl(req.path)
    if (url) return url
    const about = req.context.what ? `${req.context.what} ${req.context.subject}` : req.context.subject
    const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(req.path)?.[1]
    const what = scheme && !/^https?$/i.test(scheme) ? `a ${scheme.toLowerCase()}: URL` : 'an unreadable URL'
    throw new RegistryError(`${about}: ${this.registry} pointed ${req.method} to ${what}; only http and https are followed`, {code: 'BAD_URL'})
  }

  /**
   * refuseClearText: a credential learnt over HTTPS is not sent over plain HTTP (an upload
   * `Location` or a next page on `http:`), on loopback and private hosts too, unless the user
   * asked for it with --insecure. The HttpClient would drop it anyway; refusing here says why.
   */
  private refuseClearText(target: URL, base: string, header: string | undefined, req: RegistryRequest): void {
    if (!header || this.opts.insecure || target.protocol !== 'http:' || !base.startsWith('https:')) return
    if (target.host !== new URL(base).host) return // another host never gets the credential
    const about = req.context.what ? `${req.context.what} ${req.context.subject}` : req.context.subject
    throw new AuthError(`${about}: ${this.registry} is HTTPS but sent ${req.method} to plain-HTTP ${target.origin}; refusing to send credentials in clear text (use --insecure to allow)`, {
      code: 'INSECURE_LOCATION',
    })
  }

  /** networkError names the host that failed: after a redirect, not the registry. */
  private networkError(e: unknown, url: string): OcitoolError {
    const failed = webUrl(failedUrl(e) ?? url) ?? webUrl(url)
    const host = failed && failed.host !== new URL(url).host ? failed.host : this.registry
    return networkError(e, host, failed?.protocol.replace(':', '') ?? 'https', host === this.registry ? undefined : this.registry)
  }

  /** otherHost is the host that answered when a redirect led away from `asked`'s host. */
  private otherHost(answered: string, asked: string): string | undefined {
    const a = webUrl(answered)
    return a && a.host !== new URL(asked).host ? a.host : undefined
  }

  private noteWarnings(headers: Record<string, string | string[] | undefined>): void {
    const raw = headers.warning
    if (!raw || !this.opts.warn) return
    for (const value of Array.isArray(raw) ? raw : [raw]) {
      // `299 - "text"`; registries may send several, comma separated
      for (const m of value.matchAll(/\d{3}\s+\S+\s+"((?:[^"\\]|\\.)*)"/g)) {
        const text = m[1].replace(/\\(.)/g, '$1')
        if (this.warned.has(text)) continue
        this.warned.add(text)
        this.opts.warn(`${this.registry}: ${text}`)
      }
    }
  }
}
