/**
 * oci-archive-source: an OCI image layout inside a tar (`oci-archive:FILE[:TAG]`, as skopeo
 * and buildah write it, and as docker 25+ saves) as a Source. Roots are the entries of
 * `index.json`, named by their `org.opencontainers.image.ref.name` (or containerd's full image
 * name), filtered by `tag` when given; manifests and blobs are `blobs/<alg>/<hex>`, read in place without extracting.
 */
import type {Readable} from 'node:stream'

import {NotFoundError, OcitoolError} from '../errors.js'
import {verifyBytes} from '../oci/digest.js'
import {MAX_MANIFEST_BYTES, parseManifest} from '../oci/manifest.js'
import type {Descriptor} from '../oci/types.js'
import type {ManifestBytes, Root, Source} from '../stores/types.js'
import {INDEX_FILE, LAYOUT_FILE, REF_NAME_ANNOTATION, blobEntryOf, entriesNamed, namesIn} from './oci-archive-format.js'
import {TarReader} from './reader.js'

export interface OciArchiveSourceOptions {
  /** the `org.opencontainers.image.ref.name` of the root to read; default: every root */
  tag?: string
}

function badLayout(message: string, cause?: unknown): OcitoolError {
  return new OcitoolError(message, {code: 'BAD_LAYOUT', ...(cause === undefined ? {} : {cause})})
}

export class OciArchiveSource implements Source {
  readonly description: string
  private loaded?: Promise<{reader: TarReader; roots: Root[]}>

  constructor(
    readonly file: string,
    private readonly options: OciArchiveSourceOptions = {},
  ) {
    this.description = `oci-archive:${file}`
  }

  async roots(): Promise<Root[]> {
    return (await this.load()).roots
  }

  async manifest(desc: Descriptor): Promise<ManifestBytes> {
    const {reader} = await this.load()
    return {bytes: await this.readManifest(reader, desc), mediaType: desc.mediaType, digest: desc.digest}
  }

  async blob(desc: Descriptor): Promise<Readable> {
    const {reader} = await this.load()
    const entry = blobEntryOf(desc.digest)
    if (!reader.has(entry)) throw new NotFoundError(`${this.description}: blob ${desc.digest} is not in the archive`)
    return reader.open(entry)
  }

  async close(): Promise<void> {}

  private load(): Promise<{reader: TarReader; roots: Root[]}> {
    this.loaded ??= this.loadNow()
    return this.loaded
  }

  private async loadNow(): Promise<{reader: TarReader; roots: Root[]}> {
    const reader = await TarReader.open(this.file, this.description)
    if (!reader.has(INDEX_FILE)) {
      const suggestions = reader.has('manifest.json') ? [`it is a docker archive: use docker-archive:${this.file}`] : []
      throw new NotFoundError(`${this.description}: not an OCI archive: it has no ${INDEX_FILE}`, {code: 'ENTRY_NOT_FOUND', suggestions})
    }
    if (reader.has(LAYOUT_FILE)) await this.checkLayoutFile(reader)
    let index
    try {
      const parsed = parseManifest(await reader.readBytes(INDEX_FILE, MAX_MANIFEST_BYTES))
      if (parsed.kind !== 'index') throw badLayout(`${this.description}: ${INDEX_FILE} is not an image index`)
      index = parsed.manifest
    } catch (e) {
      if (e instanceof OcitoolError && e.code === 'BAD_LAYOUT') throw e
      throw badLayout(`${this.description}: ${INDEX_FILE}: ${(e as Error).message}`, e)
    }
    const wanted = this.options.tag
    const picked = wanted === undefined ? index.manifests : entriesNamed(index.manifests, wanted)
    if (picked.length === 0) {
      const names = namesIn(index.manifests)
      const what = wanted === undefined ? 'no images in the archive' : `no image named ${JSON.stringify(wanted)} in the archive`
      throw new NotFoundError(`${this.description}: ${what}`, {suggestions: names.length > 0 ? [`it holds ${names.join(', ')}`] : []})
    }
    const roots: Root[] = []
    for (const d of picked) {
      const name = d.annotations?.[REF_NAME_ANNOTATION]
      const same = roots.find((r) => r.digest === d.digest)
      if (same) {
        if (name !== undefined && !same.names.includes(name)) same.names.push(name)
        continue
      }
      const bytes = await this.readManifest(reader, d)
      roots.push({bytes, mediaType: d.mediaType, digest: d.digest, names: name === undefined ? [] : [name]})
    }
    return {reader, roots}
  }

  private async readManifest(reader: TarReader, desc: Descriptor): Promise<Buffer> {
    const entry = blobEntryOf(desc.digest)
    if (!reader.has(entry)) throw new NotFoundError(`${this.description}: manifest ${desc.digest} is not in the archive (no ${entry})`)
    const bytes = await reader.readBytes(entry, MAX_MANIFEST_BYTES)
    verifyBytes(bytes, desc.digest, `manifest ${desc.digest} in ${this.description}`)
    return bytes
  }

  private async checkLayoutFile(reader: TarReader): Promise<void> {
    let version: unknown
    try {
      version = (JSON.parse((await reader.readBytes(LAYOUT_FILE, 64 * 1024)).toString('utf8')) as {imageLayoutVersion?: unknown}).imageLayoutVersion
    } catch (e) {
      throw badLayout(`${this.description}: ${LAYOUT_FILE} is not JSON`, e)
    }
    if (typeof version !== 'string' || !version.startsWith('1.')) {
      throw badLayout(`${this.description}: unsupported imageLayoutVersion ${JSON.stringify(version)} (want 1.x)`)
    }
  }
}
