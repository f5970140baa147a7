/**
 * reader: random access into a tar file without extracting it. `TarReader.open` makes one
 * sequential pass over the headers only (bodies are skipped by seeking, so indexing a 5 GB
 * `docker save` reads a few kilobytes), building `name → {offset, size, type, linkname}`.
 * `open(name)` then streams one entry's bytes straight from the file.
 *
 * Names are normalised (`./a/b`, `/a/b` and `a/b/` are all `a/b`); when a name occurs twice
 * the later entry wins, as when extracting. Hard links (by archive path) and symbolic links
 * (relative to the link's directory), which `docker save` uses for identical layers, are
 * followed to the file they point at.
 *
 * Errors name the archive and the entry: a missing archive or entry is a NotFoundError (exit
 * 3); a truncated or corrupt archive is an IntegrityError (exit 6); a file that is not a tar
 * at all (or a compressed one) is an OcitoolError with code NOT_A_TAR (exit 1).
 */
import * as fs from 'node:fs'
import * as fsp from 'node:fs/promises'
import * as posix from 'node:path/posix'
import {Readable} from 'node:stream'

import {IntegrityError, NotFoundError, OcitoolError} from '../errors.js'
import {
  BLOCK,
  HeaderError,
  METADATA_FLAGS,
  type PendingMeta,
  type TarEntryType,
  applyMeta,
  bodySize,
  decodeHeader,
  decodeLongName,
  decodePax,
  entryType,
} from './tar-header.js'

export type {TarEntryType} from './tar-header.js'

/** TarEntry is one indexed member of an archive. */
export interface TarEntry {
  /** normalised name: no `./` or `/` prefix, no trailing slash */
  readonly name: string
  readonly type: TarEntryType
  /** where the entry's bytes start in the archive file */
  readonly offset: number
  readonly size: number
  /** the target of a hard link (normalised archive path) or symlink (as written) */
  readonly linkname?: string
}

/** READ_CHUNK is the read buffer for entry streams (1 MiB). */
export const READ_CHUNK = 1024 * 1024

/** MAX_META_BYTES caps GNU long-name and PAX header bodies (1 MiB; real ones are tiny). */
const MAX_META_BYTES = 1024 * 1024
/** Headers are read through a window of this size, so small entries cost no extra reads. */
const WINDOW = 64 * 1024
const MAX_LINK_HOPS = 40

/** normalizeName turns an archive path into the form the index uses. */
export function normalizeName(name: string): string {
  const n = posix.normalize(`/${name}`).replace(/^\/+/, '').replace(/\/+$/, '')
  return n === '.' ? '' : n
}

function isErrno(e: unknown, code: string): boolean {
  return typeof e === 'object' && e !== null && (e as NodeJS.ErrnoException).code === code
}

const GZIP_MAGIC = Buffer.from([0x1f, 0x8b])
const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd])
const XZ_MAGIC = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])
const BZIP2_MAGIC = Buffer.from('BZh', 'latin1')

function compressedHint(head: Buffer): string | undefined {
  if (head.subarray(0, 2).equals(GZIP_MAGIC)) return 'gzip'
  if (head.subarray(0, 4).equals(ZSTD_MAGIC)) return 'zstd'
  if (head.subarray(0, 6).equals(XZ_MAGIC)) return 'xz'
  if (head.subarray(0, 3).equals(BZIP2_MAGIC)) return 'bzip2'
  return undefined
}

/** Window reads a file at increasing offsets through a buffer, to index headers cheaply. */
class Window {
  private buf = Buffer.alloc(0)
  private start = 0

  constructor(
    private readonly handle: fsp.FileHandle,
    private readonly fileSize: number,
  ) {}

  /** read returns `length` bytes at `pos`, or fewer at the end of the file. */
  async read(pos: number, length: number): Promise<Buffer> {
    if (pos >= this.start && pos + length <= this.start + this.buf.length) {
      return this.buf.subarray(pos - this.start, pos - this.start + length)
    }
    if (length > WINDOW) {
      const out = Buffer.alloc(Math.min(length, this.fileSize - pos))
      const {bytesRead} = await this.handle.read(out, 0, out.length, pos)
      return out.subarray(0, bytesRead)
    }
    const want = Math.min(WINDOW, Math.max(0, this.fileSize - pos))
    const buf = Buffer.alloc(want)
    const {bytesRead} = await this.handle.read(buf, 0, want, pos)
    this.buf = buf.subarray(0, bytesRead)
    this.start = pos
    return this.buf.subarray(0, Math.min(length, bytesRead))
  }
}

/** TarReader is an index of a tar file and a way to read its entries. */
export class TarReader {
  private constructor(
    /** the archive's path */
    readonly file: string,
    /** what the archive is, for messages: `docker-archive:./app.tar` */
    readonly description: string,
    /** the archive's size when indexed */
    readonly fileSize: number,
    private readonly index: ReadonlyMap<string, TarEntry>,
  ) {}

  /**
   * open indexes the tar at `file`. `description` names it in messages (default: the path).
   * Throws NotFoundError for a missing file, IntegrityError for a truncated or corrupt
   * archive, and OcitoolError NOT_A_TAR for anything else.
   */
  static async open(file: string, description = file): Promise<TarReader> {
    let handle: fsp.FileHandle
    try {
      handle = await fsp.open(file, 'r')
    } catch (e) {
      if (isErrno(e, 'ENOENT') || isErrno(e, 'ENOTDIR')) throw new NotFoundError(`${description}: no such file ${file}`, {cause: e})
      throw new OcitoolError(`${description}: cannot read ${file}: ${(e as Error).message}`, {code: 'READ', cause: e})
    }
    try {
      const st = await handle.stat()
      if (!st.isFile()) throw new OcitoolError(`${description}: ${file} is not a regular file`, {code: 'NOT_A_TAR'})
      if (st.size === 0) throw new OcitoolError(`${description}: ${file} is empty, not a tar archive`, {code: 'NOT_A_TAR'})
      const index = await buildIndex(new Window(handle, st.size), st.size, description)
      return new TarReader(file, description, st.size, index)
    } finally {
      await handle.close()
    }
  }

  /** entries lists every indexed entry (the last one of each name), in archive order. */
  entries(): TarEntry[] {
    return [...this.index.values()].sort((a, b) => a.offset - b.offset)
  }

  /** has is true when `name` exists (as any type) in the archive. */
  has(name: string): boolean {
    return this.index.has(normalizeName(name))
  }

  /** entry returns an entry as indexed (links not followed), or undefined. */
  entry(name: string): TarEntry | undefined {
    return this.index.get(normalizeName(name))
  }

  /**
   * resolve returns the regular file `name` is or links to. A missing name, a dangling or
   * looping link, or a name that is not a file is a NotFoundError naming archive and entry.
   */
  resolve(name: string): TarEntry {
    const wanted = normalizeName(name)
    let current = wanted
    for (let hop = 0; hop <= MAX_LINK_HOPS; hop++) {
      const e = this.index.get(current)
      if (e === undefined) {
        const via = current === wanted ? '' : ` (a link to ${JSON.stringify(current)}, which is missing)`
        throw new NotFoundError(`${this.description}: no entry ${JSON.stringify(wanted)} in the archive${via}`, {code: 'ENTRY_NOT_FOUND'})
      }
      switch (e.type) {
        case 'file':
          return e
        case 'link':
          current = normalizeName(e.linkname ?? '')
          break
        case 'symlink': {
          const target = e.linkname ?? ''
          current = normalizeName(target.startsWith('/') ? target : posix.join(posix.dirname(e.name), target))
          break
        }
        default:
          throw new NotFoundError(`${this.description}: entry ${JSON.stringify(wanted)} is a ${e.type}, not a file`, {code: 'ENTRY_NOT_FOUND'})
      }
    }
    throw new NotFoundError(`${this.description}: entry ${JSON.stringify(wanted)} is a link loop`, {code: 'ENTRY_NOT_FOUND'})
  }

  /** size returns the size of the file `name` is or links to. */
  size(name: string): number {
    return this.resolve(name).size
  }

  /**
   * open streams the bytes of entry `name` (links followed), in 1 MiB chunks. `start` skips
   * that many bytes (for resuming). A fresh stream per call.
   */
  open(name: string, start = 0): Readable {
    const e = this.resolve(name)
    if (start >= e.size) {
      return new Readable({
        read() {
          this.push(null)
        },
      })
    }
    return fs.createReadStream(this.file, {start: e.offset + start, end: e.offset + e.size - 1, highWaterMark: READ_CHUNK})
  }

  /**
   * readBytes reads a small entry whole (manifests, configs, manifest.json). An entry larger
   * than `max` is an OcitoolError (TOO_LARGE); a short read (the file shrank) an IntegrityError.
   */
  async readBytes(name: string, max: number): Promise<Buffer> {
    const e = this.resolve(name)
    if (e.size > max) {
      throw new OcitoolError(`${this.description}: entry ${JSON.stringify(e.name)} is ${e.size} bytes, more than the ${max}-byte limit`, {code: 'TOO_LARGE'})
    }
    return this.readAt(e, 0, e.size)
  }

  /** head reads up to `n` bytes from the start of entry `name` (to sniff its format). */
  async head(name: string, n: number): Promise<Buffer> {
    const e = this.resolve(name)
    return this.readAt(e, 0, Math.min(n, e.size))
  }

  private async readAt(e: TarEntry, from: number, length: number): Promise<Buffer> {
    const out = Buffer.alloc(length)
    const handle = await fsp.open(this.file, 'r')
    try {
      let done = 0
      while (done < length) {
        const {bytesRead} = await handle.read(out, done, length - done, e.offset + from + done)
        if (bytesRead === 0) {
          throw new IntegrityError(`${this.description}: entry ${JSON.stringify(e.name)} is cut short: the archive changed or is truncated`, {code: 'TRUNCATED_ARCHIVE'})
        }
        done += bytesRead
      }
      return out
    } finally {
      await handle.close()
    }
  }
}

async function buildIndex(win: Window, fileSize: number, description: string): Promise<Map<string, TarEntry>> {
  const index = new Map<string, TarEntry>()
  const meta: PendingMeta = {globalPax: {}}
  let pos = 0
  let first = true
  const truncated = (what: string) =>
    new IntegrityError(`${description}: the archive is truncated: ${what} ends after the end of the file (${fileSize} bytes)`, {code: 'TRUNCATED_ARCHIVE'})

  for (;;) {
    // A clean end without the two zero blocks is accepted, as Go's archive/tar does.
    if (pos === fileSize) break
    const block = await win.read(pos, BLOCK)
    if (block.length < BLOCK) {
      if (first) throw notATar(description, block)
      throw truncated(`the header at offset ${pos}`)
    }
    let raw
    try {
      raw = decodeHeader(block)
    } catch (e) {
      if (first) throw notATar(description, block, e)
      throw new IntegrityError(`${description}: the archive is corrupt: bad tar header at offset ${pos} (${(e as Error).message})`, {code: 'CORRUPT_ARCHIVE', cause: e})
    }
    if (raw === null) break // end-of-archive marker
    first = false
    const dataStart = pos + BLOCK
    if (METADATA_FLAGS.has(raw.flag)) {
      if (raw.size > MAX_META_BYTES) throw new IntegrityError(`${description}: the archive is corrupt: ${raw.size}-byte extended header at offset ${pos}`, {code: 'CORRUPT_ARCHIVE'})
      if (dataStart + raw.size > fileSize) throw truncated(`the extended header at offset ${pos}`)
      const body = Buffer.from(await win.read(dataStart, raw.size))
      try {
        if (raw.flag === 'L') meta.longName = decodeLongName(body)
        else if (raw.flag === 'K') meta.longLink = decodeLongName(body)
        else if (raw.flag === 'x') meta.pax = decodePax(body)
        else meta.globalPax = {...meta.globalPax, ...decodePax(body)}
      } catch (e) {
        throw new IntegrityError(`${description}: the archive is corrupt: ${(e as Error).message} at offset ${pos}`, {code: 'CORRUPT_ARCHIVE', cause: e})
      }
      pos = dataStart + bodySize(raw)
      continue
    }
    let h
    try {
      h = applyMeta(raw, meta)
    } catch (e) {
      throw new IntegrityError(`${description}: the archive is corrupt: ${(e as Error).message} at offset ${pos}`, {code: 'CORRUPT_ARCHIVE', cause: e})
    }
    const type = entryType(h.flag)
    const name = normalizeName(h.name)
    const size = type === 'file' ? h.size : 0
    if (type === 'file' && dataStart + size > fileSize) throw truncated(`entry ${JSON.stringify(name)}`)
    const entry: TarEntry = {
      name,
      type,
      offset: dataStart,
      size,
      ...(type === 'link' ? {linkname: normalizeName(h.linkname)} : type === 'symlink' ? {linkname: h.linkname} : {}),
    }
    if (name !== '') {
      index.delete(name) // so entries() keeps archive order for a replaced name
      index.set(name, entry)
    }
    pos = dataStart + bodySize(h)
    if (pos > fileSize) {
      // The padding of the last entry is missing: the bytes are there, the archive is cut.
      throw truncated(`the padding of entry ${JSON.stringify(name)}`)
    }
  }
  return index
}

function notATar(description: string, head: Buffer, cause?: unknown): OcitoolError {
  const compression = compressedHint(head)
  const suggestions = compression === undefined ? [] : [`decompress it first (it is ${compression}-compressed)`]
  const what = compression === undefined ? 'not a tar archive' : `a ${compression}-compressed file, not a plain tar archive`
  return new OcitoolError(`${description}: ${what}`, {code: 'NOT_A_TAR', suggestions, ...(cause === undefined ? {} : {cause})})
}
