/**
 * gzip-worker: a small pool of worker threads that gzip independent pieces of a layer, each
 * into a complete gzip member. Concatenated in order, the members are one valid multi-member
 * gzip stream (RFC 1952 §2.2), which `gzip -d`, Go's compress/gzip (Docker, containerd,
 * skopeo) and Node's gunzip all read as the concatenation of the pieces.
 *
 * The worker's code is a string run with `eval: true`, not a file: the CLI's commands are
 * bundled by esbuild into one file each (dist/commands/*.cjs), where a path to a
 * `gzip-worker.js` beside the module would point at a file that is not there, and under tsx a `.ts` worker file would need the
 * loader in every worker. An eval worker runs the same in dist/lib, in the bundle and in tests.
 * `execArgv: []` keeps the parent's `--import tsx` out of the worker (it would slow start-up).
 */
import {Worker} from 'node:worker_threads'

/**
 * zlib's largest memLevel: its bigger hash table makes level 1 deflate 12-17% faster here, and
 * the output 0.1% smaller, than the default 8 (measured on 96 MiB of /usr binaries)
 */
export const GZIP_MEM_LEVEL = 9

/**
 * WORKER_SOURCE receives `{id, data: Uint8Array, level}` (data transferred, not copied) and
 * answers `{id, data, piece}` with the gzip member and the piece given back, or `{id, error}`.
 */
const WORKER_SOURCE = `
const {parentPort} = require('node:worker_threads')
const zlib = require('node:zlib')
parentPort.on('message', (job) => {
  try {
    const input = Buffer.from(job.data.buffer, job.data.byteOffset, job.data.byteLength)
    // room for the whole member in one buffer (above deflate's bound), so the worker keeps no
    // garbage; at least 64 KiB, so it never comes from Node's shared 8 KiB pool
    const room = Math.max(65536, input.length + (input.length >> 3) + 1024)
    const out = zlib.gzipSync(input, {level: job.level, windowBits: 15, memLevel: ${GZIP_MEM_LEVEL}, chunkSize: room})
    // transfer only a buffer this worker owns whole: that one buffer, or a concatenation
    const whole = out.byteOffset === 0 && out.byteLength === out.buffer.byteLength
    const own = whole || out.buffer.byteLength === room ? out : new Uint8Array(out)
    // the piece goes back too, so the main thread fills it again instead of allocating another
    parentPort.postMessage({id: job.id, data: own, piece: job.data}, [own.buffer, job.data.buffer])
  } catch (e) {
    parentPort.postMessage({id: job.id, error: String((e && e.message) || e)})
  }
})
`

let live = 0

/** liveGzipWorkers is how many worker threads are running now (for tests: none may outlive a layer). */
export function liveGzipWorkers(): number {
  return live
}

/** Compressed is one piece's gzip member, and the piece itself, given back for reuse. */
export interface Compressed {
  member: Buffer
  piece: Buffer
}

interface Job {
  resolve: (c: Compressed) => void
  reject: (e: Error) => void
}

interface Slot {
  worker: Worker
  pending: number
}

function view(u: Uint8Array): Buffer {
  return Buffer.from(u.buffer, u.byteOffset, u.byteLength)
}

/** GzipPool compresses pieces on `size` worker threads; `compress` resolves to one gzip member. */
export class GzipPool {
  private readonly slots: Slot[] = []
  private readonly jobs = new Map<number, Job>()
  private nextId = 0
  private failure: Error | undefined
  private closed = false

  constructor(
    size: number,
    private readonly level: number,
  ) {
    for (let i = 0; i < Math.max(1, size); i++) this.slots.push(this.start())
  }

  private start(): Slot {
    const worker = new Worker(WORKER_SOURCE, {eval: true, execArgv: [], stdout: false, stderr: false})
    const slot: Slot = {worker, pending: 0}
    live++
    worker.on('message', (m: {id: number; data?: Uint8Array; piece?: Uint8Array; error?: string}) => {
      const job = this.jobs.get(m.id)
      if (!job) return
      this.jobs.delete(m.id)
      slot.pending--
      if (m.error !== undefined || m.data === undefined || m.piece === undefined) {
        job.reject(new Error(`gzip worker: ${m.error ?? 'no output'}`))
      } else {
        job.resolve({member: view(m.data), piece: view(m.piece)})
      }
    })
    worker.on('error', (e) => this.fail(e))
    worker.on('exit', (code) => {
      live--
      if (!this.closed) this.fail(new Error(`gzip worker exited unexpectedly (status ${code})`))
    })
    return slot
  }

  private fail(e: Error): void {
    this.failure ??= e
    for (const job of this.jobs.values()) job.reject(this.failure)
    this.jobs.clear()
  }

  /**
   * compress gzips one piece into a complete member. The piece's ArrayBuffer is transferred
   * to a worker: the caller must own it whole (`Buffer.allocUnsafeSlow`) and not touch it
   * until it comes back with the member.
   */
  compress(piece: Uint8Array): Promise<Compressed> {
    if (this.failure) return Promise.reject(this.failure)
    if (this.closed) return Promise.reject(new Error('gzip pool is closed'))
    // the least busy worker; ties go to the first, so pieces alternate between idle workers
    let slot = this.slots[0]
    for (const s of this.slots) if (s.pending < slot.pending) slot = s
    const id = this.nextId++
    const result = new Promise<Compressed>((resolve, reject) => this.jobs.set(id, {resolve, reject}))
    slot.pending++
    slot.worker.postMessage({id, data: piece, level: this.level}, [piece.buffer as ArrayBuffer])
    return result
  }

  /** close stops every worker; pending pieces are rejected. Safe to call more than once. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.fail(new Error('gzip pool is closed'))
    await Promise.all(this.slots.map((s) => s.worker.terminate().catch(() => 0)))
  }
}
