/**
 * oci-archive-format: the names of an OCI image layout, as found inside an `oci-archive` tar
 * (image-spec image-layout.md): `oci-layout`, `index.json`, `blobs/<alg>/<hex>`, and the
 * `org.opencontainers.image.ref.name` annotation that names index.json's entries.
 *
 * https://github.com/opencontainers/image-spec/blob/main/image-layout.md
 */
import {parseDigest} from '../oci/digest.js'

export const LAYOUT_FILE = 'oci-layout'
export const INDEX_FILE = 'index.json'
export const LAYOUT_VERSION = '1.0.0'
export const REF_NAME_ANNOTATION = 'org.opencontainers.image.ref.name'

/** blobEntryOf returns `blobs/<alg>/<hex>` for a digest (UsageError for an invalid one). */
export function blobEntryOf(digest: string): string {
  const {algorithm, hex} = parseDigest(digest)
  return `blobs/${algorithm}/${hex}`
}

/** AnnotateRef says what a root's `ref.name` holds: its tag (default), the full name, or nothing. */
export type AnnotateRef = 'tag' | 'full' | 'none'

/**
 * tagOfName returns the tag of a name the engine gives a root: `v1` for `v1`, `repo:v1` or
 * `host:5000/repo:v1`; undefined for names without a tag (`host/repo`, `repo@sha256:…`).
 */
export function tagOfName(name: string): string | undefined {
  const at = name.indexOf('@')
  const base = at === -1 ? name : name.slice(0, at)
  const colon = base.lastIndexOf(':')
  const slash = base.lastIndexOf('/')
  if (colon > slash) return base.slice(colon + 1) || undefined
  if (slash === -1 && at === -1 && base !== '') return base
  return undefined
}

/** refNameFor maps a root's name to its `ref.name` under `mode`, or undefined for none. */
export function refNameFor(name: string, mode: AnnotateRef): string | undefined {
  if (mode === 'none') return undefined
  if (mode === 'full') return name
  return tagOfName(name)
}
