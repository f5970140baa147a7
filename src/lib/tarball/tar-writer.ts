/**
 * tar-writer: writes a tar archive entry by entry, with tar-stream's `pack`, to a temporary
 * file next to the target (renamed into place by `commit()`, removed by `abort()`) or to
 * stdout (`-`).
 *
 * Each entry gets a pack of its own, and the pack's end-of-archive blocks are held back, so
 * entries simply follow each other in the output and `commit()` writes the end blocks once.
 * The point: when an entry's data fails half way (a dropped download, a digest mismatch),
 * the file is cut back to where the entry began and the archive is as if the entry had never
 * been started, so the transfer engine can retry the blob or abort cleanly. On stdout that is
 * impossible, so a failed entry there makes the writer refuse everything after it.
 *
 * Entries are written one at a time (calls queue); every header is deterministic (mode 0644,
 * uid/gid 0, mtime 0), so the same content gives the same archive bytes.
 */
import * as fsp from 'node:fs/promises'
import {once} from 'node:events'
import type {Readable, Writable} from 'node:stream'
import * as tar from 'tar-stream'

import {IntegrityError, InterruptedError, OcitoolError, isOcitoolError} from '../errors.js'
import {openFileTemp} from '../layout/stale-temps.js'

/** TRAILER is the end-of-archive marker: two zero blocks. */
const TRAILER = 1024
/** Output is written in batches of about this many bytes. */
const FLUSH_BYTES = 1024 * 1024
const EPOCH = new Date(0)

interface Output {
  write(bufs: Buffer[], pos: number): Promise<void>
  /** cut the output back to `pos` bytes; undefined when impossible (stdout) */
  readonly truncate?: (pos: number) => Promise<void>
  finish(): Promise<void>
  discard(): Promise<void>
}

class FileOutput implements Output {
  readonly tmp: string

  private constructor(
    private readonly handle: fsp.FileHandle,
    tmp: string,
    private readonly final: string,
  ) {
    this.tmp = tmp
  }

  static async create(final: string): Promise<FileOutput> {
    const {path, handle} = await openFileTemp(final)
    return new FileOutput(handle, path, final)
  }

  async write(bufs: Buffer[], pos: number): Promise<void> {
    let rest = bufs
    while (rest.length > 0) {
      const total = rest.reduce((n, b) => n + b.length, 0)
      const {bytesWritten} = await this.handle.writev(rest, pos)
      if (bytesWritten === total) return
      pos += bytesWritten
      rest = [Buffer.concat(rest).subarray(bytesWritten)]
    }
  }

  readonly truncate = async (pos: number): Promise<void> => {
    await this.handle.truncate(pos)
  }

  /**
   * finish moves the whole archive into place. No fsync first: like `docker save`, crane and
   * skopeo, the archive is as durable as any file the user writes, and a failed or interrupted
   * run still never leaves a partial one under the final name; waiting for the disk to take
   * the whole archive cost 5-30% of a pull here, more while other writes were being flushed.
   */
  async finish(): Promise<void> {
    await this.handle.close()
    await fsp.rename(this.tmp, this.final)
  }

  async discard(): Promise<void> {
    await this.handle.close().catch(() => {})
    await fsp.rm(this.tmp, {force: true})
  }
}

class StreamOutput implements Output {
  constructor(private readonly out: Writable) {}

  async write(bufs: Buffer[]): Promise<void> {
    for (const b of bufs) {
      if (!this.out.write(b)) await once(this.out, 'drain')
    }
  }

  async finish(): Promise<void> {
    // stdout is not ended (it belongs to the process); wait until what we wrote is flushed.
    if (this.out.writableNeedDrain) await once(this.out, 'drain')
  }

  async discard(): Promise<void> {}
}

function drained(w: tar.Pack | ReturnType<tar.Pack['entry']>, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err?: unknown) => {
      w.off('drain', onDrain)
      w.off('close', onClose)
      signal.removeEventListener('abort', onAbort)
      if (err === undefined) resolve()
      else reject(err)
    }
    const onDrain = () => done()
    const onClose = () => done(new OcitoolError('tar entry closed', {code: 'TAR_WRITE'}))
    const onAbort = () => done(signal.reason)
    w.on('drain', onDrain)
    w.on('close', onClose)
    signal.addEventListener('abort', onAbort)
  })
}

/** TarWriter writes one tar archive. Create it, `add` entries, then `commit()` or `abort()`. */
export class TarWriter {
  private output?: Promise<Output>
  private pos = 0
  private chain: Promise<unknown> = Promise.resolve()
  private state: 'open' | 'committed' | 'aborted' = 'open'
  private broken?: OcitoolError
  private inflight?: {pack: tar.Pack; ac: AbortController; body: Readable | Uint8Array}

  /**
   * `target` is the archive path or `-` for stdout; `description` names it in messages
   * (`docker-archive:./out.tar`); `stdout` replaces process.stdout (tests).
   */
  constructor(
    readonly target: string,
    readonly description: string,
    private readonly stdout?: Writable,
  ) {}

  /** bytesWritten is the archive's length so far (entries only, no end marker). */
  get bytesWritten(): number {
    return this.pos
  }

  /**
   * add writes one regular-file entry of exactly `size` bytes. When `body` fails or has the
   * wrong length the entry is undone (file output) and the error passes through.
   */
  add(name: string, size: number, body: Readable | Uint8Array): Promise<void> {
    return this.serialize(() => this.addNow(name, size, body))
  }

  /** commit writes the end-of-archive marker and moves the archive into place. */
  commit(): Promise<void> {
    return this.serialize(async () => {
      this.check()
      const out = await this.open()
      try {
        await out.write([Buffer.alloc(TRAILER)], this.pos)
        this.pos += TRAILER
        await out.finish()
        this.state = 'committed'
      } catch (e) {
        this.state = 'aborted'
        await out.discard()
        throw this.writeError(e)
      }
    })
  }

  /** abort stops the entry in flight and removes the temporary file; nothing is left behind. */
  async abort(): Promise<void> {
    if (this.state !== 'open') return
    this.state = 'aborted'
    const reason = new InterruptedError(`${this.description}: aborted`)
    this.inflight?.ac.abort(reason)
    this.inflight?.pack.destroy(reason)
    const body = this.inflight?.body
    if (body !== undefined && !(body instanceof Uint8Array)) body.destroy(reason)
    await this.chain
    if (this.output) await (await this.output.catch(() => undefined))?.discard()
  }

  private serialize<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn)
    this.chain = run.catch(() => {})
    return run
  }

  private check(): void {
    if (this.state !== 'open') throw new OcitoolError(`${this.description}: archive already ${this.state}`, {code: 'STORE_CLOSED'})
    if (this.broken) throw this.broken
  }

  private open(): Promise<Output> {
    this.output ??=
      this.target === '-'
        ? Promise.resolve(new StreamOutput(this.stdout ?? process.stdout))
        : FileOutput.create(this.target).catch((e: unknown) => {
            const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'its directory does not exist' : (e as Error).message
            throw new OcitoolError(`${this.description}: cannot create ${this.target}: ${why}`, {code: 'WRITE', cause: e})
          })
    return this.output
  }

  private async addNow(name: string, size: number, body: Readable | Uint8Array): Promise<void> {
    this.check()
    const out = await this.open()
    const pack = tar.pack({highWaterMark: FLUSH_BYTES})
    // Errors reach us through the pump and the entry callback; a destroyed pack must not
    // also throw them as unhandled 'error' events.
    pack.on('error', () => {})
    const ac = new AbortController()
    this.inflight = {pack, ac, body}
    const pumped = this.pump(pack, out).catch((e: unknown) => {
      ac.abort(e)
      throw e
    })
    pumped.catch(() => {})
    try {
      await this.feed(pack, name, size, body, ac.signal)
      pack.finalize()
      this.pos += await pumped
    } catch (e) {
      pack.destroy(e instanceof Error ? e : new Error(String(e)))
      // a failed write (ENOSPC) is the cause; the feed then only saw its entry close
      const writeFailed = await pumped.then(() => undefined, (pe: unknown) => pe)
      await this.rollback(out, name)
      throw writeFailed ?? e
    } finally {
      this.inflight = undefined
    }
  }

  private async feed(pack: tar.Pack, name: string, size: number, body: Readable | Uint8Array, signal: AbortSignal): Promise<void> {
    const header = {name, size, mode: 0o644, mtime: EPOCH, uid: 0, gid: 0, type: 'file' as const}
    if (body instanceof Uint8Array && body.length !== size) {
      throw new IntegrityError(`${this.description}: ${name}: got ${body.length} bytes, expected ${size}`, {code: 'SIZE_MISMATCH'})
    }
    let entry!: ReturnType<tar.Pack['entry']>
    const written = new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null) => (err ? reject(err) : resolve())
      entry = body instanceof Uint8Array ? pack.entry(header, body, cb) : pack.entry(header, cb)
    })
    entry.on('error', () => {})
    written.catch(() => {})
    if (!(body instanceof Uint8Array)) {
      let seen = 0
      for await (const chunk of body) {
        if (signal.aborted) throw signal.reason
        const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer)
        seen += buf.length
        if (seen > size) throw new IntegrityError(`${this.description}: ${name}: more than the expected ${size} bytes`, {code: 'SIZE_MISMATCH'})
        if (!entry.write(buf)) await drained(entry, signal)
      }
      if (signal.aborted) throw signal.reason
      if (seen !== size) throw new IntegrityError(`${this.description}: ${name}: got ${seen} bytes, expected ${size}`, {code: 'SIZE_MISMATCH'})
      entry.end(undefined)
    }
    await Promise.race([written, new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), {once: true}))])
  }

  /** pump copies one pack's output to the archive, except its end-of-archive blocks; returns the bytes written. */
  private async pump(pack: tar.Pack, out: Output): Promise<number> {
    let tail = Buffer.alloc(0)
    let batch: Buffer[] = []
    let batchBytes = 0
    let written = 0
    const push = (b: Buffer) => {
      if (b.length === 0) return
      batch.push(b)
      batchBytes += b.length
    }
    const flush = async () => {
      if (batchBytes === 0) return
      await out.write(batch, this.pos + written).catch((e: unknown) => {
        throw this.writeError(e)
      })
      written += batchBytes
      batch = []
      batchBytes = 0
    }
    for await (const chunk of pack) {
      const c = chunk as Buffer
      if (c.length >= TRAILER) {
        push(tail)
        push(c.subarray(0, c.length - TRAILER))
        tail = Buffer.from(c.subarray(c.length - TRAILER))
      } else {
        const joined = Buffer.concat([tail, c])
        const excess = Math.max(0, joined.length - TRAILER)
        push(joined.subarray(0, excess))
        tail = joined.subarray(excess)
      }
      if (batchBytes >= FLUSH_BYTES) await flush()
    }
    await flush()
    if (tail.length !== TRAILER || tail.some((b) => b !== 0)) {
      throw new OcitoolError(`${this.description}: internal error: tar entry without end marker`, {code: 'TAR_WRITE'})
    }
    return written
  }

  /** writeError names the archive in a failed write (ENOSPC, EIO), which Node reports without a path. */
  private writeError(e: unknown): unknown {
    if (isOcitoolError(e)) return e
    return new OcitoolError(`${this.description}: cannot write ${this.target}: ${(e as Error).message}`, {code: 'WRITE', cause: e})
  }

  private async rollback(out: Output, name: string): Promise<void> {
    if (out.truncate && !this.broken) {
      try {
        await out.truncate(this.pos)
        return
      } catch (e) {
        this.broken = new OcitoolError(`${this.description}: cannot undo the failed entry ${name}`, {code: 'TAR_WRITE', cause: e})
        return
      }
    }
    this.broken ??= new OcitoolError(`${this.description}: entry ${name} failed half way; the archive on stdout is unusable`, {code: 'TAR_WRITE'})
  }
}
