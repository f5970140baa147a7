/**
 * legacy-tar: a tar file written with positioned writes, so that an entry's header can be
 * written after its body. The legacy `docker save` format stores layers uncompressed, and a
 * layer's uncompressed size (which the header holds) is known only once it has been
 * decompressed. Nothing is buffered and no second temporary file is used: `streamEntry`
 * reserves the 512-byte header block, streams the body in place, pads it to a block, and
 * `writeHeader` fills in the header at that offset later (the legacy sink does it at commit,
 * when the entry's name, a layer id, is known too).
 *
 * Like tar-writer.ts it writes to `<file>.tmp-<random>`, renamed into place by `commit()` and
 * removed by `abort()`; an entry whose body fails half way is cut off (truncated), so the blob
 * can be retried. It needs a real file: stdout cannot seek. Calls must not overlap (the sink
 * serialises them). Every header is deterministic (mode 0644, uid/gid 0, mtime 0).
 */
import * as fsp from 'node:fs/promises'

import {OcitoolError, isOcitoolError} from '../errors.js'
import {BLOCK} from './tar-header.js'
import {fileTempPath, openFileTemp} from '../layout/stale-temps.js'

/** TRAILER is the end-of-archive marker: two zero blocks. */
const TRAILER = 2 * BLOCK
/** Streamed bodies are written in batches of about this many bytes. */
const FLUSH_BYTES = 1024 * 1024
/** MAX_OCTAL_SIZE is the largest size the 11 octal digits of a ustar header hold (8 GiB - 1). */
export const MAX_OCTAL_SIZE = 8 ** 11 - 1
const NAME_BYTES = 100

/** HeaderFields describe one entry: a regular file or a symlink. */
export interface HeaderFields {
  name: string
  /** body size; ignored (0) for a symlink */
  size: number
  type: 'file' | 'symlink'
  linkname?: string
}

/** StreamedEntry is where a streamed body went: its reserved header block and its size. */
export interface StreamedEntry {
  /** offset of the reserved header block; the body follows it */
  offset: number
  size: number
}

function octal(b: Buffer, offset: number, length: number, n: number): void {
  b.write(`${n.toString(8).padStart(length - 1, '0')}\0`, offset, 'latin1')
}

/** base256 writes n as a GNU base-256 number: the high bit of the first byte set, big-endian. */
function base256(b: Buffer, offset: number, length: number, n: number): void {
  let rest = n
  for (let i = offset + length - 1; i > offset; i--) {
    b[i] = rest % 256
    rest = Math.floor(rest / 256)
  }
  b[offset] = 0x80
}

function field(b: Buffer, offset: number, value: string, what: string): void {
  const bytes = Buffer.from(value, 'utf8')
  if (bytes.length > NAME_BYTES) {
    throw new OcitoolError(`internal error: tar ${what} ${JSON.stringify(value)} is longer than ${NAME_BYTES} bytes`, {code: 'TAR_WRITE'})
  }
  bytes.copy(b, offset)
}

/**
 * encodeHeader encodes one 512-byte header. Sizes up to 8 GiB - 1 are octal (POSIX ustar);
 * larger ones are GNU base-256 (the header then carries the GNU magic), which GNU tar, Go's
 * archive/tar (docker, skopeo), tar-stream and reader.ts all read. Names are at most 100
 * bytes: every name the legacy format uses is shorter.
 */
export function encodeHeader(h: HeaderFields): Buffer {
  const b = Buffer.alloc(BLOCK)
  field(b, 0, h.name, 'entry name')
  const size = h.type === 'symlink' ? 0 : h.size
  if (!Number.isSafeInteger(size) || size < 0) throw new OcitoolError(`internal error: tar entry size ${size}`, {code: 'TAR_WRITE'})
  octal(b, 100, 8, h.type === 'symlink' ? 0o777 : 0o644)
  octal(b, 108, 8, 0) // uid
  octal(b, 116, 8, 0) // gid
  const gnu = size > MAX_OCTAL_SIZE
  if (gnu) base256(b, 124, 12, size)
  else octal(b, 124, 12, size)
  octal(b, 136, 12, 0) // mtime
  b[156] = (h.type === 'symlink' ? '2' : '0').charCodeAt(0)
  if (h.linkname !== undefined) field(b, 157, h.linkname, 'link name')
  if (gnu) {
    b.write('ustar  \0', 257, 'latin1')
  } else {
    b.write('ustar\x0000', 257, 'latin1')
    octal(b, 329, 8, 0) // devmajor
    octal(b, 337, 8, 0) // devminor
  }
  b.fill(0x20, 148, 156)
  let sum = 0
  for (const x of b) sum += x
  b.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1')
  return b
}

/** padding returns the zeros that complete a body of `size` bytes to a whole block. */
function padding(size: number): Buffer {
  return Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK)
}

/** PositionedTarFile writes one tar archive to a temporary file. Entries, then `commit()` or `abort()`. */
export class PositionedTarFile {
  private handle?: Promise<fsp.FileHandle>
  private readonly tmp: string
  private pos = 0
  private state: 'open' | 'committed' | 'aborted' = 'open'
  private broken?: OcitoolError

  /** `target` is the archive path; `description` names it in messages (`docker-archive:./out.tar`). */
  constructor(
    readonly target: string,
    readonly description: string,
  ) {
    this.tmp = fileTempPath(target)
  }

  /** bytesWritten is the archive's length so far (no end marker). */
  get bytesWritten(): number {
    return this.pos
  }

  /** add writes a whole entry whose bytes are in memory. */
  async add(name: string, bytes: Uint8Array): Promise<void> {
    const header = encodeHeader({name, size: bytes.length, type: 'file'})
    await this.append([header, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), padding(bytes.length)])
  }

  /** addSymlink writes a symlink entry `name` → `linkname` (relative to name's directory). */
  async addSymlink(name: string, linkname: string): Promise<void> {
    await this.append([encodeHeader({name, size: 0, type: 'symlink', linkname})])
  }

  /**
   * streamEntry reserves a header block, writes every chunk of `body` after it (`onChunk`
   * sees each one first, to hash it) and pads the body to a block. The header stays zero
   * until `writeHeader(offset, …)`. When `body` fails, the file is cut back to where the
   * entry began and the error passes through.
   */
  async streamEntry(body: AsyncIterable<Buffer>, onChunk?: (chunk: Buffer) => void): Promise<StreamedEntry> {
    this.check()
    const handle = await this.open()
    const offset = this.pos
    let at = offset + BLOCK
    let size = 0
    let batch: Buffer[] = [Buffer.alloc(BLOCK)]
    let batchBytes = BLOCK
    const flush = async () => {
      await this.writeAt(handle, batch, at - batchBytes)
      batch = []
      batchBytes = 0
    }
    try {
      for await (const chunk of body) {
        const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
        if (buf.length === 0) continue
        onChunk?.(buf)
        batch.push(buf)
        batchBytes += buf.length
        at += buf.length
        size += buf.length
        if (batchBytes >= FLUSH_BYTES) await flush()
      }
      const pad = padding(size)
      batch.push(pad)
      batchBytes += pad.length
      at += pad.length
      await flush()
    } catch (e) {
      await this.cutBack(handle, offset)
      throw e
    }
    this.pos = at
    return {offset, size}
  }

  /** writeHeader writes the header of an entry made by `streamEntry`, at its reserved block. */
  async writeHeader(entry: StreamedEntry, fields: Omit<HeaderFields, 'size' | 'type'>): Promise<void> {
    this.check()
    const handle = await this.open()
    await this.writeAt(handle, [encodeHeader({...fields, size: entry.size, type: 'file'})], entry.offset)
  }

  /** dropLast removes the entry `streamEntry` just made (a layer already in the archive). */
  async dropLast(entry: StreamedEntry): Promise<void> {
    this.check()
    if (entry.offset + BLOCK + entry.size + padding(entry.size).length !== this.pos) {
      throw new OcitoolError(`${this.description}: internal error: only the last entry can be dropped`, {code: 'TAR_WRITE'})
    }
    await this.cutBack(await this.open(), entry.offset)
    if (this.broken) throw this.broken
  }

  /** commit writes the end-of-archive marker and moves the archive into place. */
  async commit(): Promise<void> {
    this.check()
    const handle = await this.open()
    try {
      await this.writeAt(handle, [Buffer.alloc(TRAILER)], this.pos)
      this.pos += TRAILER
      // no fsync, as for the modern archive (see tar-writer.ts FileOutput.finish)
      await handle.close()
      await fsp.rename(this.tmp, this.target)
      this.state = 'committed'
    } catch (e) {
      this.state = 'aborted'
      await handle.close().catch(() => {})
      await fsp.rm(this.tmp, {force: true})
      throw this.writeError(e)
    }
  }

  /** abort removes the temporary file; nothing is left behind. */
  async abort(): Promise<void> {
    if (this.state !== 'open') return
    this.state = 'aborted'
    const handle = await this.handle?.catch(() => undefined)
    if (handle === undefined) return
    await handle.close().catch(() => {})
    await fsp.rm(this.tmp, {force: true})
  }

  private check(): void {
    if (this.state !== 'open') throw new OcitoolError(`${this.description}: archive already ${this.state}`, {code: 'STORE_CLOSED'})
    if (this.broken) throw this.broken
  }

  private open(): Promise<fsp.FileHandle> {
    this.handle ??= openFileTemp(this.target, this.tmp).then((t) => t.handle).catch((e: unknown) => {
      const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'its directory does not exist' : (e as Error).message
      throw new OcitoolError(`${this.description}: cannot create ${this.target}: ${why}`, {code: 'WRITE', cause: e})
    })
    return this.handle
  }

  private async append(bufs: Buffer[]): Promise<void> {
    this.check()
    const handle = await this.open()
    const start = this.pos
    try {
      await this.writeAt(handle, bufs, start)
    } catch (e) {
      await this.cutBack(handle, start)
      throw e
    }
    this.pos = start + bufs.reduce((n, b) => n + b.length, 0)
  }

  /** writeAt writes all of `bufs` at `pos`, going on after short writes. */
  private async writeAt(handle: fsp.FileHandle, bufs: Buffer[], pos: number): Promise<void> {
    let rest = bufs.filter((b) => b.length > 0)
    try {
      while (rest.length > 0) {
        const total = rest.reduce((n, b) => n + b.length, 0)
        const {bytesWritten} = await handle.writev(rest, pos)
        if (bytesWritten === total) return
        pos += bytesWritten
        rest = [Buffer.concat(rest).subarray(bytesWritten)]
      }
    } catch (e) {
      throw this.writeError(e)
    }
  }

  /** cutBack truncates the file to `pos` (undoing a failed entry); when it cannot, the archive is unusable. */
  private async cutBack(handle: fsp.FileHandle, pos: number): Promise<void> {
    try {
      await handle.truncate(pos)
      this.pos = pos
    } catch (e) {
      this.broken ??= new OcitoolError(`${this.description}: cannot undo a failed entry`, {code: 'TAR_WRITE', cause: e})
    }
  }

  /** writeError names the archive in a failed write (ENOSPC, EIO), which Node reports without a path. */
  private writeError(e: unknown): unknown {
    if (isOcitoolError(e)) return e
    return new OcitoolError(`${this.description}: cannot write ${this.target}: ${(e as Error).message}`, {code: 'WRITE', cause: e})
  }
}
