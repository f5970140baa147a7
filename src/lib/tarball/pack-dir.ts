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
 * A file that changes size while it is read fails the pack (tar-stream checks the size).
 */
import {createReadStream} from 'node:fs'
import {lstat, readdir, readlink} from 'node:fs/promises'
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

  const entry = (header: EntryFields, file?: string, size = 0): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const sink = pack.entry({...header, ...owner, mtime}, (err?: Error | null) => (err ? reject(err) : resolve()))
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

  async function walk(rel: string): Promise<void> {
    const dir = rel === '' ? root : join(root, rel)
    const names = (await readdir(dir)).sort(byBytes)
    for (const name of names) {
      if (options.signal?.aborted) throw options.signal.reason
      const path = rel === '' ? name : `${rel}/${name}`
      const abs = join(root, path)
      const st = await lstat(abs)
      // the whole st_mode: tar-stream masks it to 0o7777, and would replace a plain 0 by a default
      const mode = st.mode
      if (st.isDirectory()) {
        await entry({name: `${path}/`, type: 'directory', mode})
        await walk(path)
      } else if (st.isSymbolicLink()) {
        await entry({name: path, type: 'symlink', mode, linkname: await readlink(abs)})
      } else if (st.isSocket()) {
        options.warn?.(`${what}: skipping socket ${path} (a tar archive cannot hold sockets)`)
      } else if (st.nlink > 1 && links.has(`${st.dev}:${st.ino}`)) {
        await entry({name: path, type: 'link', mode, linkname: links.get(`${st.dev}:${st.ino}`)!})
      } else {
        if (st.nlink > 1) links.set(`${st.dev}:${st.ino}`, path)
        if (st.isFile()) await entry({name: path, type: 'file', mode, size: st.size}, abs, st.size)
        else if (st.isFIFO()) await entry({name: path, type: 'fifo', mode})
        else if (st.isCharacterDevice() || st.isBlockDevice()) {
          const type = st.isCharacterDevice() ? 'character-device' : 'block-device'
          await entry({name: path, type, mode, devmajor: devMajor(st.rdev), devminor: devMinor(st.rdev)})
        }
      }
    }
  }

  walk('').then(
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
