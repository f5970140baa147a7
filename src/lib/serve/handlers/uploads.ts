/**
 * uploads: the blob upload endpoints of the distribution spec.
 *
 *   POST   /v2/<name>/blobs/uploads/                          open a session (202)
 *   POST   /v2/<name>/blobs/uploads/?digest=<d>               monolithic upload (201)
 *   POST   /v2/<name>/blobs/uploads/?mount=<d>&from=<repo>    mount (201), else a session (202)
 *   PATCH  /v2/<name>/blobs/uploads/<id>                      a chunk (202); Content-Range checked
 *   PUT    /v2/<name>/blobs/uploads/<id>?digest=<d>           finish, with an optional last chunk (201)
 *   GET    /v2/<name>/blobs/uploads/<id>                      progress (204)
 *   DELETE /v2/<name>/blobs/uploads/<id>                      cancel (204)
 */
import {ApiError, ErrorCode} from '../errors.js'
import {contentLength, hasBody, send, type Headers} from '../http.js'
import {checkDigest, checkName} from '../names.js'
import type {Call, Context} from '../router.js'
import {rangeHeader, type Upload} from '../uploads.js'

function sessionHeaders(u: Upload): Headers {
  return {Location: `/v2/${u.name}/blobs/uploads/${u.id}`, Range: rangeHeader(u), 'Docker-Upload-UUID': u.id}
}

function created(call: Call, digest: string): void {
  send(call.res, 201, {Location: `/v2/${call.name}/blobs/${digest}`, 'Docker-Content-Digest': digest})
}

/** commit verifies a finished session against digest and moves its file into the store. */
async function commit(ctx: Context, u: Upload, digest: string): Promise<void> {
  if (!(await ctx.uploads.digestMatches(u, digest))) {
    await ctx.uploads.cancel(u)
    throw new ApiError(ErrorCode.digestInvalid, 'provided digest did not match uploaded content', {detail: {digest}})
  }
  await ctx.blobs.adopt(u.file, digest)
  ctx.uploads.finish(u)
  await ctx.repos.linkBlob(u.name, digest)
}

function digestParam(query: URLSearchParams): string {
  const digest = query.get('digest')
  if (digest === null) throw new ApiError(ErrorCode.digestInvalid, 'the digest query parameter is required to finish an upload')
  return checkDigest(digest)
}

/** startUpload answers POST: mount, monolithic upload, or a new session. */
export async function startUpload(call: Call): Promise<void> {
  const {ctx, req, res, name, query} = call
  const mount = query.get('mount')
  if (mount !== null && (await tryMount(ctx, name, checkDigest(mount), query.get('from')))) {
    created(call, mount)
    return
  }
  const digest = query.get('digest')
  if (digest !== null && mount === null) {
    checkDigest(digest)
    const u = await ctx.uploads.create(name)
    await ctx.uploads.run(u, async () => {
      try {
        await ctx.uploads.append(u, req, contentLength(req))
      } catch (e) {
        await ctx.uploads.cancel(u)
        throw e
      }
      await commit(ctx, u, digest)
    })
    created(call, digest)
    return
  }
  const u = await ctx.uploads.create(name)
  send(res, 202, sessionHeaders(u))
}

/**
 * tryMount links a blob from repository `from` into name; without `from` any stored blob
 * will do (the spec lets a registry mount without it). False when there is nothing to mount.
 */
async function tryMount(ctx: Context, name: string, digest: string, from: string | null): Promise<boolean> {
  const size = from === null ? await ctx.blobs.size(digest) : await ctx.repos.blobSize(checkName(from), digest)
  if (size === undefined) return false
  await ctx.repos.linkBlob(name, digest)
  return true
}

/** patchUpload appends a chunk. */
export async function patchUpload({ctx, req, res, name, param}: Call): Promise<void> {
  const u = ctx.uploads.get(name, param)
  await ctx.uploads.run(u, async () => {
    const expected = ctx.uploads.checkRange(u, header(req.headers['content-range']), contentLength(req))
    await ctx.uploads.append(u, req, expected)
    send(res, 202, sessionHeaders(u))
  })
}

/** putUpload appends the last chunk, if any, and finishes the upload as digest. */
export async function putUpload(call: Call): Promise<void> {
  const {ctx, req, name, param, query} = call
  const digest = digestParam(query)
  const u = ctx.uploads.get(name, param)
  await ctx.uploads.run(u, async () => {
    const range = header(req.headers['content-range'])
    if (range !== undefined || hasBody(req)) {
      const expected = ctx.uploads.checkRange(u, range, contentLength(req))
      await ctx.uploads.append(u, req, expected)
    }
    await commit(ctx, u, digest)
    created(call, digest)
  })
}

/** getUpload reports a session's progress. */
export async function getUpload({ctx, res, name, param}: Call): Promise<void> {
  const u = ctx.uploads.get(name, param)
  send(res, 204, sessionHeaders(u))
}

/** deleteUpload cancels a session. */
export async function deleteUpload({ctx, res, name, param}: Call): Promise<void> {
  const u = ctx.uploads.get(name, param)
  await ctx.uploads.run(u, () => ctx.uploads.cancel(u))
  send(res, 204)
}

function header(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v
}
