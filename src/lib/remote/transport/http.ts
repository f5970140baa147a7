/**
 * http: the one place that speaks HTTP (through got). Every request is a stream; bodies of
 * small documents are read with a size cap. Retries with exponential backoff and jitter on
 * 408/429/5xx and dropped connections, honouring `Retry-After`.
 *
 * `Authorization` is attached by a beforeRequest hook only when the request's host is the one
 * the credential is for, because got runs beforeRequest again after a redirect (to blob
 * storage, say) and the credential must never reach that other host.
 */
import {readFileSync} from 'node:fs'
import http from 'node:http'
import https from 'node:https'
import {Readable} from 'node:stream'
import tls from 'node:tls'
import got, {type Got} from 'got'
import {InterruptedError, RegistryError} from '../../errors.js'
import {errorCode} from './errors.js'

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
  /** --verbose trace, secrets redacted */
  log?: (message: string) => void
  signal?: AbortSignal
}

export type BodyFactory = () => Readable
export interface RawRequest {
  method: string
  url: string
  headers?: Record<string, string>
  /** a Buffer/string is replayed on retry; a factory is called again for each try */
  body?: Buffer | string | BodyFactory
  /** sent only while the request's host is `host` */
  authorization?: {host: string; value: string}
  followRedirect?: boolean
  /** false: no retries (e.g. a non-replayable body, or a probe) */
  retry?: boolean
  /** network error codes that are not retried for this request (e.g. ECONNREFUSED for a ping) */
  noRetryCodes?: string[]
  /** cancels this request alone (the client's own signal cancels every request) */
  signal?: AbortSignal
}

export interface RawResponse {
  status: number
  headers: http.IncomingHttpHeaders
  /** the final URL, after redirects */
  url: string
  /** must be consumed or destroyed */
  body: Readable
}

const RETRY_STATUS = new Set([408, 429, 500, 502, 503, 504])
const RETRY_CODES = new Set(['ETIMEDOUT', 'ECONNRESET', 'EPIPE', 'ECONNREFUSED', 'EAI_AGAIN', 'ENETUNREACH', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE'])

/** HttpClient: keep-alive agents and a got instance, shared by every registry of an operation. */
export class HttpClient {
  readonly options: HttpOptions
  private readonly got: Got
  private readonly agents: {http: http.Agent; https: https.Agent}
  /** requests not yet finished, destroyed when the client's signal fires */
  private readonly live = new Set<Readable>()

  constructor(options: HttpOptions = {}) {
    this.options = options
    const ca = trustedCAs(options.caFiles)
    this.agents = {
      http: new http.Agent({keepAlive: true, maxSockets: 32}),
      https: new https.Agent({keepAlive: true, maxSockets: 32, ca, rejectUnauthorized: !options.insecure}),
    }
    this.got = got.extend({
      agent: this.agents,
      https: {rejectUnauthorized: !options.insecure, certificateAuthority: ca},
      retry: {limit: 0},
      throwHttpErrors: false,
      decompress: false,
      timeout: {lookup: 10_000, connect: 15_000, secureConnect: 15_000, socket: 120_000},
      headers: {'user-agent': options.userAgent ?? 'ocitool'},
      hooks: {
        beforeRequest: [
          (o) => {
            const auth = (o.context as {authorization?: {host: string; value: string}}).authorization
            const url = o.url instanceof URL ? o.url : new URL(String(o.url))
            if (auth && url.host === auth.host) o.headers.authorization = auth.value
            else delete o.headers.authorization
          },
        ],
      },
    })
    // one listener for the client rather than got's `signal` option on every request: got
    // removes that listener only when a request is destroyed, which a finished got stream never
    // is, so a long operation piled up thousands of listeners, each holding its request (and
    // the old generation grew by them: a mark-compact every few MiB moved)
    options.signal?.addEventListener('abort', () => {
      for (const s of this.live) s.destroy(new InterruptedError())
    }, {once: true})
  }

  /** send performs a request with retries and returns the response with its body unread. */
  async send(req: RawRequest): Promise<RawResponse> {
    const retries = req.retry === false ? 0 : (this.options.retries ?? envNumber('OCITOOL_RETRIES') ?? 4)
    const base = this.options.retryBaseMs ?? envNumber('OCITOOL_RETRY_BASE_MS') ?? 500
    const maxRetryAfter = this.options.maxRetryAfterMs ?? 60_000
    for (let attempt = 0; ; attempt++) {
      this.checkAborted(req.signal)
      let res: RawResponse
      try {
        res = await this.once(req)
      } catch (e) {
        const code = errorCode(e) ?? ''
        if (attempt < retries && RETRY_CODES.has(code) && !req.noRetryCodes?.includes(code)) {
          const delay = backoff(base, attempt)
          this.trace(() => `${req.method} ${redactUrl(req.url)} failed (${code}); retrying in ${delay} ms`)
          await this.sleep(delay, req.signal)
          continue
        }
        throw e
      }
      if (attempt < retries && RETRY_STATUS.has(res.status)) {
        const after = retryAfterMs(res.headers['retry-after'])
        if (after !== undefined && after > maxRetryAfter) return res
        const delay = after ?? backoff(base, attempt)
        this.trace(() => `${req.method} ${redactUrl(req.url)} answered ${res.status}; retrying in ${delay} ms`)
        res.body.resume()
        await this.sleep(delay, req.signal)
        continue
      }
      return res
    }
  }

  private once(req: RawRequest): Promise<RawResponse> {
    const started = Date.now()
    const body = typeof req.body === 'function' ? req.body() : req.body
    const stream = this.got.stream(req.url, {
      method: req.method as 'GET',
      headers: req.headers,
      body: body as Buffer | undefined,
      context: {authorization: req.authorization},
      followRedirect: req.followRedirect ?? true,
    })
    // a finished request is destroyed, which frees what got keeps for it; `close` follows
    const own = req.signal
    const onAbort = () => stream.destroy(new InterruptedError())
    this.live.add(stream)
    own?.addEventListener('abort', onAbort, {once: true})
    stream.once('end', () => stream.destroy())
    stream.once('close', () => {
      this.live.delete(stream)
      own?.removeEventListener('abort', onAbort)
    })
    // got's duplex stream waits for a request body on methods that may carry one
    if (body === undefined && req.method !== 'GET' && req.method !== 'HEAD') stream.end()
    this.trace(() => `--> ${req.method} ${redactUrl(req.url)}${req.authorization ? ` (authorization: ${redactAuth(req.authorization.value)})` : ''}`)
    return new Promise<RawResponse>((resolve, reject) => {
      const onError = (e: Error) => {
        if (body instanceof Readable) body.destroy()
        reject(this.options.signal?.aborted || own?.aborted ? new InterruptedError('interrupted', {cause: e}) : e)
      }
      stream.once('error', onError)
      stream.once('response', (res: http.IncomingMessage & {url?: string; redirectUrls?: URL[]}) => {
        stream.off('error', onError)
        // later errors surface on the body stream, where the reader sees them; an abort also
        // destroys a body that was already read (or never will be), and that error must not
        // crash the process as an unhandled 'error' event
        stream.on('error', () => {})
        this.trace(() => `<-- ${res.statusCode} ${req.method} ${redactUrl(res.url ?? req.url)} (${Date.now() - started} ms)`)
        resolve({status: res.statusCode ?? 0, headers: res.headers, url: res.url ?? req.url, body: stream})
      })
    })
  }

  /** close frees the keep-alive sockets. */
  close(): void {
    this.agents.http.destroy()
    this.agents.https.destroy()
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
  for await (const chunk of body) {
    total += (chunk as Buffer).length
    if (total > cap) {
      body.destroy()
      throw new RegistryError(`${what}: larger than ${cap} bytes; refusing to read it`, {code: 'TOO_LARGE'})
    }
    chunks.push(chunk as Buffer)
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

/** redactUrl hides credentials in a URL's user info and secret-looking query parameters. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url)
    if (u.password) u.password = 'REDACTED'
    for (const k of [...u.searchParams.keys()]) {
      if (/token|secret|password|signature|credential/i.test(k)) u.searchParams.set(k, 'REDACTED')
    }
    return u.toString()
  } catch {
    return '(unparseable url)'
  }
}

function redactAuth(value: string): string {
  const scheme = value.split(' ')[0]
  return `${scheme} REDACTED`
}
