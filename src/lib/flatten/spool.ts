/**
 * spool: the bytes of the files flatten may write, kept from its one read of each layer until
 * it writes them (parents and lower layers first, so in another order than they were read).
 * Small files stay in memory (up to MEMORY_MAX in all); the rest go, in order, to one temporary
 * file, unlinked as soon as it is open, so nothing is left behind even when the process is killed.
 * Bytes are spooled only after and while their layer is being verified; the whole flatten fails
 * when any layer does, so nothing spooled from a bad layer is ever written out.
 */
import {randomBytes} from 'node:crypto'
import * as fsp from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'

/** a spooled file body: the bytes themselves, or where they are in the spool file */
export type Spooled = Buffer | {offset: number; size: number}

const MiB = 1024 * 1024
/** bodies up to this size may stay in memory … */
const MEMORY_ENTRY_MAX = 256 * 1024
/** … up to this much in all */
const MEMORY_MAX = 16 * MiB
/** writes to the spool file are grouped into pieces of about this size; reads are no larger */
const PIECE = MiB

export class Spool {
  private memory = 0
  private file?: fsp.FileHandle
  private opening?: Promise<fsp.FileHandle>
  /** bytes handed to the file so far, and those waiting to be */
  private written = 0
  private pending: Buffer[] = []
  private pendingBytes = 0

  /** `dir`: where the spool file goes (default os.tmpdir()) */
  constructor(private readonly dir: string = os.tmpdir()) {}

  /** take keeps one body, given as its pieces (`size` bytes in all, known up front). */
  async take(pieces: AsyncIterable<Buffer>, size: number): Promise<Spooled> {
    if (size <= MEMORY_ENTRY_MAX && this.memory + size <= MEMORY_MAX) {
      const parts: Buffer[] = []
      let have = 0
      for await (const p of pieces) {
        parts.push(p)
        have += p.length
      }
      this.memory += have
      // a piece of a larger chunk would keep all of that chunk alive: copy it out
      return parts.length === 1 && parts[0].buffer.byteLength === have ? parts[0] : Buffer.concat(parts, have)
    }
    const offset = this.written + this.pendingBytes
    let have = 0
    for await (const p of pieces) {
      have += p.length
      // pieces may be views of a buffer the producer reuses: a copy when held back, none when written now
      if (this.pendingBytes + p.length >= PIECE) {
        await this.write([...this.pending, p])
      } else {
        this.pending.push(Buffer.from(p))
        this.pendingBytes += p.length
      }
    }
    return {offset, size: have}
  }

  /** read yields a spooled body in pieces of at most PIECE bytes. */
  async *read(body: Spooled): AsyncGenerator<Buffer> {
    if (Buffer.isBuffer(body)) {
      if (body.length > 0) yield body
      return
    }
    if (this.pendingBytes > 0) await this.write(this.pending)
    let at = body.offset
    const end = body.offset + body.size
    while (at < end) {
      const n = Math.min(PIECE, end - at)
      const buf = Buffer.allocUnsafe(n)
      let got = 0
      while (got < n) {
        const {bytesRead} = await (await this.handle()).read(buf, got, n - got, at + got)
        if (bytesRead === 0) throw new Error(`flatten spool: ${end - at - got} bytes missing at offset ${at + got}`)
        got += bytesRead
      }
      at += n
      yield buf
    }
  }

  async close(): Promise<void> {
    this.pending = []
    const file = this.file ?? (await this.opening?.catch(() => undefined))
    this.file = undefined
    await file?.close().catch(() => {})
  }

  private async write(pieces: Buffer[]): Promise<void> {
    const bytes = pieces.reduce((n, p) => n + p.length, 0)
    this.pending = []
    this.pendingBytes = 0
    const file = await this.handle()
    let at = 0
    while (at < bytes) {
      const {bytesWritten} = await file.writev(at === 0 ? pieces : [Buffer.concat(pieces).subarray(at)], this.written + at)
      at += bytesWritten
    }
    this.written += bytes
  }

  private handle(): Promise<fsp.FileHandle> {
    if (this.file) return Promise.resolve(this.file)
    this.opening ??= (async () => {
      const name = path.join(this.dir, `.ocitool-flatten-${randomBytes(6).toString('hex')}.spool`)
      const file = await fsp.open(name, 'wx+', 0o600)
      await fsp.rm(name, {force: true}).catch(() => {})
      this.file = file
      return file
    })()
    return this.opening
  }
}
