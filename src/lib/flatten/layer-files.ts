/**
 * layer-files: the file tree of an image as metadata (no contents kept): each layer's tar
 * applied on top of the tree of the layers below, whiteouts applied (`.wh.NAME` removes NAME and
 * what is under it, `.wh..wh..opq` empties its directory of lower layers' entries; both act on
 * lower layers only), regular files identified by the sha256 of their bytes. For `diff --files`.
 */
import {createHash} from 'node:crypto'
import type {Readable} from 'node:stream'
import {pipeline} from 'node:stream/promises'
import * as tar from 'tar-stream'
import {OcitoolError} from '../errors.js'
import {decompressLayer} from '../tarball/decompress.js'
import {normalizeEntryPath} from './paths.js'

export interface FileInfo {
  type: string
  mode: number
  uid: number
  gid: number
  size: number
  /** sha256 of a regular file's bytes */
  digest?: string
  /** symlink or hard-link target */
  linkname?: string
}

export type FileTree = Map<string, FileInfo>

const WH = '.wh.'
const OPAQUE = '.wh..wh..opq'

/** applyLayer reads one layer blob (any compression) and applies it to `tree` in place. */
export async function applyLayer(tree: FileTree, blob: Readable, what: string): Promise<void> {
  const tarStream = await decompressLayer(blob, what)
  const extract = tar.extract()
  const removals: Array<{path: string; self: boolean}> = []
  const entries: Array<[string, FileInfo]> = []
  extract.on('entry', (header, stream, next) => {
    const path = normalizeEntryPath(header.name)
    const base = path?.split('/').pop() ?? ''
    const dir = path?.includes('/') ? path.slice(0, path.lastIndexOf('/')) : ''
    const info: FileInfo = {type: header.type ?? 'file', mode: (header.mode ?? 0) & 0o7777, uid: header.uid ?? 0, gid: header.gid ?? 0, size: header.size ?? 0}
    if (header.linkname) info.linkname = header.linkname
    const hash = info.type === 'file' || info.type === 'contiguous-file' ? createHash('sha256') : undefined
    stream.on('data', (c: unknown) => {
      hash?.update(c as Buffer)
    })
    stream.on('end', () => {
      if (path !== undefined && path !== '') {
        if (base === OPAQUE) removals.push({path: dir, self: false})
        else if (base.startsWith(WH)) removals.push({path: dir ? `${dir}/${base.slice(WH.length)}` : base.slice(WH.length), self: true})
        else {
          if (hash) info.digest = `sha256:${hash.digest('hex')}`
          entries.push([path, info])
        }
      }
      next()
    })
    stream.resume()
  })
  try {
    await pipeline(tarStream, extract)
  } catch (e) {
    throw e instanceof OcitoolError ? e : new OcitoolError(`${what}: not a readable tar: ${(e as Error).message}`, {code: 'BAD_LAYER', exitCode: 6, cause: e})
  }
  for (const r of removals) {
    const prefix = r.path === '' ? '' : `${r.path}/`
    if (r.self) tree.delete(r.path)
    for (const p of [...tree.keys()]) if (p.startsWith(prefix)) tree.delete(p)
  }
  for (const [p, info] of entries) tree.set(p, info)
}

/** sameFile compares what `diff --files` calls a modification (not times). */
export function sameFile(a: FileInfo, b: FileInfo): boolean {
  return a.type === b.type && a.mode === b.mode && a.uid === b.uid && a.gid === b.gid && a.size === b.size && a.digest === b.digest && a.linkname === b.linkname
}
