/**
 * edit: change images through an OverlaySource. An edit sees one image's manifest and config as
 * plain objects and changes them; editRoot applies it to an image, or to every child of an
 * index (or the chosen platforms), writes the new configs and manifests into the overlay and
 * returns the new root. Children that are not edited keep their exact bytes.
 */
import {NotFoundError, UsageError} from '../errors.js'
import {parseManifest} from '../oci/manifest.js'
import {formatPlatform, platformMatches} from '../oci/platform.js'
import type {Descriptor, Platform} from '../oci/types.js'
import type {ManifestBytes} from '../stores/types.js'
import type {OverlaySource} from './overlay.js'

// Documents are edited as plain JSON: unknown fields pass through untouched.
export type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

export interface ImageDocs {
  manifest: Json
  config: Json
  /** the platform the index says this image is for (when it came from an index) */
  platform?: Platform
  /** the image's digest before the edit */
  digest: string
}

export type Edit = (image: ImageDocs) => void | Promise<void>

export interface EditOptions {
  /** edit only these children of an index (others are kept); undefined: all */
  platforms?: Platform[] | 'all'
  /** change an edited index's media type (for --to-oci / --to-docker) */
  indexMediaType?: string
}

/** editRoot applies `edit` to an image or to the children of an index. */
export async function editRoot(overlay: OverlaySource, root: ManifestBytes, edit: Edit, options: EditOptions = {}): Promise<ManifestBytes> {
  const parsed = parseManifest(root.bytes, root.mediaType)
  if (parsed.kind === 'image') return editImage(overlay, root, edit)
  if (parsed.kind !== 'index') throw new UsageError(`${overlay.description}: ${parsed.mediaType} is not an image or an index`)
  const index = JSON.parse(root.bytes.toString('utf8')) as Json
  const wanted = options.platforms === 'all' ? undefined : options.platforms
  let edited = 0
  const children: Descriptor[] = []
  for (const child of index.manifests as Descriptor[]) {
    const matches = !wanted || (child.platform !== undefined && wanted.some((w) => platformMatches(w, child.platform!)))
    const childDoc = matches ? parseManifest((await overlay.manifest(child)).bytes, child.mediaType) : undefined
    if (!matches || childDoc?.kind !== 'image') {
      children.push(child) // attestations and other platforms stay as they are
      continue
    }
    const m = await editImage(overlay, await overlay.manifest(child), edit, child.platform)
    const config = JSON.parse((await overlay.blobBytes(JSON.parse(m.bytes.toString('utf8')).config)).toString('utf8')) as Json
    const platform = child.platform ? {...child.platform, os: config.os ?? child.platform.os, architecture: config.architecture ?? child.platform.architecture} : undefined
    children.push({...child, mediaType: m.mediaType, digest: m.digest, size: m.bytes.length, ...(platform ? {platform} : {})})
    edited++
  }
  if (edited === 0) {
    const have = (index.manifests as Descriptor[]).map((d) => (d.platform ? formatPlatform(d.platform) : 'unknown')).join(', ')
    throw new NotFoundError(`${overlay.description}: no image for platform ${(wanted ?? []).map(formatPlatform).join(', ')} (the index has: ${have})`, {code: 'PLATFORM_NOT_FOUND'})
  }
  index.manifests = children
  if (options.indexMediaType) index.mediaType = options.indexMediaType
  return overlay.addManifest(Buffer.from(JSON.stringify(index)), index.mediaType ?? root.mediaType)
}

/** editImage applies `edit` to one image manifest and its config. */
async function editImage(overlay: OverlaySource, m: ManifestBytes, edit: Edit, platform?: Platform): Promise<ManifestBytes> {
  const manifest = JSON.parse(m.bytes.toString('utf8')) as Json
  const configBytes = await overlay.blobBytes(manifest.config as Descriptor)
  const config = JSON.parse(configBytes.toString('utf8')) as Json
  await edit({manifest, config, platform, digest: m.digest})
  const cfg = overlay.addJson(config)
  manifest.config = {...manifest.config, digest: cfg.digest, size: cfg.size}
  return overlay.addManifest(Buffer.from(JSON.stringify(manifest)), manifest.mediaType ?? m.mediaType)
}

/** createdNow is the `created` time of a new history entry: SOURCE_DATE_EPOCH when set. */
export function createdNow(explicit?: string): string {
  if (explicit) {
    const t = Date.parse(explicit)
    if (Number.isNaN(t)) throw new UsageError(`--created ${explicit}: not a date (RFC 3339, e.g. 2024-01-02T03:04:05Z)`)
    return new Date(t).toISOString()
  }
  const epoch = process.env.SOURCE_DATE_EPOCH
  if (epoch !== undefined && epoch !== '') {
    if (!/^\d+$/.test(epoch)) throw new UsageError(`SOURCE_DATE_EPOCH=${epoch}: not a number of seconds`)
    return new Date(Number(epoch) * 1000).toISOString()
  }
  return new Date().toISOString()
}
