/**
 * limits: what keeps one misbehaving client from holding the embedded registry down (issue
 * 12, item 6), in the spirit of Go's http.Server ReadHeaderTimeout / ReadTimeout / IdleTimeout:
 *
 * - a connection must send a request's headers within `headerTimeoutMs` of opening (node's
 *   `headersTimeout` covers later requests on a kept-alive connection);
 * - a whole request, body included, must arrive within `requestTimeoutMs` (408 after);
 * - a connection with no bytes in either direction for `idleTimeoutMs` is closed, and so is a
 *   kept-alive one waiting that long for its next request;
 * - at most `maxConnections` are open: at the bound the connection that has been idle (no
 *   request in progress) the longest is closed to admit the new one, so a client hoarding
 *   idle sockets cannot lock others out; when all are busy, the new connection is refused.
 *
 * Upload sessions are bounded by `uploadExpiryMs` and `maxUploads` (see uploads.ts).
 * Every time is in milliseconds; 0 turns that limit off.
 */
import type * as http from 'node:http'
import type {Socket} from 'node:net'

/** ServeLimits are the registry's timeouts and bounds. */
export interface ServeLimits {
  readonly headerTimeoutMs: number
  readonly requestTimeoutMs: number
  readonly idleTimeoutMs: number
  readonly maxConnections: number
  readonly uploadExpiryMs: number
  readonly maxUploads: number
}

/** DEFAULT_LIMITS suit a registry for a developer machine or a CI job. */
export const DEFAULT_LIMITS: ServeLimits = {
  headerTimeoutMs: 10_000,
  requestTimeoutMs: 3_600_000,
  idleTimeoutMs: 30_000,
  maxConnections: 1000,
  uploadExpiryMs: 600_000,
  maxUploads: 1000,
}

/** ConnectionStats counts what the guard did. */
export interface ConnectionStats {
  /** Connections open now. */
  readonly open: number
  /** Of those, connections with no request in progress. */
  readonly idle: number
  /** Idle connections closed to admit new ones. */
  readonly evicted: number
  /** New connections refused because every open one was busy. */
  readonly refused: number
}

/** serverOptions are node:http's own timeouts for limits (its header and request checks run every checkMs). */
export function serverOptions(limits: ServeLimits): http.ServerOptions {
  const request = limits.requestTimeoutMs
  const headers = request > 0 && (limits.headerTimeoutMs === 0 || limits.headerTimeoutMs > request) ? request : limits.headerTimeoutMs
  const shortest = Math.min(...[headers, request].filter((t) => t > 0), 2000)
  return {
    headersTimeout: headers,
    requestTimeout: request,
    keepAliveTimeout: limits.idleTimeoutMs,
    connectionsCheckingInterval: Math.max(Math.floor(shortest / 4), 25),
  }
}

interface Conn {
  /** Requests in progress. */
  busy: number
  /** Until the first request's headers are in. */
  headerTimer?: NodeJS.Timeout
}

/** ConnectionGuard enforces the connection limits on a server; `stats` reports its counts. */
export class ConnectionGuard {
  private readonly conns = new Map<Socket, Conn>()
  /** Connections with no request in progress, longest idle first (a Map keeps insertion order). */
  private readonly idle = new Map<Socket, true>()
  private evicted = 0
  private refused = 0

  constructor(
    server: http.Server,
    private readonly limits: ServeLimits,
  ) {
    server.timeout = limits.idleTimeoutMs // no 'timeout' listener: node destroys the socket
    server.on('connection', (socket: Socket) => this.admit(socket))
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => this.started(req.socket, res))
  }

  stats(): ConnectionStats {
    return {open: this.conns.size, idle: this.idle.size, evicted: this.evicted, refused: this.refused}
  }

  private admit(socket: Socket): void {
    const max = this.limits.maxConnections
    if (max > 0 && this.conns.size >= max) {
      const [oldest] = this.idle.keys()
      if (oldest === undefined) {
        this.refused++
        socket.destroy()
        return
      }
      this.evicted++
      this.forget(oldest)
      oldest.destroy()
    }
    const conn: Conn = {busy: 0}
    if (this.limits.headerTimeoutMs > 0) {
      conn.headerTimer = setTimeout(() => socket.destroy(), this.limits.headerTimeoutMs)
      conn.headerTimer.unref()
    }
    this.conns.set(socket, conn)
    this.idle.set(socket, true)
    socket.once('close', () => this.forget(socket))
  }

  private started(socket: Socket, res: http.ServerResponse): void {
    const conn = this.conns.get(socket)
    if (conn === undefined) return
    clearTimeout(conn.headerTimer)
    conn.headerTimer = undefined
    conn.busy++
    this.idle.delete(socket)
    res.once('close', () => {
      conn.busy--
      if (conn.busy === 0 && this.conns.has(socket) && !socket.destroyed) this.idle.set(socket, true)
    })
  }

  private forget(socket: Socket): void {
    clearTimeout(this.conns.get(socket)?.headerTimer)
    this.conns.delete(socket)
    this.idle.delete(socket)
  }
}
