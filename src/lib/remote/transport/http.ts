/**
 * http: the one place that speaks HTTP, on node:http and node:https with keep-alive agents.
 * Every request is a stream; bodies of small documents are read with a size cap. Retries with
 * exponential backoff and jitter on 408/429/5xx and dropped connections, honouring
 * `Retry-After`. Redirects are followed (at most 10, http and https only); `Authorization` goes
 * only to the host the credential is for and never from https to http, so a redirect to blob
 * storage never carries it; a body holding a credential (an OAuth2 token POST) is never replayed
 * to another origin or from https to http (issue 12). A failed request's error tells which URL
 * failed (`failedUrl`), so a message after a redirect names the host that failed.
 *
 * Why not got (the stack's HTTP library, used here until it was measured): the requests an
 * image copy makes are many and small (HEAD, POST, PUT per blob), and got's per-request work
 * (options merging and validation, hooks, a proxy stream in front of every body, timers)
 * cost 2.5x the CPU of node:http itself: a 40-layer copy spent 0.45 CPU-s against 0.17 for
 * skopeo, and on a 2-core machine shared with two registries CPU is time. On node:http the
 * same copy takes 0.31 CPU-s and 20 % less time, the 384 MiB copy 25 % less CPU. What got
 * gave us that node:http does not (redirects, connect and idle timeouts) is below.
 */
import {readFileSync} from 'node:fs'
import http from 'node:http'
import https from 'node:https'
import {Readable} from 'node:stream'
import tls from 'node:tls'
import {InterruptedError, OcitoolError, RegistryError} from '../../errors.js'
import {errorCode} from './errors.js'
import {mayCarry, noteFailedUrl, redactAuth, redactUrl, webUrl} from './urls.js'

export {failedUrl, redactUrl, webUrl} from './urls.js'
import {type Pacer, rateLimit} from './pacer.js'

export interface HttpOptions {
  /** skip TLS verification (and, in the client, allow plain HTTP) */
  insecure?: boolean
  /** PEM files of extra trusted CAs (`--ca-file`); NODE_EXTRA_CA_CERTS is added too */
  caFiles?: string[]
  /** how many times a failed request is tried again (default 4, env OCITOOL_RETRIES) */
  retries?: number
  /** first backoff delay in ms, doubled each try (default 500, env OCITOOL_RETRY_BASE_MS) */
  retryBaseMs?: number
  /** largest Retry-After honoured, in ms; a longer one fails at once (default 60 s) */
  maxRetryAfterMs?: number
  userAgent?: string
  /** name lookup, connection and TLS handshake together (default 15 s) */
  connectTimeoutMs?: number
  /** longest silence on a connection while a request is under way (default 120 s) */
  idleTimeoutMs?: number
  /** --verbose trace, secrets redacted */
  log?: (message: string) => void
  signal?: AbortSignal
}

/** TlsSettings: one registry's TLS, instead of the client's (skopeo's --src-tls-verify=false, --dest-cert-dir) */
export interface TlsSettings {
  /** skip verification (undefined: the client's `insecure`) */
  insecure?: boolean
  /** PEM files of CAs trusted for this registry, besides the client's */
  caFiles?: string[]
}

export type BodyFactory = () => Readable
export interface RawRequest {
  method: string
  url: string
  headers?: Record<string, string>
  /** a Buffer/string is replayed on retry; a factory is called again for each try */
  body?: Buffer | string | BodyFactory
  /**
   * sent only to `origin`'s host, and over plain HTTP only when `origin` itself is plain HTTP
   * (an https origin's credential never goes in clear, even to the same host's http port)
   */
  authorization?: {origin: string; value: string}
  /** the body is a credential (password, refresh token): a redirect may not take it to another origin, nor from https to http */
  secretBody?: boolean
  followRedirect?: boolean
  /** false: no retries (e.g. a non-replayable body, or a probe) */
  retry?: boolean
  /** network error codes that are not retried for this request (e.g. ECONNREFUSED for a ping) */
  noRetryCodes?: string[]
  /** cancels this request alone (the client's own signal cancels every request) */
  signal?: AbortSignal
  /** the registry's pacer: each try waits for a place and reports its answer (see pacer.ts) */
  pacer?: Pacer
  /** the registry's own TLS settings (redirects keep them) */
  tls?: TlsSettings
}

export interface RawResponse {
  status: number
  headers: http.IncomingHttpHeaders
  /** the final URL, after redirects */
  url: string
  /** must be consumed or destroyed */
  body: Readable
}

const REDIRECTS = new Set([301, 302, 303, 307, 308])
const MAX_REDIRECTS = 10
const CONNECT_TIMEOUT_MS = 15_000
const IDLE_TIMEOUT_MS = 120_000

function codedError(code: string, message: string): Error {
  return Object.assign(new Error(message), {code})
}

const RETRY_STATUS = new Set([408, 429, 500, 502, 503, 504])
/** tries after a throttling answer (429, 503), at least: the pacer slows down meanwhile */
const THROTTLE_RETRIES = 10
const RETRY_CODES = new Set(['ETIMEDOUT', 'ECONNRESET', 'EPIPE', 'ECONNREFUSED', 'EAI_AGAIN', 'ENETUNREACH', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE'])

/** HttpClient: keep-alive agents shared by every registry of an operation. */
export class HttpClient {
  readonly options: HttpOptions
  private readonly agents: {http: http.Agent; https: https.Agent}
  /** https agents of registries with TLS settings of their own, by settings */
  private readonly tlsAgents = new Map<string, https.Agent>()
  /** how to stop each request not yet finished (called when the client's signal fires) */
  private readonly live = new Set<() => void>()

  constructor(options: HttpOptions = {}) {
    this.options = options
    const ca = trustedCAs(options.caFiles)
    this.agents = {
      http: new http.Agent({keepAlive: true, maxSockets: 32}),
      https: new https.Agent({keepAlive: true, maxSockets: 32, ca, rejectUnauthorized: !options.insecure}),
    }
    // one listener for the client, not one per request (an abort listener left on the signal
    // keeps its request reachable for the whole operation)
    options.signal?.addEventListener('abort', () => {
      for (const stop of this.live) stop()
    }, {once: true})
  }

  /** the longest wait a registry may ask for (Retry-After, a rate-limit window) that is waited out */
  get maxRetryAfterMs(): number {
    return this.options.maxRetryAfterMs ?? 60_000
  }

  /**
   * send performs a request with retries and returns the response with its body unread. A
   * throttling answer (429, 503) has a budget of its own (THROTTLE_RETRIES): the registry is
   * alive and asks for less, and the pacer gives it less; a wait longer than maxRetryAfterMs
   * (`Retry-After`, or an exhausted `ratelimit-remaining`) returns the answer for the caller to
   * explain instead of waiting.
   */
  async send(req: RawRequest): Promise<RawResponse> {
    const configured = this.options.retries ?? envNumber('OCITOOL_RETRIES')
    const retries = req.retry === false ? 0 : (configured ?? 4)
    // a budget the user set is the budget; by default a throttling registry gets more tries
    const throttleRetries = req.retry === false ? 0 : (configured ?? THROTTLE_RETRIES)
    const base = this.options.retryBaseMs ?? envNumber('OCITOOL_RETRY_BASE_MS') ?? 500
    const maxRetryAfter = this.maxRetryAfterMs
    let throttles = 0
    for (let attempt = 0; ; attempt++) {
      this.checkAborted(req.signal)
      const release = req.pacer ? await req.pacer.acquire(this.options.signal, req.signal) : undefined
      let res: RawResponse
      try {
        res = await this.once(req)
      } catch (e) {
        release?.(0)
        const code = errorCode(e) ?? ''
        if (attempt < retries && RETRY_CODES.has(code) && !req.noRetryCodes?.includes(code)) {
          const delay = backoff(base, attempt)
          this.trace(() => `${req.method} ${redactUrl(req.url)} failed (${code}); retrying in ${delay} ms`)
          await this.sleep(delay, req.signal)
          continue
        }
        throw e
      }
      release?.(res.status)
      const wait = waitAsked(res)
      if (res.status === 429 || res.status === 503) {
        if (wait !== undefined && wait > maxRetryAfter) return res
        if (wait !== undefined) req.pacer?.pause(wait)
        if (throttles >= throttleRetries) return res
        const delay = wait ?? backoff(base, Math.min(throttles, 6))
        throttles++
        this.trace(() => `${req.method} ${redactUrl(req.url)} answered ${res.status}; slowing down, retrying in ${delay} ms`)
        res.body.resume()
        await this.sleep(delay, req.signal)
        continue
      }
      if (attempt < retries && RETRY_STATUS.has(res.status)) {
        if (wait !== undefined && wait > maxRetryAfter) return res
        const delay = wait ?? backoff(base, attempt)
        this.trace(() => `${req.method} ${redactUrl(req.url)} answered ${res.status}; retrying in ${delay} ms`)
        res.body.resume()
        await this.sleep(delay, req.signal)
        continue
      }
      // the last request of a short rate-limit window: the next ones wait for the window to pass
      const spent = req.pacer && res.status < 300 ? exhaustedWindowMs(res.headers) : undefined
      if (spent !== undefined && spent <= maxRetryAfter) req.pacer!.pause(spent)
      return res
    }
  }

  /**
   * once sends one request (following redirects) and resolves with the response, body unread.
   * `Authorization` goes only to the credential's own host, so a redirect elsewhere (blob
   * storage) never carries it; a streamed body is not replayable, so its request does not
   * follow redirects (the 3xx answer is returned).
   */
  private once(req: RawRequest): Promise<RawResponse> {
    const started = Date.now()
    const body = typeof req.body === 'function' ? req.body() : req.body
    const own = req.signal
    const connectMs = this.options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS
    const idleMs = this.options.idleTimeoutMs ?? IDLE_TIMEOUT_MS
    const credentialOrigin = req.authorization ? webUrl(req.authorization.origin) : undefined
    this.trace(() => `--> ${req.method} ${redactUrl(req.url)}${req.authorization ? ` (authorization: ${redactAuth(req.authorization.value)})` : ''}`)
    return new Promise<RawResponse>((resolve, reject) => {
      let settled = false
      let current: {destroy(e?: Error): unknown} | undefined
      let at = req.url
      const fail = (e: Error) => {
        if (settled) return
        settled = true
        noteFailedUrl(e, at)
        cleanup()
        if (body instanceof Readable) body.destroy()
        reject(this.options.signal?.aborted || own?.aborted ? new InterruptedError('interrupted', {cause: e}) : e)
      }
      const stop = () => current?.destroy(new InterruptedError())
      const cleanup = () => {
        this.live.delete(stop)
        own?.removeEventListener('abort', stop)
      }
      this.live.add(stop)
      own?.addEventListener('abort', stop, {once: true})
      const go = (url: URL, method: string, payload: Buffer | string | Readable | undefined, hops: number) => {
        at = url.toString()
        const headers: Record<string, string> = {'user-agent': this.options.userAgent ?? 'ocitool', ...req.headers}
        const secure = url.protocol === 'https:'
        // the credential's host only, and never over plain HTTP when it is an HTTPS origin's
        if (req.authorization && credentialOrigin && mayCarry(credentialOrigin, url)) headers.authorization = req.authorization.value
        if (payload === undefined) {
          if (hops > 0) {
            // a body dropped by a 303 takes its description along
            delete headers['content-length']
            delete headers['content-type']
          }
          if (method !== 'GET' && method !== 'HEAD') headers['content-length'] = '0'
        } else if (!(payload instanceof Readable) && headers['content-length'] === undefined) {
          headers['content-length'] = String(Buffer.byteLength(payload))
        }
        const request = (secure ? https : http).request(url, {method, headers, agent: secure ? this.httpsAgent(req.tls) : this.agents.http})
        current = request
        request.setTimeout(idleMs, () => request.destroy(codedError('ETIMEDOUT', `${method} ${url.host}: nothing received for ${idleMs / 1000} s`)))
        request.once('socket', (socket) => {
          if (!socket.connecting) return
          // name lookup, connection and TLS handshake together get CONNECT_TIMEOUT_MS
          const t = setTimeout(() => request.destroy(codedError('ETIMEDOUT', `${url.host}: no connection within ${connectMs / 1000} s`)), connectMs)
          socket.once(secure ? 'secureConnect' : 'connect', () => clearTimeout(t))
          socket.once('close', () => clearTimeout(t))
        })
        request.on('error', fail)
        request.once('response', (res) => {
          const status = res.statusCode ?? 0
          const location = res.headers.location
          const replayable = !(payload instanceof Readable)
          if (REDIRECTS.has(status) && location && (req.followRedirect ?? true) && replayable) {
            res.resume()
            request.off('error', fail)
            request.on('error', () => {})
            if (hops >= MAX_REDIRECTS) {
              fail(codedError('ERR_TOO_MANY_REDIRECTS', `more than ${MAX_REDIRECTS} redirects for ${req.method} ${redactUrl(req.url)}`))
              return
            }
            const next = webUrl(location, url)
            if (!next) {
              // file:, data:, ftp: ... are not for a registry client to open (node would throw)
              const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(location)?.[1]
              const what = scheme && !/^https?$/i.test(scheme) ? `a ${scheme.toLowerCase()}: URL` : 'an unreadable location'
              fail(codedError('ERR_BAD_REDIRECT', `redirected ${method} to ${what}; only http and https are followed`))
              return
            }
            // 303 asks for a GET; the others keep the method (and a replayable body)
            const rewrite = status === 303 && method !== 'GET' && method !== 'HEAD'
            if (req.secretBody && !rewrite && payload !== undefined && (next.origin !== url.origin)) {
              // a password or refresh token in a body is as secret as one in a header
              fail(codedError('ERR_CREDENTIAL_REDIRECT', `redirected a ${method} carrying credentials to ${next.origin}; refusing to send them to another origin`))
              return
            }
            try {
              go(next, rewrite ? 'GET' : method, rewrite ? undefined : payload, hops + 1)
            } catch (e) {
              fail(e as Error) // thrown in a response callback it would end the process
            }
            return
          }
          settled = true
          current = res
          request.off('error', fail)
          // errors from here on reach the body's reader; one nobody listens to (a body left
          // unread when an abort destroys it) must not crash the process
          request.on('error', (e) => res.destroy(e))
          res.on('error', () => {})
          res.once('close', cleanup)
          this.trace(() => `<-- ${status} ${req.method} ${redactUrl(url.toString())} (${Date.now() - started} ms)`)
          resolve({status, headers: res.headers, url: url.toString(), body: res})
        })
        if (payload instanceof Readable) {
          // a body that failed before it was sent (its source could not be opened) ends the
          // request now: its 'error' event is gone, and piping it would wait for ever
          if (payload.destroyed) {
            request.destroy(payload.errored ?? codedError('ERR_STREAM_DESTROYED', `${method} ${url.host}: the request body was closed before it was sent`))
            return
          }
          payload.once('error', (e) => request.destroy(e))
          payload.pipe(request)
        } else {
          request.end(payload)
        }
      }
      const first = webUrl(req.url)
      if (!first) {
        fail(codedError('ERR_INVALID_URL', `not an http(s) URL: ${redactUrl(req.url)}`))
        return
      }
      try {
        go(first, req.method, body, 0)
      } catch (e) {
        fail(e as Error)
      }
    })
  }

  /** httpsAgent: the client's, or one for a registry's own TLS settings (made once per settings). */
  private httpsAgent(t: TlsSettings | undefined): https.Agent {
    if (!t || (t.insecure === undefined && !t.caFiles?.length)) return this.agents.https
    const insecure = t.insecure ?? this.options.insecure ?? false
    const caFiles = [...(this.options.caFiles ?? []), ...(t.caFiles ?? [])]
    const key = JSON.stringify([insecure, caFiles])
    let agent = this.tlsAgents.get(key)
    if (!agent) {
      agent = new https.Agent({keepAlive: true, maxSockets: 32, ca: trustedCAs(caFiles), rejectUnauthorized: !insecure})
      this.tlsAgents.set(key, agent)
    }
    return agent
  }

  /** close frees the keep-alive sockets. */
  close(): void {
    this.agents.http.destroy()
    this.agents.https.destroy()
    for (const a of this.tlsAgents.values()) a.destroy()
  }

  /** trace logs for --verbose; the message is built only then (redacting parses the URL) */
  private trace(message: () => string): void {
    if (this.options.log) this.options.log(message())
  }

  /** checkAborted throws once the client's signal (or this request's own) has fired. */
  private checkAborted(own?: AbortSignal): void {
    if (this.options.signal?.aborted || own?.aborted) throw new InterruptedError()
  }

  /** sleep waits between tries; either signal ends the wait (and the request) at once. */
  private sleep(ms: number, own?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const signals = [this.options.signal, own].filter((x): x is AbortSignal => x !== undefined)
      const t = setTimeout(() => {
        for (const sig of signals) sig.removeEventListener('abort', onAbort)
        resolve()
      }, ms)
      const onAbort = () => {
        clearTimeout(t)
        for (const sig of signals) sig.removeEventListener('abort', onAbort)
        reject(new InterruptedError())
      }
      for (const sig of signals) sig.addEventListener('abort', onAbort, {once: true})
    })
  }
}

/** readBody reads a whole (small) body; more than `cap` bytes is an error naming `what`. */
export async function readBody(body: Readable, cap: number, what: string): Promise<Buffer> {
  const chunks: Buffer[] = []
  let total = 0
  try {
    for await (const chunk of body) {
      total += (chunk as Buffer).length
      if (total > cap) {
        body.destroy()
        throw new RegistryError(`${what}: larger than ${cap} bytes; refusing to read it`, {code: 'TOO_LARGE'})
      }
      chunks.push(chunk as Buffer)
    }
  } catch (e) {
    if (e instanceof OcitoolError) throw e
    // a connection lost or silent mid-body is the registry's (or the network's) failure
    const code = errorCode(e)
    throw new RegistryError(`${what}: the answer broke off after ${total} bytes (${code ?? (e as Error).message})`, {code: code ?? 'TRUNCATED', cause: e})
  }
  return Buffer.concat(chunks)
}

/** drain discards a body so the connection can be reused. */
export async function drain(body: Readable): Promise<void> {
  try {
    for await (const _ of body) {
      // discard
    }
  } catch {
    // the connection is lost anyway
  }
}

function trustedCAs(files: string[] | undefined): string[] | undefined {
  const extra = [...(files ?? [])]
  if (extra.length === 0) return undefined // Node's defaults, which include NODE_EXTRA_CA_CERTS
  const env = process.env.NODE_EXTRA_CA_CERTS
  if (env) extra.push(env)
  return [...tls.rootCertificates, ...extra.map((f) => readFileSync(f, 'utf8'))]
}

function backoff(baseMs: number, attempt: number): number {
  const exp = Math.min(baseMs * 2 ** attempt, 30_000)
  return Math.round(exp / 2 + Math.random() * (exp / 2))
}

/**
 * waitAsked is how long a registry asks to be left alone: `Retry-After`, else the window of an
 * exhausted `ratelimit-remaining: 0;w=SECONDS` (Docker Hub); undefined when it asks nothing.
 */
export function waitAsked(res: Pick<RawResponse, 'headers'>): number | undefined {
  return retryAfterMs(res.headers['retry-after']) ?? exhaustedWindowMs(res.headers)
}

function exhaustedWindowMs(headers: RawResponse['headers']): number | undefined {
  const limit = rateLimit(headers)
  return limit?.remaining === 0 && limit.windowSeconds !== undefined ? limit.windowSeconds * 1000 : undefined
}

/** retryAfterMs reads `Retry-After` (seconds or an HTTP date). */
export function retryAfterMs(value: string | string[] | undefined): number | undefined {
  const v = Array.isArray(value) ? value[0] : value
  if (!v) return undefined
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000
  const at = Date.parse(v)
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now())
}

function envNumber(name: string): number | undefined {
  const v = process.env[name]
  if (v === undefined || v === '' || !/^\d+$/.test(v)) return undefined
  return Number(v)
}
