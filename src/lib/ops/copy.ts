/**
 * copy: any store to any store, on the one transfer engine. pull and push are copies with a
 * file or layout on one side. Names at the destination follow what the user wrote there, else
 * what the source called the image.
 */
import {UsageError} from '../errors.js'
import type {Platform} from '../oci/types.js'
import {type RemoteOptions, withSession} from '../remote/session.js'
import {type Location, describeLocation} from '../stores/location.js'
import {type SinkOptions, holdsSingleImages, openSink, openSource} from '../stores/open.js'
import {CachingSource} from '../stores/cache.js'
import {RegistrySource} from '../stores/registry.js'
import type {Root, Sink, Source} from '../stores/types.js'
import {type TransferEvent, type TransferResult, transfer} from '../transfer/engine.js'
import {type PlannedRoot, makePlan, selectPlatforms} from '../transfer/plan.js'
import {copyReferrers} from '../referrers/copy.js'
import {DEFAULT_PLATFORM} from './resolve.js'

export interface CopyOptions extends RemoteOptions, SinkOptions {
  /** every tag of the source repository (registry sources) */
  allTags?: boolean
  jobs?: number
  /** one or more platforms, or 'all'; undefined copies an index whole */
  platforms?: Platform[] | 'all'
  /** keep a platform subset as an index even for one platform */
  asIndex?: boolean
  allowNondistributable?: boolean | 'if-present'
  /** push to a registry by digest only, without a tag (mutate --repo) */
  byDigest?: boolean
  /** a content-addressed blob cache directory reused across runs (`pull --cache-path`) */
  cachePath?: string
  onEvent?: (e: TransferEvent) => void
  /** copy each manifest's referrers too, recursively (registries both sides) */
  referrers?: boolean
}

export interface CopiedImage {
  digest: string
  mediaType: string
  size: number
  names: string[]
  /** how to name the result at the destination: `repo@sha256:…`, `oci:dir@sha256:…` */
  reference: string
}

export interface CopyResult {
  images: CopiedImage[]
  transfer: TransferResult
  /** foreign layers left where they are */
  foreignLayers: number
  /** referrers copied (`referrers` option) */
  referrers?: number
}

/** foreignLayersWarning: what a copy says when it left foreign layers where they are (undefined when it left none) */
export function foreignLayersWarning(result: Pick<CopyResult, 'foreignLayers'>): string | undefined {
  return result.foreignLayers > 0 ? `${result.foreignLayers} foreign layer(s) left where they are (--allow-nondistributable-artifacts copies them)` : undefined
}

/** copy moves the image(s) `src` names to `dst`. Several sources (pull) may share one sink. */
/** What to copy from: a location, or a source built by the caller (push's loose files). */
export type CopySource = Location | {source: Source}

export function copy(src: CopySource | CopySource[], dst: Location, options: CopyOptions = {}): Promise<CopyResult> {
  const sources = Array.isArray(src) ? src : [src]
  return withSession(options, async (session) => {
    if (dst.kind === 'registry') session.warm(dst.ref)
    const opened: Array<{loc?: Location; source: Source; roots: Root[]}> = []
    try {
      for (const given of sources) {
        const loc = 'source' in given ? undefined : given
        const source = 'source' in given ? given.source : await openSource(given, session)
        const roots = await rootsOf(source, options)
        opened.push({loc, source: options.cachePath ? new CachingSource(source, options.cachePath) : source, roots})
      }
      const sink = await openSink(dst, session, options)
      const images: CopiedImage[] = []
      const result: TransferResult = {copied: 0, skipped: 0, mounted: 0, bytes: 0}
      let foreignLayers = 0
      let referrers = 0
      const total = opened.reduce((n, o) => n + o.roots.length, 0)
      if (dst.kind === 'registry' && total > 1 && !options.allTags) {
        throw new UsageError(`${opened.map((o) => o.source.description).join(', ')}: holds ${total} images; name one (e.g. docker-archive:FILE:REF or oci:DIR:TAG)`)
      }
      // one plan per source (blobs are fetched from the source that names them), one sink
      const planned: Array<{source: Source; roots: PlannedRoot[]}> = []
      for (const o of opened) {
        const platforms = options.platforms ?? (holdsSingleImages(dst) ? [DEFAULT_PLATFORM] : undefined)
        const roots: PlannedRoot[] = []
        for (const root of o.roots) {
          const manifest = await selectPlatforms(o.source, root, {platforms, asIndex: options.asIndex})
          roots.push({manifest, names: namesAt(dst, o.loc, root, options)})
        }
        planned.push({source: o.source, roots})
      }
      const taken = new Map<string, string>()
      for (const p of planned) {
        for (const r of p.roots) {
          for (const n of r.names) {
            const other = taken.get(n)
            if (other && other !== r.manifest.digest) {
              throw new UsageError(`${describeLocation(dst)}: two images would both be named "${n}"${dst.kind === 'oci' || dst.kind === 'oci-archive' ? ' (--annotate-ref names them by full reference)' : ''}`)
            }
            taken.set(n, r.manifest.digest)
          }
        }
      }
      for (const [i, p] of planned.entries()) {
        const plan = await makePlan(p.source, sink, p.roots, {allowNondistributable: options.allowNondistributable})
        foreignLayers += plan.skippedForeign.length
        const last = i === planned.length - 1
        // the sink commits once, after the last source: several images land in one file together
        const r = await transfer(p.source, last ? sink : deferCommit(sink), plan, {jobs: options.jobs, onEvent: options.onEvent, signal: options.signal})
        for (const k of ['copied', 'skipped', 'mounted', 'bytes'] as const) result[k] += r[k]
        if (options.referrers) {
          const subjects = plan.manifests.map((m) => m.manifest.digest)
          const rr = await copyReferrers(p.source, sink, subjects, {jobs: options.jobs, onEvent: options.onEvent, signal: options.signal})
          for (const k of ['copied', 'skipped', 'mounted', 'bytes'] as const) result[k] += rr[k]
          referrers += rr.referrers
        }
        for (const root of p.roots) {
          const m = root.manifest
          images.push({digest: m.digest, mediaType: m.mediaType, size: m.bytes.length, names: root.names, reference: referenceAt(dst, m.digest)})
        }
      }
      if (dst.kind === 'registry' && dst.ref.digest && images.some((im) => im.digest !== dst.ref.digest)) {
        throw new UsageError(`${describeLocation(dst)}: the copied manifest is ${images[0].digest}, not the digest named`)
      }
      return {images, transfer: result, foreignLayers, ...(options.referrers ? {referrers} : {})}
    } finally {
      for (const o of opened) await o.source.close().catch(() => {})
    }
  })
}

async function rootsOf(source: Source, options: CopyOptions): Promise<Root[]> {
  if (!options.allTags) return source.roots()
  if (!(source instanceof RegistrySource)) throw new UsageError(`--all-tags needs a registry repository as the source, not ${source.description}`)
  const tags = await source.repo.tags()
  // a tag's manifest is a small GET, whose cost is its round trip: four of them to a blob job, as small blobs have
  return source.rootsForTags(tags, 4 * (options.jobs ?? 4))
}

/** namesAt decides what a root is called at the destination. */
function namesAt(dst: Location, src: Location | undefined, root: Root, options: CopyOptions): string[] {
  const srcRef = src?.kind === 'registry' ? src.ref : undefined
  switch (dst.kind) {
    case 'registry':
      if (options.allTags) return root.names
      return dst.ref.digest || options.byDigest ? [] : [dst.ref.tag ?? 'latest']
    case 'docker-archive':
      if (dst.ref) return [dst.ref]
      // --all-tags: every tag keeps its own name
      if (srcRef && options.allTags) return root.names.map((tag) => `${srcRef.name}:${tag}`)
      if (srcRef) return [srcRef.digest && !srcRef.tag ? `${srcRef.name}:i-was-a-digest` : `${srcRef.name}:${srcRef.tag ?? 'latest'}`]
      // RepoTags are full references: a bare tag (from an OCI layout) names no repository
      return root.names.filter((n) => n.includes('/') || n.includes(':'))
    case 'oci':
    case 'oci-archive':
      if (dst.tag) return [dst.tag]
      if (srcRef && options.allTags) return options.annotateRef === 'full' ? root.names.map((tag) => `${srcRef.name}:${tag}`) : root.names
      if (srcRef && options.annotateRef === 'full') return [srcRef.toString()]
      if (srcRef) return srcRef.tag && !srcRef.digest ? [srcRef.tag] : []
      return root.names
    case 'dir':
      return []
  }
}

function referenceAt(dst: Location, digest: string): string {
  switch (dst.kind) {
    case 'registry':
      return `${dst.ref.name}@${digest}`
    case 'dir':
      return `${describeLocation(dst)}@${digest}`
    default:
      return `${describeLocation({kind: dst.kind, path: dst.path})}@${digest}`
  }
}

/** deferCommit: the same sink, committing later (several sources into one file) */
function deferCommit(sink: Sink): Sink {
  return {
    description: sink.description,
    blobConcurrency: sink.blobConcurrency,
    hasBlob: (d) => sink.hasBlob(d),
    mount: sink.mount ? (d, from) => sink.mount!(d, from) : undefined,
    putBlob: (d, data) => sink.putBlob(d, data),
    hasManifest: sink.hasManifest ? (digest) => sink.hasManifest!(digest) : undefined,
    putManifest: (m, o) => sink.putManifest(m, o),
    commit: async () => {},
    abort: () => sink.abort(),
  }
}
