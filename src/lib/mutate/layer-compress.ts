/**
 * layer-compress: the compressors `prepareLayer` puts after the tar check.
 *
 * gzip: up to `threshold` bytes (16 MiB) the tar becomes one gzip member, compressed on libuv's
 * thread pool. Beyond that it is cut into `memberSize` (1 MiB) pieces at fixed offsets of the
 * tar, and the thread pool gzips several at once, each into its own member (gzip-pool.ts),
 * emitted in order: one multi-member gzip stream at about twice the speed on two cores (deflate
 * level 1 runs at ~100 MB/s a core). Where the pieces are cut depends only on the tar's bytes,
 * so the same tar always gives the same blob. Two pieces per compressing thread are in flight
 * at most, and pieces come back to be filled again, so memory stays bounded and small. 1 MiB
 * members cost 0.06% in size against 4 MiB ones (deflate restarts its 32 KiB window at each).
 *
 * zstd (both ways): zlib's when Node has it (22.15+), otherwise the `zstd` program, whose exit
 * status is checked before the output ends, so a failure is an error and never a short stream.
 */
import {spawn, type ChildProcessWithoutNullStreams} from 'node:child_process'
import {availableParallelism} from 'node:os'
import {Duplex, Transform, type TransformCallback} from 'node:stream'
import {promisify} from 'node:util'
import * as zlib from 'node:zlib'

import {OcitoolError, UsageError} from '../errors.js'
import {type Compressed, GZIP_MEM_LEVEL, GzipPool} from './gzip-pool.js'

const MiB = 1024 * 1024
const gzipAsync = promisify(zlib.gzip) as (buf: Buffer, options: zlib.ZlibOptions) => Promise<Buffer>

export interface GzipEncoderOptions {
  level: number
  /** pieces compressed at once beyond the threshold; default: the CPUs available, at most 4 (and below the thread pool's size) */
  workers?: number
  /** largest tar compressed as one member, without workers (default 16 MiB) */
  threshold?: number
  /** uncompressed bytes per member beyond the threshold (default 1 MiB) */
  memberSize?: number
}

/** defaultGzipWorkers is how many pieces of a large layer are compressed at once: the CPUs available, 1 to 4. */
export function defaultGzipWorkers(): number {
  return Math.max(1, Math.min(4, availableParallelism()))
}

/** GzipEncoder is a Transform from a tar to gzip: one member, or members of fixed size in parallel. */
export class GzipEncoder extends Transform {
  private readonly level: number
  private readonly workers: number
  private readonly threshold: number
  private readonly memberSize: number
  private piece: Buffer | undefined
  private fill = 0
  private total = 0
  private held: Buffer[] = []
  private pool: GzipPool | undefined
  private readonly queue: Promise<Compressed>[] = []
  /** pieces the workers gave back, to fill again */
  private free: Buffer[] = []

  constructor(options: GzipEncoderOptions) {
    super({writableHighWaterMark: MiB, readableHighWaterMark: 4 * MiB})
    this.level = options.level
    this.workers = options.workers ?? defaultGzipWorkers()
    this.threshold = options.threshold ?? 16 * MiB
    this.memberSize = options.memberSize ?? MiB
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.accept(chunk).then(() => cb(), cb)
  }

  override _flush(cb: TransformCallback): void {
    this.finish().then(() => cb(), cb)
  }

  override _destroy(err: Error | null, cb: (error?: Error | null) => void): void {
    const pool = this.pool
    this.held = []
    this.free = []
    this.piece = undefined
    if (pool === undefined) cb(err)
    else pool.close().then(() => cb(err), () => cb(err))
  }

  private async accept(chunk: Buffer): Promise<void> {
    let off = 0
    while (off < chunk.length) {
      if (this.piece === undefined) {
        // a buffer of its own (never the shared 8 KiB pool), reused when its member comes back
        this.piece = this.free.pop() ?? Buffer.allocUnsafeSlow(this.memberSize)
        this.fill = 0
      }
      const n = Math.min(this.memberSize - this.fill, chunk.length - off)
      chunk.copy(this.piece, this.fill, off, off + n)
      this.fill += n
      off += n
      this.total += n
      if (this.pool === undefined && this.total > this.threshold) await this.goParallel()
      if (this.fill === this.memberSize) {
        const full = this.piece
        this.piece = undefined
        this.fill = 0
        if (this.pool === undefined) this.held.push(full)
        else await this.submit(full)
      }
    }
  }

  private async goParallel(): Promise<void> {
    this.pool = new GzipPool(this.workers, this.level)
    const held = this.held
    this.held = []
    for (const p of held) await this.submit(p)
  }

  private async submit(piece: Buffer): Promise<void> {
    const member = this.pool!.compress(piece)
    member.catch(() => {}) // awaited in order below; a rejection must not go unhandled meanwhile
    this.queue.push(member)
    // two pieces per compressing thread: one compressing, one waiting, so none idles on us
    while (this.queue.length > 2 * this.workers) await this.emitNext()
  }

  /** emitNext waits for the oldest piece's member, passes it on, and keeps the piece for reuse. */
  private async emitNext(): Promise<void> {
    const {member, piece} = await this.queue.shift()!
    if (piece.byteOffset === 0 && piece.buffer.byteLength === this.memberSize) this.free.push(Buffer.from(piece.buffer))
    this.push(member)
  }

  private async finish(): Promise<void> {
    if (this.pool === undefined) {
      const parts = this.piece === undefined ? this.held : [...this.held, this.piece.subarray(0, this.fill)]
      this.held = []
      this.piece = undefined
      this.push(await gzipAsync(Buffer.concat(parts), {level: this.level, windowBits: 15, memLevel: GZIP_MEM_LEVEL, chunkSize: MiB}))
      return
    }
    if (this.piece !== undefined && this.fill > 0) await this.submit(this.piece.subarray(0, this.fill))
    this.piece = undefined
    while (this.queue.length > 0) await this.emitNext()
    this.free = []
    await this.pool.close()
  }
}

type ZstdCompressFactory = (options: {params: Record<number, number>}) => Transform

/** zstdEncoder returns a zstd compressor at `level`: zlib's when Node has it, else the `zstd` program. */
export function zstdEncoder(level: number, what: string): Duplex {
  const native = (zlib as unknown as {createZstdCompress?: ZstdCompressFactory}).createZstdCompress
  const levelParam = (zlib.constants as unknown as Record<string, number>).ZSTD_c_compressionLevel
  if (typeof native === 'function' && levelParam !== undefined) return native({params: {[levelParam]: level}})
  const args = ['-q', '-c', `-${level}`]
  if (level > 19) args.unshift('--ultra')
  return new ZstdProcess(args, what, (why) => new OcitoolError(`${what}: zstd failed: ${why}`, {code: 'ZSTD_FAILED'}))
}

/** zstdDecoder returns a zstd decompressor: zlib's when Node has it, else the `zstd` program. */
export function zstdDecoder(what: string): Duplex {
  const native = (zlib as unknown as {createZstdDecompress?: () => Transform}).createZstdDecompress
  if (typeof native === 'function') return native()
  return new ZstdProcess(['-d', '-q', '-c'], what, (why) => new UsageError(`${what}: corrupt or truncated zstd data: ${why}`, {code: 'BAD_LAYER'}))
}

/** ZstdProcess pipes bytes through `zstd`; its output ends only after zstd exited 0. */
class ZstdProcess extends Duplex {
  private readonly child: ChildProcessWithoutNullStreams
  private stderr = ''

  constructor(args: string[], what: string, failed: (why: string) => Error) {
    super({readableHighWaterMark: MiB, writableHighWaterMark: MiB})
    const child = spawn('zstd', args, {stdio: ['pipe', 'pipe', 'pipe']})
    this.child = child
    child.on('error', (e: NodeJS.ErrnoException) => {
      this.destroy(
        e.code === 'ENOENT'
          ? new OcitoolError(`${what}: zstd needs the zstd program on PATH (Node ${process.version} has no zstd)`, {
              code: 'ZSTD_UNAVAILABLE',
              suggestions: ['install zstd (e.g. apt-get install zstd), run on Node 22.15 or later, or use gzip'],
            })
          : new OcitoolError(`${what}: running zstd: ${e.message}`, {code: 'ZSTD_FAILED', cause: e}),
      )
    })
    // a write after zstd died fails with EPIPE; the exit status below says why it died
    child.stdin.on('error', () => {})
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      if (this.stderr.length < 4096) this.stderr += s
    })
    child.stdout.on('data', (c: Buffer) => {
      if (!this.push(c)) child.stdout.pause()
    })
    child.on('close', (code, signal) => {
      if (this.destroyed) return
      if (code === 0) {
        this.push(null)
        return
      }
      const why = this.stderr.trim().split('\n').pop()?.replace(/^zstd: /, '') || (signal ? `killed by ${signal}` : `exit status ${code}`)
      this.destroy(failed(why))
    })
  }

  override _read(): void {
    this.child.stdout.resume()
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (error?: Error | null) => void): void {
    if (this.child.stdin.write(chunk)) cb()
    else this.child.stdin.once('drain', () => cb())
  }

  override _final(cb: (error?: Error | null) => void): void {
    this.child.stdin.end()
    cb()
  }

  override _destroy(err: Error | null, cb: (error?: Error | null) => void): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill()
    cb(err)
  }
}
