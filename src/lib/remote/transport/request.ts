/**
 * request: one HTTP exchange on node:http / node:https: the request (a buffer, or a stream piped
 * in), redirects (at most 10, http and https only), the connect and idle timeouts, and
 * cancellation; the retries around it are the client's (http.ts). `Authorization` goes only to
 * the host the credential is for and never from https to http, so a redirect to blob storage
 * never carries it; a body holding a credential (an OAuth2 token POST) is never replayed to
 * another origin or from https to http (issue 12). A failed request's error tells which URL
 * failed (`failedUrl`), so a message after a redirect names the host that failed.
 */
import http from 'node:http'
import https from 'node:https'
import {Readable} from 'node:stream'
import {InterruptedError} from '../../errors.js'
import type {Pacer} from './pacer.js'
import {mayCarry, noteFailedUrl, redactAuth, redactUrl, webUrl} from './urls.js'

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

/** what an exchange needs from its client: the pools, the settings, and where to register a stop */
export interface ExchangeContext {
  readonly httpAgent: http.Agent
  /** the client's https agent, or one for a registry's own TLS settings */
  httpsAgent(tls: TlsSettings | undefined): https.Agent
  /** how to stop each request not yet finished (the client calls them when its signal fires) */
  readonly live: Set<() => void>
  readonly signal?: AbortSignal
  readonly userAgent?: string
  readonly connectTimeoutMs?: number
  readonly idleTimeoutMs?: number
  trace(message: () => string): void
}

const REDIRECTS = new Set([301, 302, 303, 307, 308])
const MAX_REDIRECTS = 10
const CONNECT_TIMEOUT_MS = 15_000
const IDLE_TIMEOUT_MS = 120_000

function codedError(code: string, message: string): Error {
  return Object.assign(new Error(message), {code})
}

/**
 * exchange sends one request (following redirects) and resolves with the response, body unread.
 * `Authorization` goes only to the credential's own host, so a redirect elsewhere (blob
 * storage) never carries it; a streamed body is not replayable, so its request does not
 * follow redirects (the 3xx answer is returned).
 */
export function exchange(client: ExchangeContext, req: RawRequest): Promise<RawResponse> {
  const started = Date.now()
  const body = typeof req.body === 'function' ? req.body() : req.body
  const own = req.signal
  const connectMs = client.connectTimeoutMs ?? CONNECT_TIMEOUT_MS
  const idleMs = client.idleTimeoutMs ?? IDLE_TIMEOUT_MS
  const credentialOrigin = req.authorization ? webUrl(req.authorization.origin) : undefined
  client.trace(() => `--> ${req.method} ${redactUrl(req.url)}${req.authorization ? ` (authorization: ${redactAuth(req.authorization.value)})` : ''}`)
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
      reject(client.signal?.aborted || own?.aborted ? new InterruptedError('interrupted', {cause: e}) : e)
    }
    const stop = () => current?.destroy(new InterruptedError())
    const cleanup = () => {
      client.live.delete(stop)
      own?.removeEventListener('abort', stop)
    }
    client.live.add(stop)
    own?.addEventListener('abort', stop, {once: true})
    const go = (url: URL, method: string, payload: Buffer | string | Readable | undefined, hops: number) => {
      at = url.toString()
      const headers: Record<string, string> = {'user-agent': client.userAgent ?? 'ocitool', ...req.headers}
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
      const request = (secure ? https : http).request(url, {method, headers, agent: secure ? client.httpsAgent(req.tls) : client.httpAgent})
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
        client.trace(() => `<-- ${status} ${req.method} ${redactUrl(url.toString())} (${Date.now() - started} ms)`)
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
