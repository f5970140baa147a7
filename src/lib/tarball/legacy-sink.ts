/**
 * legacy-sink: writes images as a legacy `docker save` tarball (`pull --format legacy`),
 * laid out as docker 1.10–24 and go-containerregistry's legacy/tarball write it: uncompressed
 * `<layer id>/layer.tar` files with their `json` and `VERSION`, `<config hex>.json`,
 * `repositories` and `manifest.json` (see legacy-format.ts, which also gives the id rule).
 *
 * Layers arrive compressed, before the manifests that order them (the engine's order), so:
 * - each layer is decompressed (gzip, zstd or none, by its first bytes) straight into the
 *   output file behind a reserved header block (legacy-tar.ts), counted and hashed on the
 *   way: nothing is buffered, there is no second temporary file;
 * - a layer whose diff id is already in the archive (the same tar compressed differently) is
 *   cut off again: each diff id is stored once;
 * - `putManifest` checks every layer's hash against the config's `rootfs.diff_ids[i]` (a
 *   mismatch is an IntegrityError: nothing is left behind);
 * - `commit()` computes the layer ids, writes each layer's header at its reserved offset,
 *   named `<id>/layer.tar` after the first image position that uses it, then json, VERSION,
 *   repositories and manifest.json, and renames the file into place. Other positions with the
 *   same diff id get `<their id>/layer.tar` as a symlink `../<id>/layer.tar` (as docker save
 *   writes it, for readers that walk the ids), but manifest.json's `Layers` names the file
 *   itself, never a symlink: skopeo takes a layer's size from the entry `Layers` names, and
 *   reads 0 for a symlink (https://github.com/containers/container-libs/pull/605).
 *
 * Several images go into one file, shared layers once. Foreign layers the engine did not
 * copy are listed in `LayerSources` (keyed by diff id) as crane and docker do, with no
 * layer.tar. The output must be a file: stdout cannot seek (UsageError).
 */
import type {Readable} from 'node:stream'

import {IntegrityError, OcitoolError, UsageError} from '../errors.js'
import {createDigester, parseDigest} from '../oci/digest.js'
import {parseManifest} from '../oci/manifest.js'
import {isForeign, isLayer} from '../oci/media-types.js'
import type {Descriptor} from '../oci/types.js'
import type {ManifestBytes, PutManifestOptions, Sink} from '../stores/types.js'
import {MAX_CONFIG_BYTES} from './docker-archive-image.js'
import {type ArchiveImage, MANIFEST_JSON, repoTagOf} from './docker-manifest.js'
import {decompressLayer} from './decompress.js'
import {
  LEGACY_VERSION,
  type LegacyConfig,
  REPOSITORIES,
  type Repositories,
  addRepoTags,
  hexOf,
  layerJson,
  legacyLayerIds,
  parseLegacyConfig,
} from './legacy-format.js'
import {PositionedTarFile, type StreamedEntry} from './legacy-tar.js'

/** A layer stored in the archive, by diff id. */
interface StoredLayer {
  diffId: string
  entry: StreamedEntry
  /** the layer id whose directory holds the bytes; decided at commit */
  dir?: string
}

interface StoredConfig {
  file: string
  bytes: Buffer
}

/** An image (a root) to list in manifest.json. */
interface LegacyImage {
  manifestDigest: string
  configDigest: string
  configFile: string
  config: LegacyConfig
  layers: readonly Descriptor[]
  repoTags: string[]
}

export class LegacyDockerArchiveSink implements Sink {
  readonly description: string
  readonly blobConcurrency = 1
  private readonly out: PositionedTarFile
  /** compressed digest → stored layer (several digests may share one diff id) */
  private readonly layers = new Map<string, StoredLayer>()
  private readonly byDiffId = new Map<string, StoredLayer>()
  private readonly configs = new Map<string, StoredConfig>()
  private readonly images: LegacyImage[] = []
  private chain: Promise<unknown> = Promise.resolve()
  private inflight?: Readable
  private aborted = false

  /** `file` is the archive path; `-` (stdout) is refused: the headers are written after the bodies. */
  constructor(readonly file: string) {
    if (file === '-') {
      throw new UsageError('the legacy format needs a file, not stdout', {
        code: 'LEGACY_NEEDS_FILE',
        suggestions: ['name an output file, or use --format tarball to write to stdout'],
      })
    }
    this.description = `docker-archive:${file}`
    this.out = new PositionedTarFile(file, this.description)
  }

  async hasBlob(desc: Descriptor): Promise<boolean> {
    return this.layers.has(desc.digest) || this.configs.has(desc.digest)
  }

  putBlob(desc: Descriptor, data: Readable): Promise<void> {
    return this.serialize(async () => {
      if (await this.hasBlob(desc)) {
        for await (const _ of data); // already in the archive: just drain
        return
      }
      if (isLayer(desc.mediaType)) await this.putLayer(desc, data)
      else await this.putConfig(desc, data)
    })
  }

  putManifest(manifest: ManifestBytes, options: PutManifestOptions): Promise<void> {
    return this.serialize(async () => this.addImage(manifest, options))
  }

  commit(): Promise<void> {
    return this.serialize(async () => {
      if (this.images.length === 0) throw new OcitoolError(`${this.description}: no image to write`, {code: 'EMPTY_ARCHIVE'})
      const entries: ArchiveImage[] = []
      const repositories: Repositories = {}
      const described = new Set<string>()
      for (const image of this.images) {
        const ids = legacyLayerIds(image.config.diffIds, image.configDigest)
        const layerSources: Record<string, Descriptor> = {}
        const layerFiles: string[] = []
        for (const [i, d] of image.layers.entries()) {
          const id = ids[i]
          if (isForeign(d.mediaType)) layerSources[image.config.diffIds[i]] = d
          const stored = this.layers.get(d.digest)
          if (!described.has(id)) {
            described.add(id)
            if (stored !== undefined) await this.placeLayer(stored, id)
            const top = i === ids.length - 1
            await this.out.add(`${id}/VERSION`, Buffer.from(LEGACY_VERSION))
            await this.out.add(`${id}/json`, layerJson(id, i > 0 ? ids[i - 1] : undefined, top ? image.config.doc : undefined))
          }
          // the file itself, never a symlink: skopeo takes a layer's size from the entry it names
          layerFiles.push(`${stored?.dir ?? id}/layer.tar`)
        }
        entries.push({
          Config: image.configFile,
          RepoTags: image.repoTags,
          Layers: layerFiles,
          ...(Object.keys(layerSources).length > 0 ? {LayerSources: layerSources} : {}),
        })
        if (ids.length > 0) addRepoTags(repositories, image.repoTags, ids[ids.length - 1])
      }
      // a layer no image uses (none, with the engine): still a valid entry, named by its diff id
      for (const stored of this.byDiffId.values()) {
        if (stored.dir === undefined) await this.placeLayer(stored, hexOf(stored.diffId)!)
      }
      await this.out.add(REPOSITORIES, Buffer.from(JSON.stringify(repositories)))
      await this.out.add(MANIFEST_JSON, Buffer.from(JSON.stringify(entries)))
      await this.out.commit()
    })
  }

  async abort(): Promise<void> {
    this.aborted = true
    this.inflight?.destroy(new OcitoolError(`${this.description}: aborted`, {code: 'ABORTED'}))
    await this.chain
    await this.out.abort()
  }

  private serialize<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(() => {
      if (this.aborted) throw new OcitoolError(`${this.description}: archive already aborted`, {code: 'STORE_CLOSED'})
      return fn()
    })
    this.chain = run.catch(() => {})
    return run
  }

  /** putLayer decompresses a layer into the archive, hashing it; a diff id stored already is dropped again. */
  private async putLayer(desc: Descriptor, data: Readable): Promise<void> {
    this.inflight = data
    try {
      const body = await decompressLayer(data, `${this.description}: layer ${desc.digest}`, desc.size)
      this.inflight = body
      const hash = createDigester('sha256')
      const entry = await this.out.streamEntry(body, (chunk) => hash.update(chunk))
      const diffId = hash.digest()
      const known = this.byDiffId.get(diffId)
      if (known !== undefined) {
        await this.out.dropLast(entry)
        this.layers.set(desc.digest, known)
        return
      }
      const stored: StoredLayer = {diffId, entry}
      this.byDiffId.set(diffId, stored)
      this.layers.set(desc.digest, stored)
    } catch (e) {
      // zlib's own errors (Z_DATA_ERROR, Z_BUF_ERROR) say nothing of which layer
      const code = (e as {code?: unknown})?.code
      if (typeof code === 'string' && code.startsWith('Z_')) {
        throw new OcitoolError(`${this.description}: layer ${desc.digest} does not decompress: ${(e as Error).message}`, {code: 'BAD_LAYER', cause: e})
      }
      throw e
    } finally {
      this.inflight = undefined
    }
  }

  private async putConfig(desc: Descriptor, data: Readable): Promise<void> {
    const {algorithm, hex} = parseDigest(desc.digest)
    if (algorithm !== 'sha256') {
      for await (const _ of data);
      throw new UsageError(`${this.description}: the legacy format names configs by sha256, not ${algorithm} (${desc.digest})`, {code: 'UNSUPPORTED_DIGEST'})
    }
    if (desc.size > MAX_CONFIG_BYTES) {
      data.destroy()
      throw new OcitoolError(`${this.description}: config ${desc.digest} is larger than ${MAX_CONFIG_BYTES} bytes`, {code: 'BAD_CONFIG'})
    }
    this.inflight = data
    const chunks: Buffer[] = []
    try {
      for await (const c of data) chunks.push(c as Buffer)
    } finally {
      this.inflight = undefined
    }
    const bytes = Buffer.concat(chunks)
    const file = `${hex}.json`
    await this.out.add(file, bytes)
    this.configs.set(desc.digest, {file, bytes})
  }

  private async addImage(manifest: ManifestBytes, options: PutManifestOptions): Promise<void> {
    const parsed = parseManifest(manifest.bytes, manifest.mediaType)
    if (parsed.kind === 'index') {
      throw new UsageError(`${this.description}: a docker archive holds single images; use --platform`, {code: 'INDEX_NOT_SUPPORTED'})
    }
    if (parsed.kind !== 'image') {
      throw new UsageError(`${this.description}: a docker archive holds images, not ${manifest.mediaType}`, {code: 'UNSUPPORTED_MANIFEST'})
    }
    if (!options.root) return // only top-level images appear in manifest.json
    const repoTags = [...new Set(options.names.map(repoTagOf))]
    const same = this.images.find((im) => im.manifestDigest === manifest.digest)
    if (same !== undefined) {
      same.repoTags.push(...repoTags.filter((t) => !same.repoTags.includes(t)))
      return
    }
    const m = parsed.manifest
    const what = `${this.description}: image ${manifest.digest}`
    const stored = this.configs.get(m.config.digest)
    if (stored === undefined) throw this.missing(manifest.digest, m.config.digest)
    const config = parseLegacyConfig(stored.bytes, what)
    if (config.diffIds.length !== m.layers.length) {
      throw new OcitoolError(`${what}: the config lists ${config.diffIds.length} diff ids for ${m.layers.length} layers`, {code: 'BAD_CONFIG'})
    }
    for (const [i, d] of m.layers.entries()) {
      if (!isLayer(d.mediaType)) {
        throw new UsageError(`${what}: layer ${i} is a ${d.mediaType}, not a container image layer`, {code: 'UNSUPPORTED_MANIFEST'})
      }
      const layer = this.layers.get(d.digest)
      if (layer === undefined) {
        if (isForeign(d.mediaType)) continue
        throw this.missing(manifest.digest, d.digest)
      }
      if (layer.diffId !== config.diffIds[i]) {
        throw new IntegrityError(`${what}: layer ${d.digest} decompresses to ${layer.diffId}, but the config says ${config.diffIds[i]}`, {
          code: 'DIGEST_MISMATCH',
        })
      }
    }
    this.images.push({manifestDigest: manifest.digest, configDigest: m.config.digest, configFile: stored.file, config, layers: m.layers, repoTags})
  }

  /** placeLayer gives a layer the path `<id>/layer.tar`: its header the first time, a symlink after. */
  private async placeLayer(stored: StoredLayer, id: string): Promise<void> {
    if (stored.dir === undefined) {
      stored.dir = id
      await this.out.writeHeader(stored.entry, {name: `${id}/layer.tar`})
    } else if (stored.dir !== id) {
      await this.out.addSymlink(`${id}/layer.tar`, `../${stored.dir}/layer.tar`)
    }
  }

  private missing(manifestDigest: string, digest: string): OcitoolError {
    return new OcitoolError(`${this.description}: manifest ${manifestDigest} needs blob ${digest}, which was not written`, {code: 'MISSING_BLOB'})
  }
}
