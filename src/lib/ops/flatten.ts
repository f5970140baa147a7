/**
 * flatten: squash an image's layers into one (`crane flatten`). Per image (every image child of
 * an index, or the chosen platforms), the applied filesystem of its layers (whiteouts applied,
 * hard links kept: flatten/flatten.ts) becomes one layer, compressed as `append` compresses;
 * the config keeps everything but rootfs (one diff id) and history (one entry).
 *
 * `flattenToFiles` is the local form build systems use (containerregistry's flattener): the
 * filesystem of an image in a tarball as a tar file, and its config as a JSON file.
 */
import * as fsp from 'node:fs/promises'
import * as path from 'node:path'
import {PassThrough, type Writable} from 'node:stream'

import {OcitoolError, UsageError, isOcitoolError} from '../errors.js'
import {writeError} from '../io/write-error.js'
import {type Json, createdNow, editRoot} from '../mutate/edit.js'
import {type LayerInputOptions, type PreparedLayer, prepareLayer} from '../mutate/layer.js'
import {OverlaySource} from '../mutate/overlay.js'
import {isForeign} from '../oci/media-types.js'
import {parseManifest} from '../oci/manifest.js'
import type {Descriptor, Platform} from '../oci/types.js'
import {type RemoteOptions, withSession} from '../remote/session.js'
import type {Location} from '../stores/location.js'
import {openSource} from '../stores/open.js'
import type {Source} from '../stores/types.js'
import {type FlattenResult, flatten} from '../flatten/index.js'
import {imageLayers} from './image-layers.js'
import {selectPlatforms} from '../transfer/plan.js'
import {type CopyOptions, type CopyResult, copy} from './copy.js'
import {dropStaleAttestations, imagePlatforms, onlyRoot, readConfig} from './index-image.js'
import {DEFAULT_PLATFORM} from './resolve.js'
import {openFileTemp} from '../layout/stale-temps.js'

export interface FlattenImageOptions extends CopyOptions, Pick<LayerInputOptions, 'compression' | 'level'> {
  /** flatten only these children of an index (the others are kept); default every image child */
  platforms?: Platform[] | 'all'
  /** `created` of the one history entry: else SOURCE_DATE_EPOCH, else the image's own `created` */
  created?: string
  /** 'error' (default): an entry outside the root fails; 'skip': warn and leave it out */
  unsafePaths?: 'error' | 'skip'
}

/** flattenImage writes `src` with each image's layers squashed into one to `dst`. */
export async function flattenImage(src: Location, dst: Location, options: FlattenImageOptions = {}): Promise<CopyResult> {
  const created = options.created || process.env.SOURCE_DATE_EPOCH ? createdNow(options.created) : undefined
  const prepared: PreparedLayer[] = []
  try {
    return await withSession(options as RemoteOptions, async (session) => {
      // the destination learns its scheme and challenge while the layers are read, and the push
      // below runs in this session (its connections, its tokens)
      if (dst.kind === 'registry') session.warm(dst.ref)
      const source = await openSource(src, session)
      const overlay = new OverlaySource(source)
      const root = await onlyRoot(source)
      const docker = root.mediaType.includes('docker')
      const edited = await editRoot(
        overlay,
        root,
        async ({manifest, config, digest}) => {
          if (config.os === 'windows') throw new UsageError(`${source.description}: flattening a Windows image is not supported (its layers need the Files/ and Hives/ shape)`)
          const layers = (manifest.layers as Descriptor[]) ?? []
          const foreign = layers.find((l) => isForeign(l.mediaType))
          if (foreign) throw new UsageError(`${source.description}: layer ${foreign.digest} is foreign (its bytes are elsewhere); it cannot be flattened`, {code: 'FOREIGN_LAYER'})
          const layer = await flattenLayer(overlay, layers, {...options, mediaTypes: String(manifest.mediaType ?? (docker ? 'docker' : '')).includes('docker') ? 'docker' : 'oci'})
          prepared.push(layer)
          overlay.addBlob(layer.desc.digest, layer.bytes)
          manifest.layers = [layer.desc]
          config.rootfs = {...(config.rootfs as Json), type: 'layers', diff_ids: [layer.diffId]}
          const when = created ?? (config.created as string | undefined)
          config.history = [{...(when ? {created: when} : {}), created_by: 'ocitool flatten', comment: `${layers.length} layer(s) of ${digest} flattened`}]
        },
        {platforms: options.platforms ?? imagePlatforms(root)},
      )
      const newRoot = dropStaleAttestations(overlay, edited)
      overlay.setRoots([{...newRoot, names: []}])
      return copy({source: overlay}, dst, {...options, platforms: undefined, session})
    })
  } finally {
    for (const l of prepared) await l.cleanup().catch(() => {})
  }
}

/**
 * flattenLayer streams the applied filesystem of `layers` into prepareLayer, which checks the
 * tar, hashes the diff id and compresses it into its temporary file, as for `append`.
 */
async function flattenLayer(source: Source, layers: Descriptor[], options: FlattenImageOptions & {mediaTypes: 'oci' | 'docker'}): Promise<PreparedLayer> {
  const tar = new PassThrough({highWaterMark: 1024 * 1024})
  const producing = flatten(imageLayers(source, layers), tar, {unsafePaths: options.unsafePaths, warn: options.warn, signal: options.signal}).catch((e: unknown) => {
    tar.destroy(e as Error)
    throw e
  })
  const consuming = prepareLayer('-', {compression: options.compression, level: options.level, mediaTypes: options.mediaTypes, signal: options.signal, warn: options.warn, stdin: tar})
  const [made, layer] = await Promise.allSettled([producing, consuming])
  if (made.status === 'rejected') {
    if (layer.status === 'fulfilled') await layer.value.cleanup()
    throw made.reason
  }
  if (layer.status === 'rejected') throw layer.reason
  return layer.value
}

export interface FlattenToFilesOptions extends RemoteOptions {
  /** the child of an index to flatten (default linux/amd64) */
  platform?: Platform
  unsafePaths?: 'error' | 'skip'
}

export interface FlattenToFilesResult extends FlattenResult {
  /** the image manifest flattened */
  digest: string
  layers: number
  filesystem: string
  metadata?: string
}

/**
 * flattenToFiles writes the filesystem of the image `src` names to `filesystem` (a tar) and,
 * with `metadata`, its config (the exact bytes) to that file. Both are written to temporary
 * files next to them and renamed into place only when both are complete.
 */
export async function flattenToFiles(src: Location | {source: Source}, filesystem: string | Writable, metadata: string | undefined, options: FlattenToFilesOptions = {}): Promise<FlattenToFilesResult> {
  if (metadata !== undefined && typeof filesystem === 'string' && path.resolve(metadata) === path.resolve(filesystem)) throw new UsageError('--filesystem and --metadata name the same file')
  return withSession(options, async (session) => {
    const source = 'source' in src ? src.source : await openSource(src, session)
    const temps: string[] = []
    const handles: fsp.FileHandle[] = []
    try {
      const root = await onlyRoot(source)
      const m = await selectPlatforms(source, root, {platforms: [options.platform ?? DEFAULT_PLATFORM]})
      const parsed = parseManifest(m.bytes, m.mediaType)
      if (parsed.kind !== 'image') throw new UsageError(`${source.description}: ${m.digest} is ${parsed.mediaType}, not an image manifest; nothing to flatten`, {code: 'NOT_AN_IMAGE'})
      const config = await readConfig(source, parsed.manifest.config)
      const layers = [...parsed.manifest.layers]
      // a stream (stdout for `--filesystem -`) is written as the bytes come; a file appears whole
      const fsTmp = typeof filesystem === 'string' ? await createTemp(filesystem, temps, handles) : undefined
      const mdTmp = metadata === undefined ? undefined : await createTemp(metadata, temps, handles)
      if (mdTmp) await mdTmp.handle.writeFile(config)
      const out = fsTmp ? fsTmp.handle.createWriteStream() : (filesystem as Writable) // a file stream closes the handle when finished or destroyed
      // flatten ends `out` and waits until it has finished (every byte handed to the file)
      const spoolDir = typeof filesystem === 'string' ? path.dirname(path.resolve(filesystem)) : undefined
      const r = await flatten(imageLayers(source, layers), out, {unsafePaths: options.unsafePaths, warn: options.warn, signal: options.signal, spoolDir})
      for (const h of handles.splice(0)) await h.close()
      if (fsTmp) {
        await fsp.rename(fsTmp.path, filesystem as string)
        temps.splice(temps.indexOf(fsTmp.path), 1)
      }
      if (mdTmp && metadata) {
        await fsp.rename(mdTmp.path, metadata)
        temps.splice(temps.indexOf(mdTmp.path), 1)
      }
      return {...r, digest: m.digest, layers: layers.length, filesystem: typeof filesystem === 'string' ? filesystem : '-', ...(metadata ? {metadata} : {})}
    } catch (e) {
      throw isOcitoolError(e) ? e : new OcitoolError(`flattening ${source.description}: ${(e as Error).message}`, {code: 'WRITE', cause: e})
    } finally {
      for (const h of handles) await h.close().catch(() => {})
      for (const t of temps) await fsp.rm(t, {force: true})
      await source.close().catch(() => {})
    }
  })
}

/** createTemp creates `FILE.tmp-<random>` (so a bad path fails before any layer is read). */
async function createTemp(file: string, temps: string[], handles: fsp.FileHandle[]): Promise<{path: string; handle: fsp.FileHandle}> {
  try {
    const t = await openFileTemp(file)
    temps.push(t.path)
    handles.push(t.handle)
    return t
  } catch (e) {
    throw writeError(file, e)
  }
}
