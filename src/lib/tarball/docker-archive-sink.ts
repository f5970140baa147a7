/**
 * docker-archive-sink: writes images as a `docker save` tarball that `docker load`, skopeo
 * and crane read (`docker-archive:FILE[:REF]`, or `-` for stdout), laid out as
 * go-containerregistry writes it:
 *
 *   sha256:<hex>            the config
 *   <hex>.tar.gz            each layer, named by its (compressed) digest; `.tar` when
 *                           uncompressed, `.tar.zst` for zstd
 *   <hex>.manifest.json     the original manifest's exact bytes (ocitool's extension)
 *   manifest.json           one entry per image, written last
 *
 * Blobs are written as they come (one at a time: `blobConcurrency = 1`), each once, into a
 * temporary file renamed by `commit()`. Several images go into one file; each root's names
 * become its `RepoTags` (`registry/repo:tag`, `registry/repo:i-was-a-digest` for a name
 * with only a digest). Foreign layers the engine did not copy are listed in `Layers` and in
 * `LayerSources` (keyed by the diff id from the config), as crane does. A docker archive
 * holds images only: an index is refused.
 */
import type {Readable, Writable} from 'node:stream'
import {Transform, pipeline} from 'node:stream'

import {OcitoolError, UsageError} from '../errors.js'
import {parseDigest} from '../oci/digest.js'
import {parseManifest} from '../oci/manifest.js'
import {isForeign, isLayer, layerCompression} from '../oci/media-types.js'
import type {Descriptor} from '../oci/types.js'
import type {ManifestBytes, PutManifestOptions, Sink} from '../stores/types.js'
import {MAX_CONFIG_BYTES} from './docker-archive-image.js'
import {type ArchiveImage, MANIFEST_JSON, OCITOOL_MANIFEST_KEY, repoTagOf} from './docker-manifest.js'
import {TarWriter} from './tar-writer.js'

export interface DockerArchiveSinkOptions {
  /** where `-` writes (default process.stdout; for tests) */
  stdout?: Writable
}

const LAYER_SUFFIX = {gzip: '.tar.gz', none: '.tar', zstd: '.tar.zst'} as const

/** stem is `<hex>` for sha256 (what crane writes), `<alg>-<hex>` for other algorithms. */
function stem(digest: string): string {
  const {algorithm, hex} = parseDigest(digest)
  return algorithm === 'sha256' ? hex : `${algorithm}-${hex}`
}

/** entryNameFor names a blob in the archive: configs `sha256:<hex>`, layers `<hex>.tar.gz`. */
export function entryNameFor(desc: Descriptor): string {
  if (!isLayer(desc.mediaType)) return desc.digest
  return `${stem(desc.digest)}${LAYER_SUFFIX[layerCompression(desc.mediaType) ?? 'gzip']}`
}

export class DockerArchiveSink implements Sink {
  readonly description: string
  readonly blobConcurrency = 1
  private readonly writer: TarWriter
  /** digest → entry name of every blob written */
  private readonly written = new Map<string, string>()
  /** config digest → bytes, kept for the diff ids of foreign layers */
  private readonly configs = new Map<string, Buffer>()
  private readonly images: ArchiveImage[] = []
  private readonly imageDigests: string[] = []

  constructor(
    readonly file: string,
    options: DockerArchiveSinkOptions = {},
  ) {
    this.description = `docker-archive:${file}`
    this.writer = new TarWriter(file, this.description, options.stdout)
  }

  async hasBlob(desc: Descriptor): Promise<boolean> {
    return this.written.has(desc.digest)
  }

  async putBlob(desc: Descriptor, data: Readable): Promise<void> {
    if (this.written.has(desc.digest)) {
      for await (const _ of data); // already in the archive: just drain
      return
    }
    const name = entryNameFor(desc)
    let chunks: Buffer[] | undefined
    let body = data
    if (!isLayer(desc.mediaType) && desc.size <= MAX_CONFIG_BYTES) {
      const kept: Buffer[] = []
      chunks = kept
      const tap = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          kept.push(chunk)
          cb(null, chunk)
        },
      })
      body = pipeline(data, tap, () => {})
    }
    await this.writer.add(name, desc.size, body)
    this.written.set(desc.digest, name)
    if (chunks) this.configs.set(desc.digest, Buffer.concat(chunks))
  }

  async putManifest(manifest: ManifestBytes, options: PutManifestOptions): Promise<void> {
    const parsed = parseManifest(manifest.bytes, manifest.mediaType)
    if (parsed.kind === 'index') {
      throw new UsageError(`${this.description}: a docker archive holds single images; use --platform`, {code: 'INDEX_NOT_SUPPORTED'})
    }
    if (parsed.kind !== 'image') {
      throw new UsageError(`${this.description}: a docker archive holds images, not ${manifest.mediaType}`, {code: 'UNSUPPORTED_MANIFEST'})
    }
    if (!options.root) return // only top-level images appear in manifest.json
    const repoTags = [...new Set(options.names.map(repoTagOf))]
    const known = this.imageDigests.indexOf(manifest.digest)
    if (known !== -1) {
      const image = this.images[known]
      image.RepoTags.push(...repoTags.filter((t) => !image.RepoTags.includes(t)))
      return
    }
    const m = parsed.manifest
    const config = this.entryOf(m.config, manifest.digest)
    const layerSources: Record<string, Descriptor> = {}
    const layers = m.layers.map((d, i) => {
      if (!isForeign(d.mediaType)) return this.entryOf(d, manifest.digest)
      layerSources[this.diffIdOf(m.config.digest, i, manifest.digest)] = d
      return this.written.get(d.digest) ?? entryNameFor(d)
    })
    const original = `${stem(manifest.digest)}.manifest.json`
    await this.writer.add(original, manifest.bytes.length, manifest.bytes)
    this.images.push({
      Config: config,
      RepoTags: repoTags,
      Layers: layers,
      ...(Object.keys(layerSources).length > 0 ? {LayerSources: layerSources} : {}),
      [OCITOOL_MANIFEST_KEY]: {path: original, mediaType: manifest.mediaType},
    })
    this.imageDigests.push(manifest.digest)
  }

  async commit(): Promise<void> {
    if (this.images.length === 0) throw new OcitoolError(`${this.description}: no image to write`, {code: 'EMPTY_ARCHIVE'})
    const bytes = Buffer.from(JSON.stringify(this.images))
    await this.writer.add(MANIFEST_JSON, bytes.length, bytes)
    await this.writer.commit()
  }

  abort(): Promise<void> {
    return this.writer.abort()
  }

  private entryOf(desc: Descriptor, manifestDigest: string): string {
    const name = this.written.get(desc.digest)
    if (name === undefined) {
      throw new OcitoolError(`${this.description}: manifest ${manifestDigest} needs blob ${desc.digest}, which was not written`, {code: 'MISSING_BLOB'})
    }
    return name
  }

  private diffIdOf(configDigest: string, i: number, manifestDigest: string): string {
    const bytes = this.configs.get(configDigest)
    let ids: unknown
    try {
      ids = bytes && (JSON.parse(bytes.toString('utf8')) as {rootfs?: {diff_ids?: unknown}}).rootfs?.diff_ids
    } catch {
      ids = undefined
    }
    const id = Array.isArray(ids) ? ids[i] : undefined
    if (typeof id !== 'string') {
      throw new OcitoolError(`${this.description}: manifest ${manifestDigest}: no diff id for foreign layer ${i} in its config`, {code: 'BAD_CONFIG'})
    }
    return id
  }
}
