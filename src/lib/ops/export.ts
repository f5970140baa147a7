/**
 * export: the flattened filesystem of an image as one tar (`crane export`). The image is
 * anything `openSource` opens; an index gives the child for `platform` (default linux/amd64).
 * A Readable source is a docker archive (`docker save`) on stdin: it is spooled to a temporary
 * file first, since reading an archive needs random access.
 *
 * The manifest is resolved before any output exists, so a missing image leaves no file. A file
 * is written as `FILE.tmp-<random>` and renamed into place only when the whole tar was written
 * and every layer verified against its digest; on any error it is removed.
 */
import * as fsp from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'
import type {Readable, Writable} from 'node:stream'
import {pipeline} from 'node:stream/promises'

import {NotFoundError, OcitoolError, UsageError, isOcitoolError} from '../errors.js'
import {writeError} from '../io/write-error.js'
import {parseManifest} from '../oci/manifest.js'
import type {ImageManifest, Platform} from '../oci/types.js'
import {type RemoteOptions, withSession} from '../remote/session.js'
import type {Location} from '../stores/location.js'
import {openSource} from '../stores/open.js'
import type {Source} from '../stores/types.js'
import {type FlattenResult, flatten} from '../flatten/index.js'
import {imageLayers} from './image-layers.js'
import {selectPlatforms} from '../transfer/plan.js'
import {DEFAULT_PLATFORM} from './resolve.js'
import {openFileTemp} from '../layout/stale-temps.js'

export interface ExportOptions extends RemoteOptions {
  /** the child of an index to export (default linux/amd64) */
  platform?: Platform
  /** 'error' (default): an entry outside the root fails the export; 'skip': warn and leave it out */
  unsafePaths?: 'error' | 'skip'
}

export interface ExportResult extends FlattenResult {
  /** the image manifest exported (the platform's child of an index) */
  digest: string
  layers: number
}

/** exportImage writes the flattened filesystem of `src` to the file `dst` or, left open, to the stream `dst`. */
export async function exportImage(src: Location | Readable, dst: string | Writable, options: ExportOptions = {}): Promise<ExportResult> {
  if (!isLocation(src)) {
    const spooled = await spool(src, options.signal)
    try {
      return await exportImage({kind: 'docker-archive', path: spooled.file}, dst, options)
    } finally {
      await fsp.rm(spooled.dir, {recursive: true, force: true})
    }
  }
  return withSession(options, async (session) => {
    const source = await openSource(src, session)
    try {
      const {digest, manifest} = await imageOf(source, options.platform ?? DEFAULT_PLATFORM)
      const layers = imageLayers(source, manifest.layers)
      const flat = {unsafePaths: options.unsafePaths, warn: options.warn, signal: options.signal}
      const r = typeof dst === 'string' ? await toFile(dst, (out) => flatten(layers, out, {...flat, spoolDir: path.dirname(path.resolve(dst))})) : await flatten(layers, dst, {...flat, end: false})
      return {...r, digest, layers: layers.length}
    } finally {
      await source.close().catch(() => {})
    }
  })
}

function isLocation(x: Location | Readable): x is Location {
  return typeof (x as Location).kind === 'string'
}

/** imageOf resolves the source's one image manifest, picking a platform from an index. */
async function imageOf(source: Source, platform: Platform): Promise<{digest: string; manifest: ImageManifest}> {
  const roots = await source.roots()
  if (roots.length === 0) throw new NotFoundError(`${source.description}: holds no image`)
  if (roots.length > 1) {
    throw new UsageError(`${source.description}: holds ${roots.length} images; name one (e.g. docker-archive:FILE:REF or oci:DIR:TAG)`)
  }
  const m = await selectPlatforms(source, roots[0], {platforms: [platform]})
  const parsed = parseManifest(m.bytes, m.mediaType)
  if (parsed.kind === 'schema1') throw new UsageError(`${source.description}: Docker schema 1 manifests are not supported; convert the image first`, {code: 'SCHEMA1'})
  if (parsed.kind !== 'image') {
    throw new UsageError(`${source.description}: ${m.digest} is ${parsed.mediaType}, not an image manifest; nothing to export`, {code: 'NOT_AN_IMAGE'})
  }
  return {digest: m.digest, manifest: parsed.manifest}
}

/**
 * toFile runs `write` into `FILE.tmp-<random>` (created first, so a bad path fails before any
 * layer is read) and renames it to `file` when `write` succeeded; otherwise removes it.
 */
async function toFile<T>(file: string, write: (out: Writable) => Promise<T>): Promise<T> {
  let tmp: string
  let handle: fsp.FileHandle
  try {
    ;({path: tmp, handle} = await openFileTemp(file))
  } catch (e) {
    throw writeError(file, e)
  }
  const out = handle.createWriteStream()
  try {
    const r = await write(out)
    await fsp.rename(tmp, file)
    return r
  } catch (e) {
    out.destroy()
    await handle.close().catch(() => {})
    await fsp.rm(tmp, {force: true})
    throw isOcitoolError(e) ? e : writeError(file, e)
  }
}

/** spool copies a stream (stdin) to a file in a fresh temporary directory. */
async function spool(input: Readable, signal?: AbortSignal): Promise<{dir: string; file: string}> {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'ocitool-export-'))
  const file = path.join(dir, 'image.tar')
  try {
    const handle = await fsp.open(file, 'wx')
    await pipeline(input, handle.createWriteStream(), {signal})
    return {dir, file}
  } catch (e) {
    await fsp.rm(dir, {recursive: true, force: true})
    throw isOcitoolError(e) ? e : new OcitoolError(`reading the image from stdin: ${(e as Error).message}`, {code: 'STDIN', cause: e})
  }
}
