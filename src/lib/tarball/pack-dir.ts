/**
 * pack-dir: a directory as a reproducible tar stream, for a layer. The same tree gives the
 * same bytes on every machine and at every time:
 *
 * - entries in a fixed order: depth first, each directory's names sorted by their UTF-8 bytes,
 *   a directory before what it holds; the directory itself is not an entry (so appending the
 *   layer never changes the image's `/`)
 * - every mtime is `mtime` (seconds); uid and gid are `uid`/`gid` (default 0), uname and gname
 *   empty; permission bits (setuid, setgid, sticky included) are kept
 * - symbolic links are kept as links; files with several hard links inside the tree become one
 *   file and hard-link entries pointing at the first path; FIFOs and devices are kept; sockets
 *   cannot be archived and are skipped with a warning
 *
 * A file that changes size while it is read fails the pack. Small files are read whole a few
 * dozen entries ahead of their turn (at most 16 MiB), and each directory's entries are
 * lstat'ed in parallel, so the file system's latency overlaps the packing.
 */
import {createReadStream} from 'node:fs'
import type {Stats} from 'node:fs'
import {lstat, readFile, readdir, readlink} from 'node:fs/promises'
import {join} from 'node:path'
import {Readable} from 'node:stream'
import * as tar from 'tar-stream'

import {OcitoolError} from '../errors.js'

export interface PackDirOptions {
  /** the mtime of every entry, in seconds since the epoch */
  mtime: number
  uid?: number
  gid?: number
  warn?: (message: string) => void
  signal?: AbortSignal
  /** names the directory in messages (default: its path) */
  what?: string
}

const READ_CHUNK = 1024 * 1024
/** files up to this size are read whole, ahead of their turn */
const SMALL_FILE = 1024 * 1024
/** how far ahead small files are read: entries, and bytes */
const AHEAD_FILES = 32
const AHEAD_BYTES = 16 * 1024 * 1024
const STAT_CONCURRENCY = 16

interface Item {
  path: string
  abs: string
  st: Stats
  linkname?: string
}

/** mapLimit maps items with at most `limit` calls in flight, keeping their order. */
async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length)
  let next = 0
  const run = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++
      out[i] = await fn(items[i])
    }
  }
  await Promise.all(Array.from({length: Math.min(limit, items.length)}, run))
  return out
}

/** what an entry needs besides the fixed owner and mtime */
type EntryFields = Pick<Partial<tar.Header>, 'type' | 'mode' | 'size' | 'linkname' | 'devmajor' | 'devminor'> & {name: string}

function byBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'))
}

/** Linux's encoding of a device number (glibc's gnu_dev_major and gnu_dev_minor). */
function devMajor(rdev: number): number {
  return Number(((BigInt(rdev) >> 8n) & 0xfffn) | ((BigInt(rdev) >> 32n) & ~0xfffn))
}

function devMinor(rdev: number): number {
  return Number((BigInt(rdev) & 0xffn) | ((BigInt(rdev) >> 12n) & ~0xffn))
}

/** packDir returns the tar of the directory `root`, made as it is read. */
export function packDir(root: string, options: PackDirOptions): Readable {
  const pack = tar.pack({highWaterMark: READ_CHUNK})
  const what = options.what ?? root
  const mtime = new Date(options.mtime * 1000)
  const owner = {uid: options.uid ?? 0, gid: options.gid ?? 0, uname: '', gname: ''}
  const links = new Map<string, string>()

  /** entry adds one entry: no body, a body in memory, or a file streamed (`size` bytes) */
  const entry = (header: EntryFields, file?: string | Buffer, size = 0): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null) => (err ? reject(err) : resolve())
      if (Buffer.isBuffer(file)) {
        pack.entry({...header, ...owner, mtime}, file, cb).on('error', () => {})
        return
      }
      const sink = pack.entry({...header, ...owner, mtime}, cb)
      sink.on('error', () => {}) // reported through the callback
      if (file === undefined) return
      copyInto(file, sink, size).then(
        () => sink.end(undefined),
        (e: unknown) => {
          sink.destroy()
          reject(e)
        },
      )
    })

  async function copyInto(file: string, sink: ReturnType<tar.Pack['entry']>, size: number): Promise<void> {
    let seen = 0
    for await (const chunk of createReadStream(file, {highWaterMark: READ_CHUNK})) {
      if (options.signal?.aborted) throw options.signal.reason
      seen += (chunk as Buffer).length
      if (seen > size) break // the size check at the end names the file
      if (!sink.write(chunk as Buffer)) await new Promise<void>((resolve) => sink.once('drain', () => resolve()))
    }
    if (seen !== size) throw new OcitoolError(`${what}: ${file} changed size while it was packed`, {code: 'FILE_CHANGED'})
  }

  /** walk yields every entry under `rel` in order, its lstat (and link target) fetched ahead. */
  async function* walk(rel: string): AsyncGenerator<Item> {
    const dir = rel === '' ? root : join(root, rel)
    const names = (await readdir(dir)).sort(byBytes)
    const items = await mapLimit(names, STAT_CONCURRENCY, async (name): Promise<Item> => {
      const path = rel === '' ? name : `${rel}/${name}`
      const abs = join(root, path)
      const st = await lstat(abs)
      return {path, abs, st, linkname: st.isSymbolicLink() ? await readlink(abs) : undefined}
    })
    for (const item of items) {
      yield item
      if (item.st.isDirectory()) yield* walk(item.path)
    }
  }

  async function add(item: Item, body: Promise<Buffer> | undefined): Promise<void> {
    const {path, abs, st} = item
    // the whole st_mode: tar-stream masks it to 0o7777, and would replace a plain 0 by a default
    const mode = st.mode
    if (st.isDirectory()) {
      await entry({name: `${path}/`, type: 'directory', mode})
    } else if (st.isSymbolicLink()) {
      await entry({name: path, type: 'symlink', mode, linkname: item.linkname})
    } else if (st.isSocket()) {
      options.warn?.(`${what}: skipping socket ${path} (a tar archive cannot hold sockets)`)
    } else if (st.nlink > 1 && links.has(`${st.dev}:${st.ino}`)) {
      await entry({name: path, type: 'link', mode, linkname: links.get(`${st.dev}:${st.ino}`)!})
    } else {
      if (st.nlink > 1) links.set(`${st.dev}:${st.ino}`, path)
      if (st.isFile()) {
        const header = {name: path, type: 'file' as const, mode, size: st.size}
        if (body === undefined) {
          await entry(header, abs, st.size)
        } else {
          const bytes = await body
          if (bytes.length !== st.size) throw new OcitoolError(`${what}: ${abs} changed size while it was packed`, {code: 'FILE_CHANGED'})
          await entry(header, bytes)
        }
      } else if (st.isFIFO()) {
        await entry({name: path, type: 'fifo', mode})
      } else if (st.isCharacterDevice() || st.isBlockDevice()) {
        const type = st.isCharacterDevice() ? 'character-device' : 'block-device'
        await entry({name: path, type, mode, devmajor: devMajor(st.rdev), devminor: devMinor(st.rdev)})
      }
    }
  }

  /**
   * packAll adds every entry in order, reading small files ahead (a bounded window) so that
   * opening and reading them overlaps packing, instead of one file's latency after another.
   */
  async function packAll(): Promise<void> {
    const items = walk('')
    const window: {item: Item; body?: Promise<Buffer>}[] = []
    let ahead = 0
    let done = false
    for (;;) {
      while (!done && window.length < AHEAD_FILES && ahead < AHEAD_BYTES) {
        const r = await items.next()
        if (r.done) {
          done = true
          break
        }
        const st = r.value.st
        // files with several links may be written as links: they are read when they are not
        const small = st.isFile() && st.size <= SMALL_FILE && st.nlink === 1
        const body = small ? readFile(r.value.abs) : undefined
        body?.catch(() => {}) // awaited in order; a failure must not go unhandled meanwhile
        if (small) ahead += st.size
        window.push({item: r.value, body})
      }
      const next = window.shift()
      if (next === undefined) return
      if (options.signal?.aborted) throw options.signal.reason
      if (next.body !== undefined) ahead -= next.item.st.size
      await add(next.item, next.body)
    }
  }

  packAll().then(
    () => pack.finalize(),
    (e: unknown) => {
      const err =
        e instanceof OcitoolError || (e instanceof Error && e.name === 'AbortError')
          ? e
          : new OcitoolError(`${what}: ${e instanceof Error ? e.message : String(e)}`, {code: 'PACK_DIR', cause: e})
      pack.destroy(err)
    },
  )
  // tar-stream's pack is a streamx stream; Readable.from gives the Node stream pipeline() expects
  return Readable.from(pack, {objectMode: false, highWaterMark: READ_CHUNK})
}
