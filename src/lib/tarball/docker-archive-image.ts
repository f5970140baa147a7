/**
 * docker-archive-image: the registry manifest of one image of a `docker save` tarball.
 *
 * When the archive carries the image's original manifest (ocitool's `ocitool.manifest`
 * entry, or the OCI `index.json` + `blobs/` that docker 25+ saves) and that manifest names
 * exactly the config and layer files of the manifest.json entry, its exact bytes are used,
 * so the digest survives registry → tarball → registry. Otherwise a Docker schema 2 manifest
 * is made the way go-containerregistry does:
 * - the config is the Config file; its digest is the file's sha256;
 * - a gzip or zstd layer file (by magic bytes) is the blob as is; its digest is the one its
 *   name states (`<hex>.tar.gz`, `blobs/sha256/<hex>`; the engine verifies it while
 *   streaming) or else the file's sha256;
 * - an uncompressed layer (legacy `<id>/layer.tar`) is gzipped on the fly: one streaming pass
 *   measures the compressed digest and size (and checks the diff id), and `blob()` later
 *   produces the very same bytes again (see compression.ts);
 * - a layer listed in `LayerSources` (foreign) keeps that descriptor, `urls` included.
 * Any zstd layer makes it an OCI manifest, since Docker schema 2 has no zstd layer type.
 */
import {IntegrityError, NotFoundError, OcitoolError} from '../errors.js'
import {algorithmOf, digestOf, digestOfStream} from '../oci/digest.js'
import {MAX_MANIFEST_BYTES, parseManifest} from '../oci/manifest.js'
import {MediaType} from '../oci/media-types.js'
import type {Descriptor, ImageManifest} from '../oci/types.js'
import type {ManifestBytes} from '../stores/types.js'
import {SNIFF_BYTES, detectCompression, measureGzip} from './compression.js'
import {type ArchiveImage, MANIFEST_JSON, OCITOOL_MANIFEST_KEY, claimedDigest} from './docker-manifest.js'
import type {TarReader} from './reader.js'

/** MAX_CONFIG_BYTES caps image configs (64 MiB; real ones are kilobytes). */
export const MAX_CONFIG_BYTES = 64 * 1024 * 1024

/** BlobLocation is where a blob's bytes are: an entry, gzipped on the fly when `gzip`. */
export interface BlobLocation {
  entry: string
  gzip?: boolean
}

/** ResolvedImage is a manifest.json entry as a registry image. */
export interface ResolvedImage {
  manifest: ManifestBytes
  /** digest → where its bytes are, for the config and every layer present in the archive */
  blobs: Map<string, BlobLocation>
}

/** Candidate is a manifest found in the archive that may be the original of an entry. */
export interface Candidate extends ManifestBytes {
  parsed: ImageManifest
}

interface LayerInfo {
  desc: Descriptor
  location?: BlobLocation
}

/** ImageResolver turns manifest.json entries into images, measuring each layer file once. */
export class ImageResolver {
  private readonly measured = new Map<number, Promise<LayerInfo>>()

  constructor(
    private readonly reader: TarReader,
    private readonly candidates: () => Promise<Candidate[]>,
  ) {}

  async resolve(image: ArchiveImage): Promise<ResolvedImage> {
    const configBytes = await this.reader.readBytes(this.named(image.Config, 'config'), MAX_CONFIG_BYTES)
    const configDigest = digestOf(configBytes)
    const diffIds = diffIdsOf(configBytes, image.Config, this.reader.description)
    const foreign = image.LayerSources ?? {}
    const layerFiles = image.Layers.map((file, i) => {
      const src = foreign[diffIds[i] ?? '']
      return src !== undefined && !this.reader.has(file) ? undefined : this.named(file, 'layer')
    })

    const exact = await this.findOriginal(image, configDigest, layerFiles)
    if (exact !== undefined) {
      const blobs = new Map<string, BlobLocation>([[configDigest, {entry: image.Config}]])
      exact.parsed.layers.forEach((d, i) => {
        const entry = layerFiles[i]
        if (entry !== undefined) blobs.set(d.digest, {entry})
      })
      return {manifest: {bytes: exact.bytes, mediaType: exact.mediaType, digest: exact.digest}, blobs}
    }

    const layers = await mapLimit(image.Layers, 4, (file, i) => {
      const src = foreign[diffIds[i] ?? '']
      if (src !== undefined) return Promise.resolve({desc: src, ...(layerFiles[i] ? {location: {entry: file}} : {})})
      return this.measure(file, diffIds[i])
    })
    const oci = layers.some((l) => l.desc.mediaType === MediaType.ociLayerZstd)
    const manifest = {
      schemaVersion: 2,
      mediaType: oci ? MediaType.ociManifest : MediaType.dockerManifest,
      config: {mediaType: oci ? MediaType.ociConfig : MediaType.dockerConfig, size: configBytes.length, digest: configDigest},
      layers: layers.map((l) => (oci && l.desc.mediaType === MediaType.dockerLayer ? {...l.desc, mediaType: MediaType.ociLayerGzip} : l.desc)),
    }
    const bytes = Buffer.from(JSON.stringify(manifest))
    const blobs = new Map<string, BlobLocation>([[configDigest, {entry: image.Config}]])
    for (const l of layers) if (l.location) blobs.set(l.desc.digest, l.location)
    return {manifest: {bytes, mediaType: manifest.mediaType, digest: digestOf(bytes)}, blobs}
  }

  /** named checks that a file manifest.json names is in the archive (NotFoundError naming it). */
  private named(file: string, what: string): string {
    try {
      this.reader.resolve(file)
      return file
    } catch (e) {
      if (e instanceof NotFoundError) {
        throw new NotFoundError(`${this.reader.description}: ${MANIFEST_JSON} names ${what} ${JSON.stringify(file)}, which is not in the archive`, {
          code: 'ENTRY_NOT_FOUND',
          cause: e,
        })
      }
      throw e
    }
  }

  private async findOriginal(image: ArchiveImage, configDigest: string, layerFiles: (string | undefined)[]): Promise<Candidate | undefined> {
    const own = image[OCITOOL_MANIFEST_KEY]
    const list: Candidate[] = []
    if (own !== undefined && this.reader.has(own.path)) {
      const bytes = await this.reader.readBytes(own.path, MAX_MANIFEST_BYTES)
      const parsed = tryParseImage(bytes, own.mediaType)
      if (parsed) list.push({bytes, mediaType: own.mediaType, digest: digestOf(bytes), parsed})
    }
    list.push(...(await this.candidates()))
    for (const c of list) {
      if (await this.matches(c.parsed, image, configDigest, layerFiles)) return c
    }
    return undefined
  }

  private async matches(m: ImageManifest, image: ArchiveImage, configDigest: string, layerFiles: (string | undefined)[]): Promise<boolean> {
    if (m.config.digest !== configDigest || m.layers.length !== image.Layers.length) return false
    for (let i = 0; i < m.layers.length; i++) {
      const d = m.layers[i]
      const file = layerFiles[i]
      if (file === undefined) {
        // foreign and absent: the descriptor must be the LayerSources one
        if (!Object.values(image.LayerSources ?? {}).some((s) => s.digest === d.digest)) return false
        continue
      }
      if (this.reader.size(file) !== d.size) return false
      const claim = claimedDigest(file)
      const actual = claim ?? (await digestOfStream(this.reader.open(file), algorithmOf(d.digest))).digest
      if (actual !== d.digest) return false
    }
    return true
  }

  private measure(file: string, diffId: string | undefined): Promise<LayerInfo> {
    const entry = this.reader.resolve(file)
    let p = this.measured.get(entry.offset)
    if (p === undefined) {
      p = this.measureNow(file, entry.size, diffId)
      this.measured.set(entry.offset, p)
    }
    return p
  }

  private async measureNow(file: string, size: number, diffId: string | undefined): Promise<LayerInfo> {
    const compression = detectCompression(await this.reader.head(file, SNIFF_BYTES))
    if (compression === 'none') {
      const m = await measureGzip(this.reader.open(file))
      if (diffId !== undefined && m.diffId !== diffId) {
        throw new IntegrityError(`${this.reader.description}: layer ${JSON.stringify(file)} hashes to ${m.diffId}, but the config says ${diffId}`, {
          code: 'DIGEST_MISMATCH',
        })
      }
      return {desc: {mediaType: MediaType.dockerLayer, size: m.size, digest: m.digest}, location: {entry: file, gzip: true}}
    }
    // A name that states the diff id (uncompressed digest) does not state this file's digest.
    const claim = claimedDigest(file)
    const digest = claim !== undefined && claim !== diffId ? claim : (await digestOfStream(this.reader.open(file))).digest
    const mediaType = compression === 'zstd' ? MediaType.ociLayerZstd : MediaType.dockerLayer
    return {desc: {mediaType, size, digest}, location: {entry: file}}
  }
}

function tryParseImage(bytes: Uint8Array, mediaType?: string): ImageManifest | undefined {
  try {
    const p = parseManifest(bytes, mediaType)
    return p.kind === 'image' ? p.manifest : undefined
  } catch {
    return undefined
  }
}

/** toCandidate parses bytes found in the archive as a possible original manifest. */
export function toCandidate(bytes: Buffer, mediaType: string): Candidate | undefined {
  const parsed = tryParseImage(bytes, mediaType)
  return parsed && {bytes, mediaType, digest: digestOf(bytes), parsed}
}

function diffIdsOf(configBytes: Buffer, file: string, description: string): string[] {
  let config: unknown
  try {
    config = JSON.parse(configBytes.toString('utf8'))
  } catch (e) {
    throw new OcitoolError(`${description}: config ${JSON.stringify(file)} is not JSON`, {code: 'BAD_ARCHIVE', cause: e})
  }
  const ids = (config as {rootfs?: {diff_ids?: unknown}} | null)?.rootfs?.diff_ids
  return Array.isArray(ids) ? ids.filter((d): d is string => typeof d === 'string') : []
}

/** mapLimit maps items to results, at most `limit` at a time, keeping order. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length)
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const i = next++
      out[i] = await fn(items[i], i)
    }
  }
  await Promise.all(Array.from({length: Math.min(limit, items.length)}, worker))
  return out
}
