/**
 * index-image: build and inspect image indexes (`crane index append|filter`, and `list`).
 *
 * `indexAppend` makes a new index of a base index's children plus other images (an image, or
 * each child of an index), with each new child's platform read from its config. `indexFilter`
 * keeps the children of some platforms. Both write through an OverlaySource on the one transfer
 * engine: every child manifest and its blobs reach the destination repository before the index
 * does (mounted within a registry, skipped when there already), and only the new index is new.
 */
import {NotFoundError, UsageError} from '../errors.js'
import {verifyBytes} from '../oci/digest.js'
import {MediaType, isConfig, isImageManifest, isIndex} from '../oci/media-types.js'
import {childDescriptors, parseManifest} from '../oci/manifest.js'
import {formatPlatform, platformMatches, platformOf} from '../oci/platform.js'
import type {Descriptor, ImageConfig, Platform} from '../oci/types.js'
import type {Json} from '../mutate/edit.js'
import {OverlaySource} from '../mutate/overlay.js'
import {type RemoteOptions, withSession} from '../remote/session.js'
import {type Location, describeLocation} from '../stores/location.js'
import {openSource} from '../stores/open.js'
import type {ManifestBytes, Root, Source} from '../stores/types.js'
import {type CopyOptions, type CopyResult, copy} from './copy.js'

export interface IndexAppendOptions extends CopyOptions {
  /** without a base: start from an empty Docker manifest list (an OCI index otherwise) */
  dockerEmptyBase?: boolean
}

/** BuildKit marks attestation manifests with these annotations (platform `unknown/unknown`). */
const REFERENCE_TYPE = 'vnd.docker.reference.type'
const REFERENCE_DIGEST = 'vnd.docker.reference.digest'

/**
 * indexAppend writes a new index to `dst`: the children of `base` (an index; none without it),
 * then each of `images` (an image, or every child of an index). A child's platform is the one
 * its config declares; children of an index keep their descriptors. A digest already listed is
 * not listed again.
 */
export async function indexAppend(base: Location | undefined, images: Location[], dst: Location, options: IndexAppendOptions = {}): Promise<CopyResult> {
  if (images.length === 0) throw new UsageError('index append needs at least one --manifest')
  if (base && options.dockerEmptyBase) throw new UsageError('--docker-empty-base is for appending without a BASE index')
  refuseSingleImageSink(dst)
  return withSession(options as RemoteOptions, async (session) => {
    const opened: Source[] = []
    try {
      const open = async (loc: Location) => {
        const s = await openSource(loc, session)
        opened.push(s)
        return s
      }
      const baseSource = base ? await open(base) : undefined
      let doc: Json = {schemaVersion: 2, mediaType: options.dockerEmptyBase ? MediaType.dockerManifestList : MediaType.ociIndex, manifests: []}
      if (baseSource) {
        const root = await onlyRoot(baseSource)
        if (!isIndex(parseManifest(root.bytes, root.mediaType).mediaType)) {
          throw new UsageError(`${baseSource.description}: is an image, not an index; name it with --manifest (a new index is made without BASE)`, {code: 'NOT_AN_INDEX'})
        }
        doc = JSON.parse(root.bytes.toString('utf8')) as Json
      }
      const children = [...((doc.manifests as Descriptor[]) ?? [])]
      const overlay = new OverlaySource(baseSource ?? (await open(images[0])))
      for (const loc of images) {
        const source = loc === images[0] && !baseSource ? overlay.base : await open(loc)
        for (const child of await childrenToAdd(source, await onlyRoot(source))) {
          if (children.some((c) => c.digest === child.digest)) continue
          await borrowGraph(overlay, source, child)
          children.push(child.platform || !isImageManifest(child.mediaType) ? child : {...child, platform: await platformFromConfig(overlay, child)})
        }
      }
      const index = overlay.addManifest(Buffer.from(JSON.stringify({...doc, manifests: children})), (doc.mediaType as string | undefined) ?? MediaType.ociIndex)
      overlay.setRoots([{...index, names: []}])
      return await copy({source: overlay}, dst, {...options, platforms: undefined})
    } finally {
      for (const s of opened) await s.close().catch(() => {})
    }
  })
}

/**
 * indexFilter writes a new index of the children of `src` (an index) that match `platforms`,
 * keeping the index's own fields; a new index even when one child is left. BuildKit
 * attestations of a kept child are kept with it.
 */
export async function indexFilter(src: Location, platforms: Platform[], dst: Location, options: CopyOptions = {}): Promise<CopyResult> {
  if (platforms.length === 0) throw new UsageError('index filter needs at least one --platform')
  refuseSingleImageSink(dst)
  return withSession(options as RemoteOptions, async (session) => {
    const source = await openSource(src, session)
    try {
      const root = await onlyRoot(source)
      const doc = indexDocument(source, root)
      const all = doc.manifests as Descriptor[]
      const kept = all.filter((d) => d.platform && d.annotations?.[REFERENCE_TYPE] === undefined && platforms.some((p) => platformMatches(p, d.platform!)))
      if (kept.length === 0) {
        const have = all.filter((d) => d.annotations?.[REFERENCE_TYPE] === undefined).map((d) => (d.platform ? formatPlatform(d.platform) : 'unknown')).join(', ')
        throw new NotFoundError(`${source.description}: no manifest for platform ${platforms.map(formatPlatform).join(', ')} (the index has: ${have || 'none'})`, {code: 'PLATFORM_NOT_FOUND'})
      }
      const keptDigests = new Set(kept.map((d) => d.digest))
      const manifests = all.filter((d) => keptDigests.has(d.digest) || (d.annotations?.[REFERENCE_DIGEST] !== undefined && keptDigests.has(d.annotations[REFERENCE_DIGEST])))
      const overlay = new OverlaySource(source)
      const index = overlay.addManifest(Buffer.from(JSON.stringify({...doc, manifests})), root.mediaType)
      overlay.setRoots([{...index, names: []}])
      return await copy({source: overlay}, dst, {...options, platforms: undefined})
    } finally {
      await source.close().catch(() => {})
    }
  })
}

export interface IndexListing {
  /** the index listed */
  digest: string
  mediaType: string
  /** its children's descriptors, as the index has them */
  manifests: Descriptor[]
}

/** indexList returns the children of the index `src` names. */
export async function indexList(src: Location, options: RemoteOptions = {}): Promise<IndexListing> {
  return withSession(options, async (session) => {
    const source = await openSource(src, session)
    try {
      const root = await onlyRoot(source)
      const doc = indexDocument(source, root)
      return {digest: root.digest, mediaType: root.mediaType, manifests: doc.manifests as Descriptor[]}
    } finally {
      await source.close().catch(() => {})
    }
  })
}

/** formatChild prints one child of an index: `digest media-type platform size` (`-` for no platform). */
export function formatChild(d: Descriptor): string {
  return `${d.digest} ${d.mediaType} ${d.platform ? formatPlatform(d.platform) : '-'} ${d.size}`
}

function refuseSingleImageSink(dst: Location): void {
  if (dst.kind === 'docker-archive') throw new UsageError(`${describeLocation(dst)}: a docker archive cannot hold an index; push it, or write oci:DIR or oci-archive:FILE`)
}

/** onlyRoot is the one image a source names (a usage error when it names several). */
export async function onlyRoot(source: Source): Promise<Root> {
  const roots = await source.roots()
  if (roots.length === 0) throw new NotFoundError(`${source.description}: holds no image`)
  if (roots.length > 1) throw new UsageError(`${source.description}: holds ${roots.length} images; name one (e.g. docker-archive:FILE:REF or oci:DIR:TAG)`)
  return roots[0]
}

function indexDocument(source: Source, root: ManifestBytes): Json {
  const parsed = parseManifest(root.bytes, root.mediaType)
  if (parsed.kind !== 'index') throw new UsageError(`${source.description}: is ${parsed.mediaType}, not an index`, {code: 'NOT_AN_INDEX'})
  return JSON.parse(root.bytes.toString('utf8')) as Json
}

/** childrenToAdd: an image as one descriptor, an index as its children. */
async function childrenToAdd(source: Source, root: Root): Promise<Descriptor[]> {
  const parsed = parseManifest(root.bytes, root.mediaType)
  if (parsed.kind === 'schema1') throw new UsageError(`${source.description}: Docker schema 1 manifests cannot be listed in an index; convert the image first`, {code: 'SCHEMA1'})
  if (parsed.kind === 'index') return [...parsed.manifest.manifests]
  return [{mediaType: parsed.mediaType, digest: root.digest, size: root.bytes.length, ...(parsed.kind === 'image' && parsed.manifest.artifactType ? {artifactType: parsed.manifest.artifactType} : {})}]
}

/** platformFromConfig reads an image child's platform from its config (none for non-image configs). */
async function platformFromConfig(overlay: OverlaySource, child: Descriptor): Promise<Platform | undefined> {
  const parsed = parseManifest((await overlay.manifest(child)).bytes, child.mediaType)
  if (parsed.kind !== 'image') return undefined
  const config = parsed.manifest.config
  if (!isConfig(config.mediaType)) return undefined
  const doc = JSON.parse((await readConfig(overlay, config)).toString('utf8')) as ImageConfig
  if (!doc.os || !doc.architecture) return undefined
  return platformOf(doc)
}

/** borrowGraph makes a manifest of `source`, and everything under it, part of the overlay. */
async function borrowGraph(overlay: OverlaySource, source: Source, desc: Descriptor, depth = 0): Promise<void> {
  if (depth > 8) throw new UsageError(`${source.description}: manifests nest deeper than 8 levels (a loop?)`, {code: 'MANIFEST_LOOP'})
  overlay.borrowManifest(source, desc.digest)
  const m = await source.manifest(desc)
  const parsed = parseManifest(m.bytes, m.mediaType)
  if (parsed.kind === 'index') {
    for (const c of parsed.manifest.manifests) await borrowGraph(overlay, source, c, depth + 1)
    return
  }
  for (const d of childDescriptors(parsed)) overlay.borrow(source, d)
}

/**
 * imagePlatforms: the platforms of an index's image children, leaving out BuildKit
 * attestations (`unknown/unknown`), for edits that must not touch those; undefined for an image
 * or an index whose children name no platform.
 */
export function imagePlatforms(root: ManifestBytes): Platform[] | undefined {
  const parsed = parseManifest(root.bytes, root.mediaType)
  if (parsed.kind !== 'index') return undefined
  const platforms = parsed.manifest.manifests.filter((d) => d.platform && d.platform.os !== 'unknown' && d.annotations?.[REFERENCE_TYPE] === undefined).map((d) => d.platform!)
  return platforms.length > 0 ? platforms : undefined
}

/**
 * dropStaleAttestations removes from an edited index the BuildKit attestations whose image is
 * no longer in it: they describe bytes the new index does not hold.
 */
export function dropStaleAttestations(overlay: OverlaySource, m: ManifestBytes): ManifestBytes {
  const parsed = parseManifest(m.bytes, m.mediaType)
  if (parsed.kind !== 'index') return m
  const children = parsed.manifest.manifests
  const digests = new Set(children.map((d) => d.digest))
  const kept = children.filter((d) => d.annotations?.[REFERENCE_DIGEST] === undefined || digests.has(d.annotations[REFERENCE_DIGEST]))
  if (kept.length === children.length) return m
  const doc = JSON.parse(m.bytes.toString('utf8')) as Json
  return overlay.addManifest(Buffer.from(JSON.stringify({...doc, manifests: kept})), m.mediaType)
}

/** readConfig reads a config blob whole (at most 64 MiB) and checks it against its digest. */
export async function readConfig(source: Source, desc: Descriptor): Promise<Buffer> {
  if (desc.size > 64 * 1024 * 1024) throw new UsageError(`${source.description}: config ${desc.digest} is larger than 64 MiB`, {code: 'BAD_IMAGE'})
  const chunks: Buffer[] = []
  for await (const c of await source.blob(desc)) chunks.push(c as Buffer)
  const bytes = Buffer.concat(chunks)
  verifyBytes(bytes, desc.digest, `config ${desc.digest} from ${source.description}`, desc.size)
  return bytes
}
