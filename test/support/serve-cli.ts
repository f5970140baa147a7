// Starts the built CLI's `ocitool registry serve` as a child process, as users run it, and
// opens raw sockets against it (for tests and benches of the embedded registry's limits).

import {spawn, type ChildProcess} from 'node:child_process'
import * as net from 'node:net'
import * as path from 'node:path'
import {repoRoot} from './cli.js'

export interface ServingCli {
  child: ChildProcess
  /** `http://HOST:PORT` from the first stdout line. */
  url: string
  /** `HOST:PORT`. */
  host: string
  port: number
  stderr: () => string
  /** Resolves with the exit code once the process has exited. */
  exit: Promise<number | null>
  /** stop sends SIGTERM (once) and resolves with the exit code. */
  stop: () => Promise<number | null>
}

/** serveCli starts `registry serve --address 127.0.0.1:0 ...args` and resolves once it printed its URL. */
export function serveCli(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<ServingCli> {
  const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'run.js'), 'registry', 'serve', '--address', '127.0.0.1:0', ...args], {
    cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  let err = ''
  child.stderr!.on('data', (b: Buffer) => {
    err += b.toString()
    if (err.length > 1_000_000) err = err.slice(-500_000) // a long run's request log
  })
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`registry serve printed no URL in 20 s; stderr: ${err}`))
    }, 20_000)
    child.stdout!.on('data', (b: Buffer) => {
      out += b.toString()
      const nl = out.indexOf('\n')
      if (nl === -1) return
      clearTimeout(timer)
      const url = out.slice(0, nl)
      const host = url.slice('http://'.length)
      let stopping: Promise<number | null> | undefined
      resolve({
        child, url, host, port: Number(host.split(':').pop()), stderr: () => err, exit,
        stop: () => (stopping ??= (child.kill('SIGTERM'), exit)),
      })
    })
    void exit.then((code) => {
      clearTimeout(timer)
      reject(new Error(`registry serve exited ${code} before printing a URL; stderr: ${err}`))
    })
  })
}

/** HeldSocket is a raw connection and when it closed (ms after it opened). */
export interface HeldSocket {
  socket: net.Socket
  /** Resolves with the ms from connect to close. */
  closed: Promise<number>
}

/** hold opens a raw TCP connection to port on 127.0.0.1; `first` is written once it connects. */
export function hold(port: number, first?: string): Promise<HeldSocket> {
  return new Promise((resolve, reject) => {
    const started = Date.now()
    const socket = net.connect(port, '127.0.0.1')
    socket.on('error', () => {}) // a reset by the server is what the tests wait for
    socket.resume() // read whatever comes (a 408, say): a socket with unread bytes never sees the server's FIN
    const closed = new Promise<number>((r) => socket.once('close', () => r(Date.now() - started)))
    socket.once('connect', () => {
      if (first !== undefined) socket.write(first)
      resolve({socket, closed})
    })
    socket.once('close', () => reject(new Error('closed before connecting')))
  })
}

/** isOpen is true while a held socket has not been closed by either side. */
export function isOpen(h: HeldSocket): boolean {
  return !h.socket.destroyed && h.socket.readyState === 'open'
}
