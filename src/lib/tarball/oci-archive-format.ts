/**
 * oci-archive-format: the names of an OCI image layout, as found inside an `oci-archive` tar
 * (image-spec image-layout.md): `oci-layout`, `index.json`, `blobs/<alg>/<hex>`, and the
 * `org.opencontainers.image.ref.name` annotation that names index.json's entries.
 *
 * https://github.com/opencontainers/image-spec/blob/main/image-layout.md
 */
import {parseDigest} from '../oci/digest.js'

export {type AnnotateRef, INDEX_FILE, LAYOUT_FILE, LAYOUT_VERSION, REF_NAME_ANNOTATION, entriesNamed, namesIn, refNameFor, tagOfName} from '../layout/oci-layout-format.js'

/** blobEntryOf returns `blobs/<alg>/<hex>` for a digest (UsageError for an invalid one). */
export function blobEntryOf(digest: string): string {
  const {algorithm, hex} = parseDigest(digest)
  return `blobs/${algorithm}/${hex}`
}
