/**
 * rebase: put an image on a new base (`crane rebase`). The old base's layers must be the first
 * layers of the image; they are replaced by the new base's, the image's own layers stay on top.
 * The config is the image's, with rootfs.diff_ids and history spliced the same way. An index
 * is rebased per platform, each child on the bases' image for its platform.
 *
 * Nothing of either base is downloaded but manifests and configs: the new base's layers are
 * borrowed, so within a registry they are mounted (or found) at the destination, not copied.
 * Without explicit bases, the image's `org.opencontainers.image.base.name`/`.digest`
 * annotations name them: the old base is name@digest, the new one what name is now.
 */
import {NotFoundError, UsageError} from '../errors.js'
import {parseReference} from '../name/reference.js'
import {convertMediaType} from '../mutate/convert.js'
import {type Json, editRoot} from '../mutate/edit.js'
import {OverlaySource} from '../mutate/overlay.js'
import {parseManifest} from '../oci/manifest.js'
import {formatPlatform, platformMatches} from '../oci/platform.js'
import type {Descriptor, Platform} from '../oci/types.js'
import {type RemoteOptions, withSession} from '../remote/session.js'
import {type Location, describeLocation, parseLocation} from '../stores/location.js'
import {openSource} from '../stores/open.js'
import type {Root, Source} from '../stores/types.js'
import {selectPlatforms} from '../transfer/plan.js'
import {type CopyOptions, type CopyResult, copy} from './copy.js'
import {dropStaleAttestations, imagePlatforms, onlyRoot, readConfig} from './index-image.js'

export const BASE_NAME = 'org.opencontainers.image.base.name'
export const BASE_DIGEST = 'org.opencontainers.image.base.digest'

export interface RebaseOptions extends CopyOptions {
  /** the base the image was built on; with newBase, or neither (then the annotations say) */
  oldBase?: Location
  newBase?: Location
  /** rebase only these children of an index (the others are kept); default every image child */
  platforms?: Platform[] | 'all'
}

/** A base resolved for one platform: its image manifest and config, and where its blobs are. */
interface BaseImage {
  source: Source
  what: string
  digest: string
  layers: Descriptor[]
  config: Json
}

export async function rebase(src: Location, dst: Location, options: RebaseOptions): Promise<CopyResult> {
  if ((options.oldBase === undefined) !== (options.newBase === undefined)) throw new UsageError('--old-base and --new-base go together (or neither: the base annotations name them)')
  return withSession(options as RemoteOptions, async (session) => {
    const opened: Source[] = []
    const roots = new Map<string, Promise<{source: Source; root: Root}>>()
    const resolved = new Map<string, Promise<BaseImage>>()
    const source = await openSource(src, session)
    try {
      const open = (loc: Location) => {
        const key = describeLocation(loc)
        let r = roots.get(key)
        if (!r) {
          r = openSource(loc, session).then(async (s) => {
            opened.push(s)
            return {source: s, root: await onlyRoot(s)}
          })
          roots.set(key, r)
        }
        return r
      }
      const resolve = (loc: Location, platform: Platform): Promise<BaseImage> => {
        const key = `${describeLocation(loc)}|${formatPlatform(platform)}`
        let r = resolved.get(key)
        if (!r) {
          r = open(loc).then((o) => resolveBase(o.source, o.root, loc, platform))
          resolved.set(key, r)
        }
        return r
      }
      const [root, ...more] = await source.roots()
      if (!root) throw new NotFoundError(`${source.description}: holds no image`)
      if (more.length > 0) throw new UsageError(`${source.description}: holds ${more.length + 1} images; name one (e.g. docker-archive:FILE:REF or oci:DIR:TAG)`)
      const indexAnnotations = (JSON.parse(root.bytes.toString('utf8')) as Json).annotations as Record<string, string> | undefined
      const overlay = new OverlaySource(source)
      const edited = await editRoot(
        overlay,
        root,
        async ({manifest, config}) => {
          const platform = configPlatform(config)
          const bases = options.oldBase && options.newBase ? {oldBase: options.oldBase, newBase: options.newBase} : basesFromAnnotations(source.description, (manifest.annotations as Record<string, string> | undefined) ?? indexAnnotations)
          const [oldB, newB] = await Promise.all([resolve(bases.oldBase, platform), resolve(bases.newBase, platform)])
          if (!platformMatches({os: platform.os, architecture: platform.architecture}, configPlatform(newB.config))) {
            throw new UsageError(`${source.description}: the new base ${newB.what} is ${formatPlatform(configPlatform(newB.config))}, the image ${formatPlatform(platform)}`, {code: 'PLATFORM_MISMATCH'})
          }
          splice(source.description, manifest, config, oldB, newB)
          for (const l of newB.layers) overlay.borrow(newB.source, l)
          const annotations = manifest.annotations as Record<string, string> | undefined
          if (annotations?.[BASE_NAME] !== undefined || annotations?.[BASE_DIGEST] !== undefined) {
            manifest.annotations = {...annotations, [BASE_NAME]: baseName(bases.newBase), [BASE_DIGEST]: newB.digest}
          }
        },
        {platforms: options.platforms ?? imagePlatforms(root)},
      )
      const newRoot = dropStaleAttestations(overlay, edited)
      overlay.setRoots([{...newRoot, names: []}])
      return await copy({source: overlay}, dst, {...options, platforms: undefined})
    } finally {
      await source.close().catch(() => {})
      for (const s of opened) await s.close().catch(() => {})
    }
  })
}

/**
 * splice replaces the old base's layers (a prefix of the image's, by digest or by diff_id) by the new base's, in the
 * manifest, in rootfs.diff_ids and in the history. Layer descriptors of the new base take the
 * image's media-type family (the bytes of a Docker and an OCI gzip layer are the same).
 */
export function splice(what: string, manifest: Json, config: Json, oldBase: Pick<BaseImage, 'what' | 'layers' | 'config'>, newBase: Pick<BaseImage, 'layers' | 'config'>): void {
  const layers = (manifest.layers as Descriptor[]) ?? []
  const oldN = oldBase.layers.length
  if (oldN > layers.length) {
    throw new UsageError(`${what}: is not based on ${oldBase.what} (the old base has ${oldN} layers, the image ${layers.length})`, {code: 'NOT_BASED_ON'})
  }
  // a layer is the base's when the compressed bytes are the same, or the uncompressed ones: a
  // base saved with `docker save` and pushed again has other gzip bytes but the same diff_ids
  const imageDiffIds = ((config.rootfs as Json)?.diff_ids as string[] | undefined) ?? []
  const oldDiffIds = ((oldBase.config.rootfs as Json)?.diff_ids as string[] | undefined) ?? []
  const same = (l: Descriptor, i: number) => l.digest === layers[i].digest || (oldDiffIds[i] !== undefined && oldDiffIds[i] === imageDiffIds[i])
  const at = oldBase.layers.findIndex((l, i) => !same(l, i))
  if (at >= 0) {
    throw new UsageError(`${what}: is not based on ${oldBase.what} (layer ${at + 1} is ${layers[at].digest}, the old base's ${oldBase.layers[at].digest})`, {code: 'NOT_BASED_ON'})
  }
  const family = String(manifest.mediaType ?? '').includes('docker') ? 'docker' : 'oci'
  manifest.layers = [...newBase.layers.map((l) => ({...l, mediaType: convertMediaType(l.mediaType, family)})), ...layers.slice(oldN)]
  const rootfs = (config.rootfs as Json) ?? {}
  const diffIds = (rootfs.diff_ids as string[]) ?? []
  const newDiffIds = ((newBase.config.rootfs as Json)?.diff_ids as string[]) ?? []
  if (newDiffIds.length !== newBase.layers.length) throw new UsageError(`the new base has ${newBase.layers.length} layers but ${newDiffIds.length} diff_ids`, {code: 'BAD_IMAGE'})
  config.rootfs = {...rootfs, type: rootfs.type ?? 'layers', diff_ids: [...newDiffIds, ...diffIds.slice(oldN)]}
  const history = config.history as Json[] | undefined
  if (history && history.length > 0) {
    const k = baseHistoryLength(history, (oldBase.config.history as Json[]) ?? [], oldN)
    config.history = [...historyOf(newBase.config, newBase.layers.length), ...history.slice(k)]
  }
}

/**
 * baseHistoryLength: how many of the image's history entries are the old base's. When the
 * image's history starts with the old base's whole history, that many; else the entries up to
 * the old base's last layer.
 */
function baseHistoryLength(image: Json[], old: Json[], oldN: number): number {
  if (old.length <= image.length && old.every((h, i) => sameEntry(h, image[i]))) return old.length
  let layers = 0
  for (let i = 0; i < image.length; i++) {
    if (layers === oldN) return i
    if (!image[i].empty_layer) layers++
  }
  return image.length
}

function sameEntry(a: Json, b: Json): boolean {
  return (['created', 'created_by', 'author', 'comment'] as const).every((k) => a[k] === b[k]) && Boolean(a.empty_layer) === Boolean(b.empty_layer)
}

/** historyOf: the new base's history when it accounts for its layers, else one entry per layer. */
function historyOf(config: Json, layers: number): Json[] {
  const h = (config.history as Json[]) ?? []
  if (h.filter((e) => !e.empty_layer).length === layers) return h
  return Array.from({length: layers}, (_, i) => ({...(config.created ? {created: config.created} : {}), created_by: 'ocitool rebase', comment: `layer ${i + 1} of the new base`}))
}

/** basesFromAnnotations: old = base.name@base.digest, new = base.name as it is now. */
function basesFromAnnotations(what: string, annotations: Record<string, string> | undefined): {oldBase: Location; newBase: Location} {
  const name = annotations?.[BASE_NAME]
  const digest = annotations?.[BASE_DIGEST]
  if (!name || !digest) {
    throw new UsageError(`${what}: has no ${BASE_NAME} and ${BASE_DIGEST} annotations; name the bases with --old-base and --new-base`, {code: 'NO_BASE'})
  }
  const loc = parseLocation(name)
  if (loc.kind !== 'registry') return {oldBase: loc, newBase: loc}
  // buildah and podman name images in their local storage `localhost/NAME`: no registry serves it
  if (loc.ref.registry === 'localhost') {
    throw new UsageError(`${what}: its ${BASE_NAME} ${name} names an image in local container storage (podman/buildah), not in a registry; push the base and name both with --old-base and --new-base`, {code: 'NO_BASE'})
  }
  if (loc.ref.digest && !loc.ref.tag) throw new UsageError(`${what}: its ${BASE_NAME} ${name} pins a digest, so it cannot have moved; name the new base with --old-base and --new-base`, {code: 'NO_BASE'})
  return {oldBase: {kind: 'registry', ref: parseReference(loc.ref.name).withDigest(digest)}, newBase: {kind: 'registry', ref: loc.ref.digest ? loc.ref.withTag(loc.ref.tag!) : loc.ref}}
}

/** baseName: how the base.name annotation names a base (a registry reference without digest). */
function baseName(loc: Location): string {
  if (loc.kind !== 'registry') return describeLocation(loc)
  return loc.ref.tag ? `${loc.ref.name}:${loc.ref.tag}` : loc.ref.name
}

function configPlatform(config: Json): Platform {
  return {os: String(config.os ?? ''), architecture: String(config.architecture ?? ''), ...(config.variant ? {variant: String(config.variant)} : {})}
}

/** resolveBase finds a base's image for `platform` (a child of an index, or the image itself). */
async function resolveBase(source: Source, root: Root, loc: Location, platform: Platform): Promise<BaseImage> {
  const m = await selectPlatforms(source, root, {platforms: [platform]})
  const parsed = parseManifest(m.bytes, m.mediaType)
  if (parsed.kind !== 'image') throw new UsageError(`${source.description}: ${m.digest} is ${parsed.mediaType}, not an image manifest`, {code: 'NOT_AN_IMAGE'})
  const desc = parsed.manifest.config
  const bytes = await readConfig(source, desc)
  return {source, what: describeLocation(loc), digest: m.digest, layers: [...parsed.manifest.layers], config: JSON.parse(bytes.toString('utf8')) as Json}
}
