// A scriptable, fault-injecting reverse proxy on 127.0.0.1 for the real test registry, and a
// recording server to redirect clients to. Bodies are always streamed, never buffered: blobs
// can be 100 MiB+. Location, Content-Location, Link and WWW-Authenticate values that name the
// upstream origin are rewritten to the proxy, so clients keep coming back through it; other
// origins (the token server's realm) are left alone unless listed in `rewriteOrigins`.

import * as fs from 'node:fs'
import * as http from 'node:http'
import * as https from 'node:https'
import type {AddressInfo} from 'node:net'
import {mulberry32} from './prng.js'

/**
 * FaultAction is what a matching request gets instead of (or on top of) plain forwarding:
 *
 * - status: answer without contacting upstream; the default body is a registry-style JSON error.
 * - dropResponseAfter: forward, but reset the client socket once `bytes` of response body were sent.
 * - dropRequestAfter: forward the first `bytes` of the request body, then destroy both connections
 *   without a response; a shorter body is dropped once it has all arrived (0 drops a GET).
 * - stall: wait `ms`, then forward normally.
 * - truncate: send upstream's headers (Content-Length kept) and `bytes` of body, then end the socket.
 * - corrupt: flip (XOR 0xff) the body byte at `offset`; default the middle byte when
 *   Content-Length is known, else byte 0. Headers (Docker-Content-Digest) are untouched.
 * - unauthorized: 401 with the last WWW-Authenticate upstream sent (upstream's /v2/ one if none yet).
 * - redirect: `status` (default 307) with `Location: to`; a function gets the path with query.
 * - html: 200 text/html `<html><body>Welcome to nginx</body></html>`, like a captive portal.
 * - replace: upstream's status and headers with this body (Content-Length fixed up, `headers` win).
 * - rewritePath: forward to upstream with the path (query included) this function returns; the
 *   record keeps the path the client asked for (a registry without a feature: drop its query).
 * - randomFail: with `probability` (seeded: the same seed fails the same requests) answer 503
 *   (`how: 'status'`, the default) or drop the connection (`how: 'drop'`).
 */
export type FaultAction =
  | {kind: 'status'; status: number; headers?: Record<string, string>; body?: Buffer | string}
  | {kind: 'dropResponseAfter'; bytes: number}
  | {kind: 'dropRequestAfter'; bytes: number}
  | {kind: 'stall'; ms: number}
  | {kind: 'truncate'; bytes: number}
  | {kind: 'corrupt'; offset?: number}
  | {kind: 'unauthorized'}
  | {kind: 'redirect'; to: string | ((path: string) => string); status?: number}
  | {kind: 'html'}
  | {kind: 'replace'; body: Buffer | string; headers?: Record<string, string>}
  | {kind: 'randomFail'; probability: number; seed: number; how?: 'status' | 'drop'}
  | {kind: 'rewritePath'; to: (path: string) => string}

/**
 * FaultMatch selects requests: method (any case) and path (a RegExp, or a substring of the path
 * with query) must both match. Each rule counts its own matching requests (1-based) and then
 * applies to all of them, only the `nth`, the first `times`, or every `every`-th (3: the 3rd, 6th, …).
 */
export interface FaultMatch {
  method?: string
  path?: RegExp | string
  nth?: number
  times?: number
  every?: number
}

/** FaultRule pairs a match with an action; the first active rule in list order wins. */
export interface FaultRule {
  match: FaultMatch
  action: FaultAction
}

/**
 * ProxiedRequest is one request as the proxy (or recorder) saw it; fields fill in as it runs.
 * `path` includes the query; `headers` are the request's, names lower-case; `time` is when it
 * arrived (ms since the epoch); `status` is what the client got (0: nothing, yet or ever);
 * `bytesIn`/`bytesOut` count request/response body bytes; `fault` is the kind applied; `error`
 * says what went wrong or was cut short (upstream unreachable, client gone, truncated, …).
 */
export interface ProxiedRequest {
  method: string
  path: string
  status: number
  headers: http.IncomingHttpHeaders
  time: number
  bytesIn: number
  bytesOut: number
  fault?: string
  error?: string
}

export interface ProxyOptions {
  /** The registry, e.g. `http://127.0.0.1:5000` or `https://127.0.0.1:5443`. */
  upstream: string
  /** CA for an HTTPS upstream: a PEM file path, or PEM text. */
  upstreamCa?: string
  /** Listen with HTTPS: PEM text, or paths to PEM files. */
  tls?: {cert: string | Buffer; key: string | Buffer}
  /** More origins to rewrite in those headers, e.g. `{[tokenServer.url]: tokenProxy.url}`. */
  rewriteOrigins?: Record<string, string>
}

export interface FaultProxy {
  /** `127.0.0.1:PORT`, what ocitool should use as the registry host; url is `http(s)://` + host. */
  host: string
  url: string
  /** The live rule list: edit it directly or through addFault / clearFaults. */
  faults: FaultRule[]
  /** addFault appends rule (its counters start at 0) and returns it. */
  addFault(rule: FaultRule): FaultRule
  clearFaults(): void
  /** requests returns every request so far, oldest first (records keep updating while in flight). */
  requests(): ProxiedRequest[]
  clearRequests(): void
  /** stop closes the listener, every open connection and the upstream agent. */
  stop(): Promise<void>
}

export interface RecorderOptions {
  /** Forward requests to this origin + the request path, without Authorization (and without Host). */
  serveFrom?: string
  /** CA for an HTTPS serveFrom: a PEM file path, or PEM text. */
  serveFromCa?: string
  /** Without serveFrom: the answer (default 200, `recorded`, text/plain). */
  status?: number
  body?: Buffer | string
  headers?: Record<string, string>
}

export interface Recorder {
  host: string
  url: string
  /** requests returns what arrived, Authorization and all, oldest first. */
  requests(): ProxiedRequest[]
  stop(): Promise<void>
}

const hopByHop = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'expect', 'host'])
const rewritten = new Set(['location', 'content-location', 'link', 'www-authenticate'])
const nginx = '<html><body>Welcome to nginx</body></html>'
const errorCodes: Record<number, string> = {401: 'UNAUTHORIZED', 403: 'DENIED', 429: 'TOOMANYREQUESTS'}

type Pairs = Array<[string, string]>

const pem = (v: string | Buffer) => (Buffer.isBuffer(v) || v.includes('-----BEGIN') ? v : fs.readFileSync(v))
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
const pairs = (raw: string[]): Pairs => raw.flatMap((v, i) => (i % 2 === 0 ? [[v, raw[i + 1]] as [string, string]] : []))
const setHeader = (hs: Pairs, name: string, value: string): Pairs => [...hs.filter(([k]) => k.toLowerCase() !== name.toLowerCase()), [name, value]]

/** Upstream sends requests to one origin with its own keep-alive agent. */
class Upstream {
  readonly origin: string
  private readonly url: URL
  private readonly agent: http.Agent

  constructor(origin: string, ca?: string) {
    this.url = new URL(origin)
    this.origin = this.url.origin
    this.agent = this.url.protocol === 'https:' ? new https.Agent({keepAlive: true, ca: ca ? pem(ca) : undefined}) : new http.Agent({keepAlive: true})
  }

  /** request starts `method path` upstream with the client's end-to-end headers (minus `drop`). */
  request(method: string, path: string, rawHeaders: string[], drop: string[] = []): http.ClientRequest {
    const headers = pairs(rawHeaders).filter(([k]) => !hopByHop.has(k.toLowerCase()) && !drop.includes(k.toLowerCase()))
    const mod = this.url.protocol === 'https:' ? https : http
    return mod.request({
      protocol: this.url.protocol, hostname: this.url.hostname, port: this.url.port, method, path, agent: this.agent,
      headers: [['Host', this.url.host], ...headers].flat(),
    })
  }

  close(): void {
    this.agent.destroy()
  }
}

/** listen starts an http(s) server on a free 127.0.0.1 port; its stop() closes every connection too. */
async function listen(handler: http.RequestListener, tls?: ProxyOptions['tls']): Promise<{host: string; url: string; stop(): Promise<void>}> {
  const server = tls ? https.createServer({cert: pem(tls.cert), key: pem(tls.key)}, handler) : http.createServer(handler)
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    host,
    url: `${tls ? 'https' : 'http'}://${host}`,
    stop: () => new Promise<void>((resolve) => {
      server.close(() => resolve())
      server.closeAllConnections()
    }),
  }
}

/** newRecord starts the log entry for req. */
function newRecord(req: http.IncomingMessage): ProxiedRequest {
  return {method: req.method ?? '', path: req.url ?? '', status: 0, headers: {...req.headers}, time: Date.now(), bytesIn: 0, bytesOut: 0}
}

const counted = new WeakSet<http.IncomingMessage>()

/** countIn keeps rec.bytesIn up to date; call it (once is enough) when starting to read req. */
function countIn(req: http.IncomingMessage, rec: ProxiedRequest): void {
  if (counted.has(req)) return
  counted.add(req)
  req.on('data', (c: Buffer) => (rec.bytesIn += c.length))
}

/** answer reads the whole request body, then sends a complete local response. */
function answer(req: http.IncomingMessage, res: http.ServerResponse, rec: ProxiedRequest, status: number, headers: Pairs, body: Buffer | string = ''): void {
  const bytes = Buffer.from(body)
  const send = () => {
    if (clientGone(res)) return
    rec.status = status
    res.writeHead(status, setHeader(headers, 'Content-Length', String(bytes.length)).flat())
    res.end(req.method === 'HEAD' ? undefined : bytes)
    if (req.method !== 'HEAD') rec.bytesOut = bytes.length
  }
  countIn(req, rec)
  if (req.readableEnded) send()
  else req.on('end', send).resume()
}

/** clientGone is true once the response can no longer be written (client closed, or we finished). */
const clientGone = (res: http.ServerResponse) => res.destroyed || res.writableEnded || !res.socket || res.socket.destroyed

/** drained resolves on the response's next 'drain' or 'close', and leaves no listener behind. */
function drained(res: http.ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done).off('close', done)
      resolve()
    }
    res.on('drain', done).on('close', done)
  })
}

/**
 * pump copies upstream's body to the client with backpressure, applying truncate,
 * dropResponseAfter and corrupt, and counting rec.bytesOut.
 */
async function pump(up: http.IncomingMessage, res: http.ServerResponse, rec: ProxiedRequest, action?: FaultAction): Promise<void> {
  const limit = action?.kind === 'truncate' || action?.kind === 'dropResponseAfter' ? action.bytes : undefined
  const length = Number(up.headers['content-length'])
  const flipAt = action?.kind === 'corrupt' ? (action.offset ?? (Number.isFinite(length) ? Math.floor(length / 2) : 0)) : -1
  if (limit !== undefined) res.flushHeaders()
  let sent = 0
  for await (const data of up) {
    let chunk = data as Buffer
    if (limit !== undefined && sent + chunk.length > limit) chunk = chunk.subarray(0, limit - sent)
    if (flipAt >= sent && flipAt < sent + chunk.length) {
      chunk = Buffer.from(chunk)
      chunk[flipAt - sent] ^= 0xff
    }
    if (clientGone(res)) return
    const flushed = new Promise<void>((resolve) => res.write(chunk, () => resolve()))
    sent += chunk.length
    rec.bytesOut = sent
    if (limit !== undefined && sent >= limit) {
      await flushed
      break
    }
    if (res.writableNeedDrain) await drained(res)
  }
  if (action?.kind === 'truncate') {
    rec.error = `truncated after ${sent} body bytes`
    res.socket?.end()
  } else if (action?.kind === 'dropResponseAfter') {
    rec.error = `reset after ${sent} body bytes`
    res.socket?.resetAndDestroy()
  } else res.end()
}

/** ForwardContext: where to, how to rewrite response header values, which request headers to drop. */
interface ForwardContext {
  upstream: Upstream
  rewrite(value: string): string
  dropHeaders?: string[]
  /** Called with every WWW-Authenticate upstream sends (after rewriting). */
  onChallenge?(value: string): void
}

/** forward sends req upstream and streams the answer back, applying action's response faults. */
function forward(ctx: ForwardContext, req: http.IncomingMessage, res: http.ServerResponse, rec: ProxiedRequest, action?: FaultAction): void {
  const url = action?.kind === 'rewritePath' ? action.to(req.url ?? '/') : (req.url ?? '/')
  const upReq = ctx.upstream.request(req.method ?? 'GET', url, req.rawHeaders, ctx.dropHeaders)
  const fail = (err: Error) => {
    rec.error ??= err.message
    upReq.destroy()
    if (!res.headersSent && !clientGone(res)) answer(req, res, rec, 502, [['Content-Type', 'text/plain']], `fault proxy: upstream failed: ${err.message}\n`)
    else res.destroy()
  }
  upReq.on('error', fail)
  res.on('close', () => {
    if (!res.writableFinished) {
      rec.error ??= 'client closed the connection'
      upReq.destroy()
    }
  })
  countIn(req, rec)
  if (action?.kind === 'dropRequestAfter') {
    let seen = 0
    let done = false
    const cut = () => {
      if (done) return
      done = true
      rec.error = `dropped after ${seen} request body bytes`
      upReq.destroy()
      req.socket.destroy()
    }
    req.on('data', (c: Buffer) => {
      if (done) return
      const take = Math.max(0, Math.min(c.length, action.bytes - seen))
      seen += take
      const last = seen >= action.bytes
      // Let upstream get the first `bytes` (the write callback waits for the socket) before cutting.
      const more = take === 0 || upReq.write(c.subarray(0, take), last ? cut : undefined)
      if (last) {
        req.pause()
        if (take === 0) cut()
      } else if (!more) {
        req.pause()
        upReq.once('drain', () => req.resume())
      }
    })
    req.on('end', cut)
    return
  }
  req.pipe(upReq)
  upReq.on('response', (up) => {
    let headers: Pairs = pairs(up.rawHeaders)
      .filter(([k]) => !hopByHop.has(k.toLowerCase()))
      .map(([k, v]) => (rewritten.has(k.toLowerCase()) ? [k, ctx.rewrite(v)] : [k, v]))
    for (const [k, v] of headers) if (k.toLowerCase() === 'www-authenticate') ctx.onChallenge?.(v)
    const status = up.statusCode ?? 502
    if (action?.kind === 'replace') {
      up.resume()
      for (const [k, v] of Object.entries(action.headers ?? {})) headers = setHeader(headers, k, v)
      answer(req, res, rec, status, headers, action.body)
      return
    }
    rec.status = status
    res.writeHead(status, headers.flat())
    pump(up, res, rec, action).catch(fail)
  })
}

/**
 * startProxy listens on a free 127.0.0.1 port and forwards every request to opts.upstream,
 * applying the first active rule of `faults`. Call stop() when done.
 */
export async function startProxy(opts: ProxyOptions): Promise<FaultProxy> {
  const upstream = new Upstream(opts.upstream, opts.upstreamCa)
  const faults: FaultRule[] = []
  const counts = new WeakMap<FaultRule, number>()
  const prngs = new WeakMap<FaultRule, () => number>()
  let log: ProxiedRequest[] = []
  let lastChallenge: string | undefined
  let origins: Array<[RegExp, string]> = []

  const ctx: ForwardContext = {
    upstream,
    rewrite: (v) => origins.reduce((s, [re, to]) => s.replace(re, to), v),
    onChallenge: (v) => (lastChallenge = v),
  }

  /** pick counts req against every rule and returns the first active one. */
  const pick = (method: string, path: string): FaultRule | undefined => {
    let chosen: FaultRule | undefined
    for (const rule of faults) {
      const m = rule.match
      if (m.method && m.method.toUpperCase() !== method.toUpperCase()) continue
      if (m.path !== undefined && !(typeof m.path === 'string' ? path.includes(m.path) : m.path.test(path))) continue
      const n = (counts.get(rule) ?? 0) + 1
      counts.set(rule, n)
      let active = (m.nth === undefined || n === m.nth) && (m.times === undefined || n <= m.times) && (m.every === undefined || n % m.every === 0)
      if (active && rule.action.kind === 'randomFail') {
        if (!prngs.has(rule)) prngs.set(rule, mulberry32(rule.action.seed))
        active = prngs.get(rule)!() < rule.action.probability
      }
      if (active) chosen ??= rule
    }
    return chosen
  }

  /** challenge is the last challenge seen, else the one upstream's /v2/ gives now. */
  const challenge = async (): Promise<string> => {
    if (lastChallenge) return lastChallenge
    const got = await new Promise<string | undefined>((resolve) => {
      upstream.request('GET', '/v2/', []).on('response', (r) => {
        r.resume()
        resolve(r.headers['www-authenticate'])
      }).on('error', () => resolve(undefined)).end()
    })
    return got ? ctx.rewrite(got) : 'Basic realm="fault-proxy"'
  }

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const rec = newRecord(req)
    log.push(rec)
    const action = pick(rec.method, rec.path)?.action
    if (action) rec.fault = action.kind
    const json: Pairs = [['Content-Type', 'application/json']]
    const errorBody = (status: number, message: string) => JSON.stringify({errors: [{code: errorCodes[status] ?? 'UNKNOWN', message, detail: null}]}) + '\n'
    switch (action?.kind) {
      case 'status': {
        const headers = Object.entries(action.headers ?? {})
        if (action.body !== undefined) return answer(req, res, rec, action.status, headers, action.body)
        return answer(req, res, rec, action.status, [...json, ...headers], errorBody(action.status, `injected fault: ${action.status}`))
      }
      case 'html':
        return answer(req, res, rec, 200, [['Content-Type', 'text/html']], nginx)
      case 'redirect': {
        const to = typeof action.to === 'function' ? action.to(rec.path) : action.to
        return answer(req, res, rec, action.status ?? 307, [['Location', to]])
      }
      case 'unauthorized':
        return answer(req, res, rec, 401, [...json, ['WWW-Authenticate', await challenge()]], errorBody(401, 'authentication required'))
      case 'randomFail':
        return action.how === 'drop' ? req.socket.destroy() : answer(req, res, rec, 503, json, errorBody(503, 'injected random failure'))
      case 'stall':
        await sleep(action.ms)
        if (req.socket.destroyed) return
    }
    forward(ctx, req, res, rec, action)
  }

  const server = await listen((req, res) => void handle(req, res).catch(() => res.destroy()), opts.tls)
  const rewriteMap = {[upstream.origin]: server.url, ...opts.rewriteOrigins}
  // The lookahead keeps http://127.0.0.1:500 from matching inside http://127.0.0.1:5000.
  origins = Object.entries(rewriteMap).map(([from, to]) => [new RegExp(`${escapeRe(new URL(from).origin)}(?![\\w.:-])`, 'g'), new URL(to).origin])
  return {
    host: server.host,
    url: server.url,
    faults,
    addFault(rule) {
      faults.push(rule)
      return rule
    },
    clearFaults() {
      faults.length = 0
    },
    requests: () => [...log],
    clearRequests() {
      log = []
    },
    async stop() {
      await server.stop()
      upstream.close()
    },
  }
}

/**
 * startRecorder listens on a free 127.0.0.1 port and records every request. It answers with
 * a fixed response, or with opts.serveFrom's answer for the same path, fetched without the
 * client's Authorization header: a stand-in for blob storage behind a redirect.
 */
export async function startRecorder(opts: RecorderOptions = {}): Promise<Recorder> {
  const log: ProxiedRequest[] = []
  const upstream = opts.serveFrom ? new Upstream(opts.serveFrom, opts.serveFromCa) : undefined
  const ctx: ForwardContext | undefined = upstream && {upstream, rewrite: (v) => v, dropHeaders: ['authorization']}
  const server = await listen((req, res) => {
    const rec = newRecord(req)
    log.push(rec)
    if (ctx) return forward(ctx, req, res, rec)
    const headers: Pairs = Object.entries(opts.headers ?? {'Content-Type': 'text/plain'})
    answer(req, res, rec, opts.status ?? 200, headers, opts.body ?? 'recorded\n')
  })
  return {
    host: server.host,
    url: server.url,
    requests: () => [...log],
    async stop() {
      await server.stop()
      upstream?.close()
    },
  }
}
