/**
 * manifests: `HEAD`/`GET`/`PUT`/`DELETE /v2/<name>/manifests/<tag|digest>`. A manifest is
 * kept as the exact bytes pushed, with the Content-Type it was pushed with. PUT checks the
 * document (MANIFEST_INVALID), that everything it points at is in the repository
 * (MANIFEST_BLOB_UNKNOWN) and, when pushed by digest, that the digest is right
 * (DIGEST_INVALID); a manifest with a `subject` is filed as a referrer of it and answered
 * with `OCI-Subject`.
 */
import {algorithmOf, digestOf} from '../../oci/digest.js'
import {MAX_MANIFEST_BYTES, childDescriptors, parseManifest, type ParsedManifest} from '../../oci/manifest.js'
import {baseMediaType, isForeign} from '../../oci/media-types.js'
import type {Descriptor} from '../../oci/types.js'
import {ApiError, ErrorCode} from '../errors.js'
import {readBody, send} from '../http.js'
import {parseReference} from '../names.js'
import type {Call, Context} from '../router.js'
import type {ManifestRecord} from '../store/repos.js'

/** Modern is a manifest this registry accepts: anything but schema 1. */
type Modern = Exclude<ParsedManifest, {kind: 'schema1'}>

/** resolve finds the manifest a reference names (NAME_UNKNOWN or MANIFEST_UNKNOWN otherwise). */
async function resolve(ctx: Context, name: string, param: string): Promise<ManifestRecord> {
  const ref = parseReference(param)
  const digest = ref.digest ?? (await ctx.repos.resolveTag(name, ref.tag))
  const record = digest === undefined ? undefined : await ctx.repos.manifest(name, digest)
  if (record !== undefined) return record
  if (!(await ctx.repos.exists(name))) throw new ApiError(ErrorCode.nameUnknown, 'repository name not known to registry', {detail: {name}})
  throw new ApiError(ErrorCode.manifestUnknown, 'manifest unknown', {detail: ref.digest === undefined ? {tag: ref.tag} : {digest: ref.digest}})
}

/** getManifest answers HEAD and GET. */
export async function getManifest({ctx, req, res, name, param}: Call): Promise<void> {
  const record = await resolve(ctx, name, param)
  const headers = {'Content-Type': record.mediaType, 'Docker-Content-Digest': record.digest, ETag: `"${record.digest}"`}
  if (req.method === 'HEAD') {
    send(res, 200, {...headers, 'Content-Length': record.size})
    return
  }
  const bytes = await ctx.blobs.read(record.digest)
  if (bytes === undefined) throw new ApiError(ErrorCode.manifestUnknown, 'manifest unknown', {detail: {digest: record.digest}})
  send(res, 200, headers, bytes)
}

/** putManifest stores a manifest under a tag or its digest. */
export async function putManifest({ctx, req, res, name, param}: Call): Promise<void> {
  const ref = parseReference(param)
  const bytes = await readBody(req, MAX_MANIFEST_BYTES)
  const contentType = req.headers['content-type']
  const parsed = parse(bytes, contentType)
  const digest = digestOf(bytes, ref.digest === undefined ? 'sha256' : algorithmOf(ref.digest))
  if (ref.digest !== undefined && ref.digest !== digest) {
    throw new ApiError(ErrorCode.digestInvalid, `manifest digest is ${digest}, not the ${ref.digest} it was pushed as`, {detail: {digest: ref.digest}})
  }
  for (const d of childDescriptors(parsed)) {
    if (isForeign(d.mediaType) && (d.urls?.length ?? 0) > 0) continue // served from elsewhere
    if ((await ctx.repos.blobSize(name, d.digest)) === undefined) {
      throw new ApiError(ErrorCode.manifestBlobUnknown, `manifest references ${d.digest}, which is not in ${name}`, {detail: {digest: d.digest}})
    }
  }
  const subject = parsed.manifest.subject
  const mediaType = contentType ?? parsed.mediaType
  await ctx.blobs.write(digest, bytes)
  const record: ManifestRecord = {digest, mediaType, size: bytes.byteLength, ...(subject === undefined ? {} : {subject: subject.digest})}
  await ctx.repos.putManifest(name, record, {
    ...(ref.tag === undefined ? {} : {tag: ref.tag}),
    ...(subject === undefined ? {} : {referrer: referrerDescriptor(parsed, digest, bytes.byteLength)}),
  })
  send(res, 201, {
    Location: `/v2/${name}/manifests/${digest}`,
    'Docker-Content-Digest': digest,
    ...(subject === undefined ? {} : {'OCI-Subject': subject.digest}),
  })
}

/** deleteManifest deletes a tag, or a manifest by digest with every tag pointing at it. */
export async function deleteManifest({ctx, res, name, param}: Call): Promise<void> {
  const ref = parseReference(param)
  const deleted = ref.digest === undefined ? await ctx.repos.deleteTag(name, ref.tag) : await ctx.repos.deleteManifest(name, ref.digest)
  if (!deleted) throw new ApiError(ErrorCode.manifestUnknown, 'manifest unknown', {detail: {reference: param}})
  send(res, 202)
}

/** parse checks manifest bytes, answering MANIFEST_INVALID with the parser's reason. */
function parse(bytes: Buffer, contentType: string | undefined): Modern {
  let parsed: ParsedManifest
  try {
    parsed = parseManifest(bytes, contentType)
  } catch (e) {
    throw new ApiError(ErrorCode.manifestInvalid, e instanceof Error ? e.message : 'invalid manifest')
  }
  if (parsed.kind === 'schema1') throw new ApiError(ErrorCode.manifestInvalid, 'schema 1 manifests are not accepted: push schema 2 or OCI')
  const field = parsed.manifest.mediaType
  if (contentType !== undefined && field !== undefined && baseMediaType(contentType) !== baseMediaType(field)) {
    throw new ApiError(ErrorCode.manifestInvalid, `Content-Type ${contentType} does not match the manifest's mediaType ${field}`)
  }
  return parsed
}

/**
 * referrerDescriptor describes a referrer for the referrers API: its artifactType is the
 * manifest's, else (for an image manifest) its config's media type.
 */
function referrerDescriptor(parsed: Modern, digest: string, size: number): Descriptor {
  const m = parsed.manifest
  const artifactType = m.artifactType ?? ('config' in m ? m.config.mediaType : undefined)
  return {
    mediaType: parsed.mediaType,
    digest,
    size,
    ...(artifactType === undefined ? {} : {artifactType}),
    ...(m.annotations === undefined ? {} : {annotations: m.annotations}),
  }
}
