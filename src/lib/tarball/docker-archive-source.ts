/**
 * docker-archive-source: a `docker save` tarball as a Source (`docker-archive:FILE[:REF]`).
 *
 * Reads every format in use: go-containerregistry/crane and ocitool (`sha256:<hex>` config,
 * `<hex>.tar.gz` layers), docker 1.10–24 (`<id>.json` config, uncompressed `<id>/layer.tar`
 * layers, symlinks between identical layers) and docker 25+ (an OCI layout inside: `blobs/
 * sha256/<hex>` files and `index.json`). Roots are the entries of `manifest.json`, one per
 * image (images with the same manifest merged), filtered by `tag` when given. See
 * docker-archive-image.ts for how each entry becomes a registry manifest.
 *
 * The archive is indexed once (headers only); blobs stream straight from the file.
 */
import type {Readable} from 'node:stream'
import {pipeline} from 'node:stream'

import {NotFoundError} from '../errors.js'
import {parseDigest, verifyBytes} from '../oci/digest.js'
import {MAX_MANIFEST_BYTES, parseManifest} from '../oci/manifest.js'
import {isForeign, isImageManifest, isIndex} from '../oci/media-types.js'
import type {Descriptor} from '../oci/types.js'
import type {ManifestBytes, Root, Source} from '../stores/types.js'
import {gzipLayer} from './compression.js'
import {type BlobLocation, type Candidate, ImageResolver, toCandidate} from './docker-archive-image.js'
import {
  type ArchiveImage,
  MANIFEST_JSON,
  MAX_MANIFEST_JSON_BYTES,
  isDigestSentinel,
  parseManifestJson,
  repoTagMatches,
} from './docker-manifest.js'
import {TarReader} from './reader.js'

export interface DockerArchiveSourceOptions {
  /**
   * which image to read: a RepoTag (`repo:tag`, `registry/repo:tag`, compared after
   * normalisation) or a reference with a digest (`repo@sha256:…`, matched by manifest digest).
   * Default: every image of the archive.
   */
  tag?: string
}

interface Loaded {
  reader: TarReader
  roots: Root[]
  blobs: Map<string, BlobLocation>
}

/** blobEntry is where an OCI layout inside the archive (docker 25+) keeps a digest. */
function blobEntry(digest: string): string {
  const {algorithm, hex} = parseDigest(digest)
  return `blobs/${algorithm}/${hex}`
}

export class DockerArchiveSource implements Source {
  readonly description: string
  private loaded?: Promise<Loaded>

  constructor(
    readonly file: string,
    private readonly options: DockerArchiveSourceOptions = {},
  ) {
    this.description = `docker-archive:${file}`
  }

  async roots(): Promise<Root[]> {
    return (await this.load()).roots
  }

  async manifest(desc: Descriptor): Promise<ManifestBytes> {
    const {reader, roots} = await this.load()
    const root = roots.find((r) => r.digest === desc.digest)
    if (root) return {bytes: root.bytes, mediaType: root.mediaType, digest: root.digest}
    const entry = blobEntry(desc.digest)
    if (!reader.has(entry)) throw new NotFoundError(`${this.description}: manifest ${desc.digest} is not in the archive`)
    const bytes = await reader.readBytes(entry, MAX_MANIFEST_BYTES)
    verifyBytes(bytes, desc.digest, `manifest ${desc.digest} in ${this.description}`)
    return {bytes, mediaType: desc.mediaType, digest: desc.digest}
  }

  async blob(desc: Descriptor): Promise<Readable> {
    const {reader, blobs} = await this.load()
    const loc = blobs.get(desc.digest) ?? (reader.has(blobEntry(desc.digest)) ? {entry: blobEntry(desc.digest)} : undefined)
    if (loc === undefined) {
      const where = isForeign(desc.mediaType) && desc.urls?.length ? ` (a foreign layer: it is at ${desc.urls[0]})` : ''
      throw new NotFoundError(`${this.description}: blob ${desc.digest} is not in the archive${where}`)
    }
    const raw = reader.open(loc.entry)
    if (!loc.gzip) return raw
    return pipeline(raw, gzipLayer(), () => {})
  }

  async close(): Promise<void> {}

  private load(): Promise<Loaded> {
    this.loaded ??= this.loadNow()
    return this.loaded
  }

  private async loadNow(): Promise<Loaded> {
    const reader = await TarReader.open(this.file, this.description)
    if (!reader.has(MANIFEST_JSON)) throw this.noManifestJson(reader)
    const images = parseManifestJson(await reader.readBytes(MANIFEST_JSON, MAX_MANIFEST_JSON_BYTES), this.description)
    const wanted = this.options.tag
    const byDigest = wanted !== undefined && wanted.includes('@') ? digestPart(wanted) : undefined
    const selected = wanted === undefined || byDigest !== undefined ? images : images.filter((im) => im.RepoTags.some((t) => repoTagMatches(t, wanted)))
    if (selected.length === 0) throw this.noSuchTag(wanted ?? '', images)

    let candidates: Promise<Candidate[]> | undefined
    const resolver = new ImageResolver(reader, () => (candidates ??= ociCandidates(reader)))
    const roots: Root[] = []
    const blobs = new Map<string, BlobLocation>()
    for (const image of selected) {
      const resolved = await resolver.resolve(image)
      if (byDigest !== undefined && resolved.manifest.digest !== byDigest) continue
      for (const [d, loc] of resolved.blobs) if (!blobs.has(d)) blobs.set(d, loc)
      const names = image.RepoTags.filter((t) => !isDigestSentinel(t))
      const same = roots.find((r) => r.digest === resolved.manifest.digest)
      if (same) same.names.push(...names.filter((n) => !same.names.includes(n)))
      else roots.push({...resolved.manifest, names})
    }
    if (roots.length === 0) throw this.noSuchTag(wanted ?? '', images)
    return {reader, roots, blobs}
  }

  private noManifestJson(reader: TarReader): NotFoundError {
    const suggestions: string[] = []
    if (reader.has('index.json') && reader.has('oci-layout')) suggestions.push(`it is an OCI archive: use oci-archive:${this.file}`)
    else if (reader.has('repositories')) suggestions.push('it was saved by docker before 1.10, whose format is not supported; save it again with a newer docker')
    return new NotFoundError(`${this.description}: not a docker archive: it has no ${MANIFEST_JSON}`, {code: 'ENTRY_NOT_FOUND', suggestions})
  }

  private noSuchTag(wanted: string, images: ArchiveImage[]): NotFoundError {
    const tags = images.flatMap((im) => im.RepoTags)
    return new NotFoundError(`${this.description}: no image ${JSON.stringify(wanted)} in the archive`, {
      suggestions: [tags.length > 0 ? `it holds ${tags.join(', ')}` : 'its images have no tags; leave out the reference'],
    })
  }
}

function digestPart(ref: string): string {
  return ref.slice(ref.indexOf('@') + 1)
}

/**
 * ociCandidates lists the image manifests of an OCI layout inside the archive (docker 25+
 * saves one): index.json's image manifests and the image manifests of its indexes.
 */
async function ociCandidates(reader: TarReader): Promise<Candidate[]> {
  if (!reader.has('index.json')) return []
  const out: Candidate[] = []
  const read = async (d: Descriptor): Promise<Buffer | undefined> => {
    let entry: string
    try {
      entry = blobEntry(d.digest)
    } catch {
      return undefined
    }
    if (!reader.has(entry) || reader.size(entry) > MAX_MANIFEST_BYTES) return undefined
    const bytes = await reader.readBytes(entry, MAX_MANIFEST_BYTES)
    try {
      verifyBytes(bytes, d.digest)
      return bytes
    } catch {
      return undefined
    }
  }
  const visit = async (d: Descriptor, depth: number): Promise<void> => {
    if (isImageManifest(d.mediaType)) {
      const bytes = await read(d)
      const c = bytes && toCandidate(bytes, d.mediaType)
      if (c) out.push(c)
    } else if (isIndex(d.mediaType) && depth < 2) {
      const bytes = await read(d)
      if (!bytes) return
      try {
        const p = parseManifest(bytes, d.mediaType)
        if (p.kind === 'index') for (const child of p.manifest.manifests) await visit(child, depth + 1)
      } catch {
        // not an index after all: no candidates from it
      }
    }
  }
  try {
    const p = parseManifest(await reader.readBytes('index.json', MAX_MANIFEST_BYTES))
    if (p.kind === 'index') for (const d of p.manifest.manifests) await visit(d, 1)
  } catch {
    // an unusable index.json only means no original manifests: manifest.json still rules
  }
  return out
}
