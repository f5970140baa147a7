/**
 * names: the distribution spec's grammar for repository names, tags and digests, answered
 * as spec errors (NAME_INVALID, MANIFEST_INVALID, DIGEST_INVALID).
 *
 * https://github.com/opencontainers/distribution-spec/blob/main/spec.md#pulling-manifests
 */
import {digestProblem} from '../oci/digest.js'
import {ApiError, ErrorCode} from './errors.js'

/** NAME matches `<name>`: path components of lowercase alphanumerics joined by `.`, `_`, `__` or dashes. */
const NAME = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/
/** TAG matches `<reference>` when it is a tag. */
const TAG = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/
/** MAX_NAME_LENGTH is distribution's limit on a repository name. */
export const MAX_NAME_LENGTH = 255

/** isName is true for a valid repository name. */
export function isName(name: string): boolean {
  return name.length <= MAX_NAME_LENGTH && NAME.test(name)
}

/** checkName throws NAME_INVALID unless name is a valid repository name. */
export function checkName(name: string): string {
  if (!isName(name)) {
    throw new ApiError(ErrorCode.nameInvalid, 'invalid repository name', {detail: {name}})
  }
  return name
}

/** isTag is true for a valid tag. */
export function isTag(s: string): boolean {
  return TAG.test(s)
}

/** checkDigest throws DIGEST_INVALID unless s is a sha256 or sha512 digest. */
export function checkDigest(s: string): string {
  const problem = digestProblem(s)
  if (problem !== undefined) throw new ApiError(ErrorCode.digestInvalid, `invalid digest: ${problem}`, {detail: {digest: s}})
  return s
}

/** ManifestReference is the `<reference>` of a manifest URL: a tag or a digest. */
export type ManifestReference = {readonly tag: string; readonly digest?: undefined} | {readonly digest: string; readonly tag?: undefined}

/** parseReference reads a manifest URL's reference: a digest when it has a colon, else a tag. */
export function parseReference(s: string): ManifestReference {
  if (s.includes(':')) return {digest: checkDigest(s)}
  if (!isTag(s)) throw new ApiError(ErrorCode.manifestInvalid, 'invalid tag', {detail: {tag: s}})
  return {tag: s}
}
