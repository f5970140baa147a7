/**
 * manifest-put: store manifest bytes exactly as given (no re-serialisation), under a tag or
 * by digest. The media type is `mediaType` when given, else the document's `mediaType` field,
 * else what the document's shape says (OCI index for `manifests`, OCI manifest for `config`).
 */
import {IntegrityError, UsageError} from '../errors.js'
import type {Reference} from '../name/reference.js'
import {digestOf} from '../oci/digest.js'
import {MAX_MANIFEST_BYTES, parseManifest} from '../oci/manifest.js'
import {MediaType} from '../oci/media-types.js'
import {type RemoteOptions, withSession} from '../remote/session.js'
import {checkMediaType} from './attach.js'

export interface ManifestPutResult {
  digest: string
  mediaType: string
  /** `registry/repository@digest` */
  reference: string
}

/** mediaTypeFor decides the Content-Type of manifest bytes (UsageError when they are not a manifest). */
export function mediaTypeFor(bytes: Buffer, given?: string): string {
  if (bytes.length > MAX_MANIFEST_BYTES) throw new UsageError(`the manifest is ${bytes.length} bytes; registries take at most ${MAX_MANIFEST_BYTES}`, {code: 'MANIFEST_TOO_BIG'})
  let doc: Record<string, unknown>
  try {
    doc = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new Error('not an object')
  } catch (e) {
    throw new UsageError(`the manifest is not a JSON object: ${(e as Error).message}`, {code: 'BAD_MANIFEST'})
  }
  let mediaType = given ? checkMediaType(given, '--media-type') : undefined
  if (!mediaType && typeof doc.mediaType === 'string' && doc.mediaType !== '') mediaType = doc.mediaType
  if (!mediaType && Array.isArray(doc.manifests)) mediaType = MediaType.ociIndex
  if (!mediaType && typeof doc.config === 'object') mediaType = MediaType.ociManifest
  if (!mediaType) throw new UsageError('cannot tell the manifest\'s media type: it has no "mediaType" field; pass --media-type', {code: 'BAD_MANIFEST'})
  try {
    parseManifest(bytes, mediaType)
  } catch (e) {
    throw new UsageError(`not a valid ${mediaType}: ${(e as Error).message}`, {code: 'BAD_MANIFEST', cause: e})
  }
  return mediaType
}

/** putManifest uploads the bytes to `ref` (its tag, or its digest, which must be theirs). */
export function putManifest(ref: Reference, bytes: Buffer, options: RemoteOptions & {mediaType?: string}): Promise<ManifestPutResult> {
  const mediaType = mediaTypeFor(bytes, options.mediaType)
  const digest = digestOf(bytes)
  if (ref.digest && ref.digest !== digest) {
    throw new IntegrityError(`${ref}: the bytes hash to ${digest}, not the digest named`, {code: 'DIGEST_MISMATCH'})
  }
  return withSession(options, async (s) => {
    await s.repository(ref).putManifest(ref.digest ?? ref.identifier, bytes, mediaType)
    return {digest, mediaType, reference: `${ref.name}@${digest}`}
  })
}
