// A small loopback HTTP server for tests that play a hostile registry, token realm or storage
// host. With `dual`, one port speaks both plain HTTP and TLS (the first byte of a connection
// tells which), so a test can send a client from https://127.0.0.1:P to http://127.0.0.1:P,
// the same host as far as credentials are concerned.

import * as fs from 'node:fs'
import * as http from 'node:http'
import * as https from 'node:https'
import * as net from 'node:net'
import type {CertPair} from './certs.js'

export type Handler = (req: http.IncomingMessage, res: http.ServerResponse, info: {secure: boolean; body: Buffer}) => void

export interface SeenRequest {
  secure: boolean
  method: string
  url: string
  authorization?: string
  body: Buffer
}

export interface HostileServer {
  /** `127.0.0.1:PORT` */
  host: string
  port: number
  /** `http://host`, or `https://host` when serving TLS only */
  url: string
  /** every request, in order, with its body (read before the handler runs) */
  seen: SeenRequest[]
  close(): Promise<void>
}

/**
 * startHostileServer listens on a free 127.0.0.1 port. Bodies are read in full before the
 * handler runs (`req` is then already consumed; the text is in `seen`).
 */
export async function startHostileServer(handler: Handler, opts: {tls?: CertPair; dual?: boolean} = {}): Promise<HostileServer> {
  const seen: SeenRequest[] = []
  const wrap = (secure: boolean) => (req: http.IncomingMessage, res: http.ServerResponse) => {
    const parts: Buffer[] = []
    req.on('data', (c: Buffer) => parts.push(c))
    req.on('error', () => {})
    res.on('error', () => {})
    req.on('end', () => {
      const body = Buffer.concat(parts)
      seen.push({secure, method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization, body})
      try {
        handler(req, res, {secure, body})
      } catch {
        res.destroy()
      }
    })
  }
  const plain = http.createServer(wrap(false))
  const tlsOptions = opts.tls ? {cert: fs.readFileSync(opts.tls.certFile), key: fs.readFileSync(opts.tls.keyFile)} : undefined
  const secure = tlsOptions ? https.createServer(tlsOptions, wrap(true)) : undefined
  const sockets = new Set<net.Socket>()
  let server: net.Server
  if (opts.dual && secure) {
    server = net.createServer((socket) => {
      socket.once('readable', () => {
        const first = socket.read(1) as Buffer | null
        if (!first) return socket.destroy()
        socket.unshift(first)
        ;(first[0] === 0x16 ? secure : plain).emit('connection', socket)
      })
    })
  } else {
    server = secure ?? plain
  }
  server.on('connection', (s: net.Socket) => {
    sockets.add(s)
    s.on('error', () => {})
    s.once('close', () => sockets.delete(s))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as net.AddressInfo).port
  const host = `127.0.0.1:${port}`
  return {
    host,
    port,
    url: `${secure && !opts.dual ? 'https' : 'http'}://${host}`,
    seen,
    close: () => {
      for (const s of sockets) s.destroy()
      return new Promise((resolve) => server.close(() => resolve()))
    },
  }
}
