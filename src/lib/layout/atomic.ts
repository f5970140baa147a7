/**
 * atomic: files that appear whole or not at all. Every write goes to a temporary file next to
 * its final name (`.tmp-<random>`, so the rename stays on one file system) and is renamed into
 * place only after the last byte was written without error. `TempFiles` remembers the
 * temporary files in flight so a sink's `abort()` can remove them, and refuses new writes after.
 */
import {randomBytes} from 'node:crypto'
import type {WriteStream} from 'node:fs'
import * as fsp from 'node:fs/promises'
import * as path from 'node:path'
import type {Readable} from 'node:stream'
import {pipeline} from 'node:stream/promises'

import {IntegrityError, InterruptedError, NotFoundError, OcitoolError} from '../errors.js'
import {ManifestError, MAX_MANIFEST_BYTES} from '../oci/manifest.js'
import {writerName} from './stale-temps.js'

/** TEMP_PREFIX starts the name of every temporary file the layout stores write. */
export const TEMP_PREFIX = '.tmp-'

/** BLOB_STREAM_CHUNK is the read and write buffer for blob files (1 MiB). */
export const BLOB_STREAM_CHUNK = 1024 * 1024

/**
 * tempPathFor returns a fresh temporary name in the directory of `final`, naming its writer
 * (`.tmp-<host>.<pid>.<random>`) so a later writer can tell a killed one's leftovers (stale-temps.ts).
 */
export function tempPathFor(final: string): string {
  return path.join(path.dirname(final), `${TEMP_PREFIX}${writerName()}${randomBytes(8).toString('hex')}`)
}

/** isErrno is true for a Node system error with the given code (ENOENT, EEXIST, …). */
export function isErrno(e: unknown, code: string): boolean {
  return typeof e === 'object' && e !== null && (e as NodeJS.ErrnoException).code === code
}

/**
 * holdErrors keeps an 'error' of `data` that happens while a sink is still getting ready (before
 * it pipes the stream) from becoming an uncaught exception; the pipeline sees the error later,
 * since it looks at the stream's errored state. Returns a function that removes the listener.
 */
export function holdErrors(data: Readable): () => void {
  const ignore = () => {}
  data.on('error', ignore)
  return () => data.off('error', ignore)
}

/**
 * putStream runs `prepare` (the sink's checks, mkdir), then `write`, while holding `data`'s
 * errors; when either fails, `data` is destroyed so its producer stops.
 */
export async function putStream(data: Readable, prepare: () => Promise<unknown>, write: () => Promise<void>): Promise<void> {
  const release = holdErrors(data)
  try {
    await prepare()
    await write()
  } catch (e) {
    data.destroy()
    throw e
  } finally {
    release()
  }
}

/** TempFiles writes files through temporary names and can remove every one still in flight. */
export class TempFiles {
  private readonly live = new Map<string, WriteStream | undefined>()
  private closed = false

  /** what the owning store is, for messages: `oci:./out` */
  constructor(private readonly owner: string) {}

  /**
   * writeStream streams `data` into `final` through a temporary file. When `size` is given,
   * a different byte count is an IntegrityError. On any error the temporary file is removed
   * and the error passes through; `final` is then untouched.
   */
  async writeStream(final: string, data: Readable, size?: number): Promise<void> {
    const tmp = this.begin(final)
    try {
      // Open first, so the file surely exists when we remove it after an error.
      const handle = await fsp.open(tmp, 'wx')
      if (this.closed) {
        await handle.close()
        throw new InterruptedError(`${this.owner}: aborted`)
      }
      const out = handle.createWriteStream({highWaterMark: BLOB_STREAM_CHUNK})
      this.live.set(tmp, out)
      await pipeline(data, out)
      if (size !== undefined && out.bytesWritten !== size) {
        throw new IntegrityError(`${this.owner}: ${path.basename(final)}: wrote ${out.bytesWritten} bytes, expected ${size}`, {code: 'SIZE_MISMATCH'})
      }
      await this.finish(tmp, final)
    } catch (e) {
      await this.discard(tmp)
      throw this.writeError(e, final)
    }
  }

  /** writeBytes writes small content (manifests, index.json) through a temporary file. */
  async writeBytes(final: string, bytes: Uint8Array | string): Promise<void> {
    const tmp = this.begin(final)
    try {
      await fsp.writeFile(tmp, bytes, {flag: 'wx'})
      await this.finish(tmp, final)
    } catch (e) {
      await this.discard(tmp)
      throw this.writeError(e, final)
    }
  }

  /** writeError names the file in a failed write (ENOSPC, EIO), which Node reports without a path. */
  private writeError(e: unknown, final: string): unknown {
    if ((e as NodeJS.ErrnoException)?.syscall !== 'write') return e
    return new OcitoolError(`${this.owner}: cannot write ${final}: ${(e as Error).message}`, {code: 'WRITE', cause: e})
  }

  /** abort stops writes in flight, removes every temporary file, and refuses later writes. */
  async abort(): Promise<void> {
    this.closed = true
    const pending = [...this.live.entries()]
    for (const [, out] of pending) out?.destroy(new InterruptedError(`${this.owner}: aborted`))
    await Promise.all(pending.map(([tmp]) => this.discard(tmp)))
  }

  /** close refuses later writes (after a commit). */
  close(): void {
    this.closed = true
  }

  private begin(final: string): string {
    if (this.closed) throw new OcitoolError(`${this.owner}: store already committed or aborted`, {code: 'STORE_CLOSED'})
    const tmp = tempPathFor(final)
    this.live.set(tmp, undefined)
    return tmp
  }

  private async finish(tmp: string, final: string): Promise<void> {
    if (this.closed) throw new InterruptedError(`${this.owner}: aborted`)
    await fsp.rename(tmp, final)
    this.live.delete(tmp)
  }

  private async discard(tmp: string): Promise<void> {
    await fsp.rm(tmp, {force: true})
    this.live.delete(tmp)
  }
}

/**
 * readSmallFile reads a manifest-sized file (at most 4 MiB, checked before reading). A missing
 * file is a NotFoundError naming `what` and the path.
 */
export async function readSmallFile(file: string, what: string): Promise<Buffer> {
  let handle: fsp.FileHandle
  try {
    handle = await fsp.open(file, 'r')
  } catch (e) {
    if (isErrno(e, 'ENOENT') || isErrno(e, 'ENOTDIR')) throw new NotFoundError(`${what}: no such file ${file}`, {cause: e})
    throw new OcitoolError(`${what}: cannot read ${file}: ${(e as Error).message}`, {code: 'READ', cause: e})
  }
  try {
    const {size} = await handle.stat()
    if (size > MAX_MANIFEST_BYTES) {
      throw new ManifestError(`${what}: ${file} is ${size} bytes, larger than the ${MAX_MANIFEST_BYTES}-byte limit for manifests`)
    }
    return await handle.readFile()
  } finally {
    await handle.close()
  }
}

/** openBlobStream opens a file as a stream of 1 MiB chunks; a missing file is a NotFoundError. */
export async function openBlobStream(file: string, what: string): Promise<Readable> {
  try {
    const handle = await fsp.open(file, 'r')
    return handle.createReadStream({highWaterMark: BLOB_STREAM_CHUNK})
  } catch (e) {
    if (isErrno(e, 'ENOENT') || isErrno(e, 'ENOTDIR')) throw new NotFoundError(`${what}: no such file ${file}`, {cause: e})
    throw new OcitoolError(`${what}: cannot read ${file}: ${(e as Error).message}`, {code: 'READ', cause: e})
  }
}

/** fileSize returns the size of a regular file, or undefined when there is none. */
export async function fileSize(file: string): Promise<number | undefined> {
  try {
    const st = await fsp.stat(file)
    return st.isFile() ? st.size : undefined
  } catch (e) {
    if (isErrno(e, 'ENOENT') || isErrno(e, 'ENOTDIR')) return undefined
    throw e
  }
}

/** dirState says whether a path is missing, an empty directory, a non-empty one, or not a directory. */
export async function dirState(dir: string): Promise<'missing' | 'empty' | 'nonempty' | 'notdir'> {
  try {
    const st = await fsp.stat(dir)
    if (!st.isDirectory()) return 'notdir'
    return (await fsp.readdir(dir)).length === 0 ? 'empty' : 'nonempty'
  } catch (e) {
    if (isErrno(e, 'ENOENT')) return 'missing'
    if (isErrno(e, 'ENOTDIR')) return 'notdir'
    throw e
  }
}
