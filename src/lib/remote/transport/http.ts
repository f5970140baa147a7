/**
 * http: the client every registry request goes through: keep-alive agents shared by the
 * registries of an operation, retries with exponential backoff and jitter on 408/429/5xx and
 * dropped connections (honouring `Retry-After`, see retry.ts), and cancellation. One exchange
 * (redirects, timeouts, where a credential may go) is request.ts; reading or discarding a
 * body is body.ts.
 *
 * Why not got (the stack's HTTP library, used here until it was measured): the requests an
 * image copy makes are many and small (HEAD, POST, PUT per blob), and got's per-request work
 * (options merging and validation, hooks, a proxy stream in front of every body, timers)
 * cost 2.5x the CPU of node:http itself: a 40-layer copy spent 0.45 CPU-s against 0.17 for
 * skopeo, and on a 2-core machine shared with two registries CPU is time. On node:http the
 * same copy takes 0.31 CPU-s and 20 % less time, the 384 MiB copy 25 % less CPU. What got
 * gave us that node:http does not (redirects, connect and idle timeouts) is in request.ts.
 */
import {readFileSync} from 'node:fs'
import http from 'node:http'
import https from 'node:https'
import net from 'node:net'
import tls from 'node:tls'
import {InterruptedError} from '../../errors.js'
import {errorCode} from './errors.js'
import {type ExchangeContext, type RawRequest, type RawResponse, type TlsSettings, exchange} from './request.js'
import {RETRY_CODES, RETRY_STATUS, THROTTLE_RETRIES, backoff, envNumber, exhaustedWindowMs, waitAsked} from './retry.js'
import {redactUrl} from './urls.js'

export {drain, readBody} from './body.js'
export type {BodyFactory, RawRequest, RawResponse, TlsSettings} from './request.js'
export {retryAfterMs, waitAsked} from './retry.js'
export {failedUrl, redactUrl, webUrl} from './urls.js'

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

/** HttpClient: keep-alive agents shared by every registry of an operation. */
export class HttpClient {
  readonly options: HttpOptions
  /** the https agent is made on the first https request (loading node:https and node:tls costs a plain-HTTP run ~12M instructions) */
  private readonly agents: {http: http.Agent; https?: https.Agent}
  /** https agents of registries with TLS settings of their own, by settings */
  private readonly tlsAgents = new Map<string, https.Agent>()
  private readonly defaultHttpsAgent: () => https.Agent
  /** how to stop each request not yet finished (called when the client's signal fires) */
  private readonly live = new Set<() => void>()
  /** what each exchange needs from this client (request.ts) */
  private readonly context: ExchangeContext

  /** OCITOOL_RETRIES and OCITOOL_RETRY_BASE_MS, read once: process.env is slow to read (4 ms a copy of 40 small blobs, read per request) */
  private readonly env: {retries?: number; retryBaseMs?: number}

  constructor(options: HttpOptions = {}) {
    this.options = options
    this.env = {retries: envNumber('OCITOOL_RETRIES'), retryBaseMs: envNumber('OCITOOL_RETRY_BASE_MS')}
    const ca = trustedCAs(options.caFiles)
    this.agents = {http: largeReadAgent()}
    this.defaultHttpsAgent = () => (this.agents.https ??= new https.Agent({keepAlive: true, maxSockets: 32, ca, rejectUnauthorized: !options.insecure}))
    this.context = {
      httpAgent: this.agents.http,
      httpsAgent: (t) => this.httpsAgent(t),
      live: this.live,
      signal: options.signal,
      userAgent: options.userAgent,
      connectTimeoutMs: options.connectTimeoutMs,
      idleTimeoutMs: options.idleTimeoutMs,
      trace: (message) => this.trace(message),
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
    const configured = this.options.retries ?? this.env.retries
    const retries = req.retry === false ? 0 : (configured ?? 4)
    // a budget the user set is the budget; by default a throttling registry gets more tries
    const throttleRetries = req.retry === false ? 0 : (configured ?? THROTTLE_RETRIES)
    const base = this.options.retryBaseMs ?? this.env.retryBaseMs ?? 500
    const maxRetryAfter = this.maxRetryAfterMs
    let throttles = 0
    for (let attempt = 0; ; attempt++) {
      this.checkAborted(req.signal)
      const release = req.pacer ? await req.pacer.acquire(this.options.signal, req.signal) : undefined
      let res: RawResponse
      try {
        res = await exchange(this.context, req)
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

  /** httpsAgent: the client's, or one for a registry's own TLS settings (made once per settings). */
  private httpsAgent(t: TlsSettings | undefined): https.Agent {
    if (!t || (t.insecure === undefined && !t.caFiles?.length)) return this.defaultHttpsAgent()
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
    this.agents.https?.destroy()
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

/**
 * READ_BUFFER: plain-HTTP sockets read into buffers of up to this size. Node's sockets read
 * 64 KiB at a time, and every read is a trip through the HTTP parser and the body's streams,
 * then a copy when the verifier regroups the pieces into 1 MiB ones: for a 384 MiB export,
 * ~6000 reads whose parsing and copying were a quarter of the main thread's CPU. 256 KiB and
 * not 1 MiB: every keep-alive socket holds its buffer, and a sync with 32 sockets per registry
 * peaked at 202 MB with 1 MiB (152 MB with 256 KiB; export as fast with either).
 */
const READ_BUFFER = 256 * 1024
/** a read that left less than this of its buffer gets a fresh buffer; else the rest is read into */
const READ_MIN = 64 * 1024

/**
 * largeReadAgent: a keep-alive agent whose sockets read with `onread` into large buffers and
 * hand each read to the HTTP parser as a 'data' event (as a socket does itself). The part of a
 * buffer a read did not fill is the next read's buffer, so small answers cost no megabyte each;
 * a read's bytes are never written again (each read gets the part after the last one).
 */
function largeReadAgent(): http.Agent {
  const agent = new http.Agent({keepAlive: true, maxSockets: 32})
  ;(agent as unknown as {createConnection: typeof net.createConnection}).createConnection = ((options: net.NetConnectOpts, listener?: () => void) => {
    let buffer = Buffer.allocUnsafe(READ_BUFFER)
    let used = 0
    const onread = {
      buffer: () => {
        buffer = buffer.length - used >= READ_MIN ? buffer.subarray(used) : Buffer.allocUnsafe(READ_BUFFER)
        used = 0
        return buffer
      },
      callback(this: net.Socket, n: number, buf: Uint8Array) {
        used = n
        this.emit('data', Buffer.from(buf.buffer, buf.byteOffset, n))
        return true
      },
    }
    return net.createConnection({...options, onread} as net.NetConnectOpts, listener)
  }) as typeof net.createConnection
  return agent
}

function trustedCAs(files: string[] | undefined): string[] | undefined {
  const extra = [...(files ?? [])]
  if (extra.length === 0) return undefined // Node's defaults, which include NODE_EXTRA_CA_CERTS
  const env = process.env.NODE_EXTRA_CA_CERTS
  if (env) extra.push(env)
  return [...tls.rootCertificates, ...extra.map((f) => readFileSync(f, 'utf8'))]
}
