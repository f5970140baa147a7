/**
 * client: the transport for one registry. It finds the scheme (HTTPS; HTTP as a fallback for
 * loopback, `*.local`, RFC 1918 hosts and `--insecure`, as crane does), learns the auth
 * challenge from `GET /v2/`, attaches credentials, renews a refused token once, shows the
 * registry's `Warning` headers once, and maps failures to one-line errors.
 */
import {isInsecureByDefault} from '../../name/reference.js'
import type {Keychain} from '../../auth/types.js'
import {RegistryError} from '../../errors.js'
import {Authenticator} from './auth.js'
import {parseChallenges, pickChallenge} from './challenge.js'
import {type ErrorContext, isNotTlsError, networkError, statusError} from './errors.js'
import {type BodyFactory, type HttpClient, type RawResponse, drain, readBody, retryAfterMs, waitAsked} from './http.js'
import {Pacer, throttleText} from './pacer.js'

/** how long HTTP alone is given to answer before HTTPS is tried beside it (loopback: ~3 ms) */
const HTTP_HEAD_START_MS = 100

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref())

export interface TransportOptions {
  http: HttpClient
  keychain?: Keychain
  insecure?: boolean
  /** shown once per distinct text: registry `Warning` headers */
  warn?: (message: string) => void
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
  readonly pacer = new Pacer()
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
    this.auth = new Authenticator({registry, keychain: opts.keychain, http: opts.http, insecure: opts.insecure})
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
        throw networkError(e, this.registry, 'https')
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
      throw networkError(first.error, this.registry, 'https')
    }
    let res: RawResponse
    try {
      res = await viaHttp
    } catch (e) {
      throw networkError(e, this.registry, 'http')
    }
    return this.accept(res, http)
  }

  /** probe asks `base` for `/v2/`; its failures are the caller's to name. */
  private probe(base: string, signal?: AbortSignal): Promise<RawResponse> {
    return this.opts.http.send({method: 'GET', url: `${base}/v2/`, noRetryCodes: ['ECONNREFUSED', 'ENOTFOUND'], signal, pacer: this.pacer})
  }

  /** accept learns the challenge and warnings from a ping answer and settles on its scheme. */
  private async accept(res: RawResponse, base: string): Promise<string> {
    this.noteWarnings(res.headers)
    if (res.status === 401) this.auth.setChallenge(pickChallenge(parseChallenges(res.headers['www-authenticate'])))
    if (res.status >= 500) {
      const body = await readBody(res.body, 64 * 1024, this.registry).catch(() => undefined)
      throw statusError(res.status, body, res.headers['content-type'], {registry: this.registry, subject: this.registry}, {method: 'GET', path: '/v2/'})
    }
    await drain(res.body)
    return base
  }

  /** request sends one registry API request with credentials; non-success statuses throw. */
  async request(req: RegistryRequest): Promise<RawResponse> {
    const base = await this.base()
    const url = /^https?:\/\//.test(req.path) ? req.path : base + req.path
    const authHost = new URL(base).host
    let header = await this.auth.header(req.scopes)
    for (let attempt = 0; ; attempt++) {
      let res: RawResponse
      try {
        res = await this.opts.http.send({
          method: req.method,
          url,
          headers: req.headers,
          body: req.body,
          authorization: header ? {host: authHost, value: header} : undefined,
          followRedirect: req.followRedirect,
          retry: req.retry,
          pacer: this.pacer,
        })
      } catch (e) {
        throw networkError(e, this.registry, new URL(url).protocol.replace(':', ''))
      }
      this.noteWarnings(res.headers)
      const replayable = req.body === undefined || typeof req.body !== 'object' || Buffer.isBuffer(req.body)
      if (res.status === 401 && attempt === 0 && (replayable || typeof req.body === 'function')) {
        // an expired token, or a registry that challenges only some repositories
        const challenge = pickChallenge(parseChallenges(res.headers['www-authenticate']))
        if (challenge) {
          if (challenge.scheme !== this.auth.scheme) this.auth.setChallenge(challenge)
          else this.auth.invalidate(header)
          await drain(res.body)
          header = await this.auth.header(req.scopes)
          continue
        }
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
      const body = await readBody(res.body, 64 * 1024, this.registry).catch(() => undefined)
      const hadCredentials = await this.auth.hasCredentials()
      throw statusError(res.status, body, res.headers['content-type'], {...req.context, registry: this.registry, hadCredentials}, {method: req.method, path: new URL(url).pathname})
    }
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
