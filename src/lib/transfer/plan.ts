/**
 * plan: what a transfer moves. From the roots a source names, it picks platforms, walks the
 * manifest graph (index → manifests → config and layers) and lists each distinct blob once and
 * every manifest in write order (children before parents). Nothing is moved here.
 */
import {NotFoundError, UsageError} from '../errors.js'
import {isForeign, isKnownManifestType} from '../oci/media-types.js'
import {childDescriptors, parseManifest} from '../oci/manifest.js'
import {digestOf} from '../oci/digest.js'
import {formatPlatform, platformMatches} from '../oci/platform.js'
import type {Descriptor, ImageIndex, Platform} from '../oci/types.js'
import type {ManifestBytes, Root, Sink, Source} from '../stores/types.js'

export interface PlatformChoice {
  /** wanted platforms; undefined or 'all': the whole index */
  platforms?: Platform[] | 'all'
  /** write a subset of an index as a new index even when one platform is chosen */
  asIndex?: boolean
}

export interface PlannedRoot {
  manifest: ManifestBytes
  /** names (tags) to give it in the sink */
  names: string[]
}

export interface PlannedManifest {
  manifest: ManifestBytes
  /** set for roots: the names to give */
  root?: PlannedRoot
  /** the sink has it already: write only the names of a root */
  present: boolean
}

export interface Plan {
  roots: PlannedRoot[]
  /** in write order: children before parents */
  manifests: PlannedManifest[]
  /** each distinct blob once */
  blobs: Descriptor[]
  /** foreign/non-distributable layers left where they are */
  skippedForeign: Descriptor[]
  totalBytes: number
}

export interface PlanOptions extends PlatformChoice {
  /** copy foreign layers too; 'if-present': they must be had (registry or urls) or the plan fails */
  allowNondistributable?: boolean | 'if-present'
}

/** selectPlatforms applies a platform choice to a root (an index may become one image or a smaller index). */
export async function selectPlatforms(source: Source, root: Root, choice: PlatformChoice): Promise<ManifestBytes> {
  const wanted = choice.platforms
  if (!wanted || wanted === 'all') return root
  const parsed = parseManifest(root.bytes, root.mediaType)
  if (parsed.kind !== 'index') return root
  const index = parsed.manifest as ImageIndex
  const picked = index.manifests.filter((d) => d.platform && wanted.some((w) => platformMatches(w, d.platform!)))
  if (picked.length === 0) {
    const have = index.manifests.map((d) => (d.platform ? formatPlatform(d.platform) : 'unknown')).join(', ')
    throw new NotFoundError(`${source.description}: no manifest for platform ${wanted.map(formatPlatform).join(', ')} (the index has: ${have || 'none'})`, {code: 'PLATFORM_NOT_FOUND'})
  }
  if (wanted.length === 1 && !choice.asIndex) return source.manifest(picked[0])
  const doc = JSON.parse(root.bytes.toString('utf8')) as Record<string, unknown>
  const bytes = Buffer.from(JSON.stringify({...doc, manifests: picked}))
  return {bytes, mediaType: root.mediaType, digest: digestOf(bytes)}
}

/** makePlan walks every root's graph, asking the sink which manifests it has already. */
export async function makePlan(source: Source, sink: Sink, roots: PlannedRoot[], options: PlanOptions = {}): Promise<Plan> {
  const manifests: PlannedManifest[] = []
  const seenManifests = new Map<string, PlannedManifest>()
  const blobs = new Map<string, Descriptor>()
  const skippedForeign: Descriptor[] = []

  const takeForeign = async (d: Descriptor): Promise<boolean> => {
    const allow = options.allowNondistributable
    if (allow !== 'if-present') return allow === true
    // a tarball holds every layer's file: a layer that cannot be had is an error, before any
    // byte is written, never an archive with a file missing
    if (!source.hasBlob || (await source.hasBlob(d))) return true
    throw new NotFoundError(`${source.description}: foreign layer ${d.digest} is neither in the registry nor at an http(s) url of its descriptor; a tarball needs every layer's file`, {code: 'FOREIGN_LAYER_UNAVAILABLE'})
  }

  const visit = async (m: ManifestBytes, root?: PlannedRoot, depth = 0): Promise<void> => {
    if (depth > 8) throw new UsageError(`${source.description}: manifests nest deeper than 8 levels (a loop?)`, {code: 'MANIFEST_LOOP'})
    const known = seenManifests.get(m.digest)
    if (known) {
      if (root && !known.root) known.root = root
      else if (root && known.root) known.root.names.push(...root.names.filter((n) => !known.root!.names.includes(n)))
      return
    }
    const present = sink.hasManifest ? await sink.hasManifest(m.digest) : false
    const node: PlannedManifest = {manifest: m, root, present}
    seenManifests.set(m.digest, node)
    if (!present) {
      const parsed = parseManifest(m.bytes, m.mediaType)
      if (parsed.kind === 'schema1') throw new UsageError(`${source.description}: Docker schema 1 manifests are deprecated and not supported; convert the image first`, {code: 'SCHEMA1'})
      // refused here, before any blob moves, rather than by the destination after them all
      if (!isKnownManifestType(parsed.mediaType)) {
        throw new UsageError(`${source.description}: manifest ${m.digest} has the unknown media type ${JSON.stringify(parsed.mediaType)}`, {code: 'UNKNOWN_MEDIA_TYPE'})
      }
      if (parsed.kind === 'index') {
        const index = parsed.manifest as ImageIndex
        for (const child of index.manifests) {
          if (child.digest === m.digest) throw new UsageError(`${source.description}: index ${m.digest} lists itself`, {code: 'MANIFEST_LOOP'})
          await visit(await source.manifest(child), undefined, depth + 1)
        }
      } else {
        for (const d of childDescriptors(parsed)) {
          if (isForeign(d.mediaType) && !(await takeForeign(d))) {
            skippedForeign.push(d)
            continue
          }
          if (!blobs.has(d.digest)) blobs.set(d.digest, d)
        }
      }
    }
    manifests.push(node) // after its children: write order
  }

  for (const r of roots) await visit(r.manifest, r)
  const list = [...blobs.values()]
  return {roots, manifests, blobs: list, skippedForeign, totalBytes: list.reduce((n, d) => n + d.size, 0)}
}
