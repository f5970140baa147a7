/**
 * docker-manifest: the `manifest.json` of a `docker save` tarball, as docker, skopeo and
 * go-containerregistry write it: an array with one entry per image,
 *
 *   {"Config": "<file>", "RepoTags": ["registry/repo:tag"], "Layers": ["<file>", …],
 *    "LayerSources": {"<diff id>": <descriptor of a foreign layer>}}
 *
 * plus, in archives ocitool writes, `"ocitool.manifest": {"path": "<file>", "mediaType": …}`
 * naming the original manifest's exact bytes, so an image keeps its digest through a tarball
 * (docker, skopeo and crane ignore keys they do not know; a dotted key can never collide
 * with a field of their Go structs, which json matches case-insensitively).
 *
 * An image saved by digest has no tag; crane then writes the sentinel tag `i-was-a-digest`.
 */
import {OcitoolError} from '../errors.js'
import {isDigest} from '../oci/digest.js'
import {parseReference} from '../name/reference.js'
import type {Descriptor} from '../oci/types.js'

/** MANIFEST_JSON is the entry point of a docker archive. */
export const MANIFEST_JSON = 'manifest.json'
/** OCITOOL_MANIFEST_KEY is our extension key in a manifest.json entry. */
export const OCITOOL_MANIFEST_KEY = 'ocitool.manifest'
/** DIGEST_SENTINEL_TAG stands in for a tag when an image was saved by digest (crane's convention). */
export const DIGEST_SENTINEL_TAG = 'i-was-a-digest'
/** MAX_MANIFEST_JSON_BYTES caps manifest.json (64 MiB: it lists every layer of every image). */
export const MAX_MANIFEST_JSON_BYTES = 64 * 1024 * 1024

/** OriginalManifestRef points at the exact manifest bytes stored beside the image. */
export interface OriginalManifestRef {
  path: string
  mediaType: string
}

/** ArchiveImage is one entry of manifest.json. */
export interface ArchiveImage {
  Config: string
  RepoTags: string[]
  Layers: string[]
  /** foreign layers by diff id (go-containerregistry, docker) */
  LayerSources?: Record<string, Descriptor>
  [OCITOOL_MANIFEST_KEY]?: OriginalManifestRef
}

function bad(description: string, problem: string, cause?: unknown): OcitoolError {
  return new OcitoolError(`${description}: invalid ${MANIFEST_JSON}: ${problem}`, {code: 'BAD_ARCHIVE', ...(cause === undefined ? {} : {cause})})
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)
const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string')

/** parseManifestJson checks manifest.json; a wrong shape is an OcitoolError BAD_ARCHIVE naming the field. */
export function parseManifestJson(bytes: Uint8Array, description: string): ArchiveImage[] {
  let doc: unknown
  try {
    doc = JSON.parse(Buffer.from(bytes).toString('utf8'))
  } catch (e) {
    throw bad(description, 'not JSON', e)
  }
  if (!Array.isArray(doc)) throw bad(description, 'expected an array of images')
  if (doc.length === 0) throw bad(description, 'it lists no images')
  return doc.map((item: unknown, i): ArchiveImage => {
    if (!isObject(item)) throw bad(description, `[${i}] is not an object`)
    if (typeof item.Config !== 'string' || item.Config === '') throw bad(description, `[${i}].Config must be a file name`)
    if (!isStringArray(item.Layers)) throw bad(description, `[${i}].Layers must be an array of file names`)
    const tags = item.RepoTags ?? []
    if (!isStringArray(tags)) throw bad(description, `[${i}].RepoTags must be an array of strings`)
    const out: ArchiveImage = {Config: item.Config, RepoTags: tags, Layers: item.Layers}
    if (item.LayerSources !== undefined && item.LayerSources !== null) {
      if (!isObject(item.LayerSources)) throw bad(description, `[${i}].LayerSources must be an object`)
      for (const [diffId, d] of Object.entries(item.LayerSources)) {
        if (!isObject(d) || typeof d.mediaType !== 'string' || !isDigest(d.digest) || typeof d.size !== 'number') {
          throw bad(description, `[${i}].LayerSources[${JSON.stringify(diffId)}] must be a descriptor`)
        }
      }
      out.LayerSources = item.LayerSources as Record<string, Descriptor>
    }
    const original = item[OCITOOL_MANIFEST_KEY]
    if (isObject(original) && typeof original.path === 'string' && typeof original.mediaType === 'string') {
      out[OCITOOL_MANIFEST_KEY] = {path: original.path, mediaType: original.mediaType}
    }
    return out
  })
}

/**
 * repoTagOf turns a root's name into a RepoTag: `registry/repo:tag`; a name with only a
 * digest becomes `registry/repo:i-was-a-digest`. Throws UsageError for an invalid reference.
 */
export function repoTagOf(name: string): string {
  const ref = parseReference(name)
  return `${ref.name}:${ref.tag ?? DIGEST_SENTINEL_TAG}`
}

/** isDigestSentinel is true for a RepoTag that stands for "saved by digest". */
export function isDigestSentinel(repoTag: string): boolean {
  return repoTag.endsWith(`:${DIGEST_SENTINEL_TAG}`)
}

function canonical(name: string): string | undefined {
  try {
    const ref = parseReference(name)
    return `${ref.name}:${ref.tag ?? ''}@${ref.digest ?? ''}`
  } catch {
    return undefined
  }
}

/**
 * repoTagMatches is true when a RepoTag names what the user asked for: the same string, or
 * the same reference once normalised (`busybox` = `docker.io/library/busybox:latest`).
 */
export function repoTagMatches(repoTag: string, wanted: string): boolean {
  if (repoTag === wanted) return true
  const a = canonical(repoTag)
  return a !== undefined && a === canonical(wanted)
}

const HEX64 = '[0-9a-f]{64}'
const CLAIMS: readonly RegExp[] = [
  new RegExp(`^blobs/(sha256)/(${HEX64})$`),
  /^blobs\/(sha512)\/([0-9a-f]{128})$/,
  new RegExp(`^(sha256):(${HEX64})$`),
  new RegExp(`^()(${HEX64})(?:\\.tar(?:\\.gz|\\.zst)?)?$`),
]

/**
 * claimedDigest returns the digest a file name states: `blobs/sha256/<hex>` (docker 25+,
 * OCI), `sha256:<hex>` (crane configs), `<hex>.tar.gz` / `<hex>.tar` (crane, ocitool layers).
 * Legacy names (`<id>/layer.tar`, `<id>.json`) state none: their ids are not digests.
 */
export function claimedDigest(path: string): string | undefined {
  for (const re of CLAIMS) {
    const m = re.exec(path)
    if (m) return `${m[1] || 'sha256'}:${m[2]}`
  }
  return undefined
}
