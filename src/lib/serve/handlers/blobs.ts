/**
 * blobs: `HEAD`/`GET`/`DELETE /v2/<name>/blobs/<digest>`. GET streams the file and answers a
 * single `Range` with 206 (416 when it is outside the blob), so clients can resume.
 */
import {pipeline} from 'node:stream/promises'
import {ApiError, ErrorCode} from '../errors.js'
import {parseRange, send} from '../http.js'
import {checkDigest} from '../names.js'
import type {Call} from '../router.js'

function unknown(digest: string): ApiError {
  return new ApiError(ErrorCode.blobUnknown, 'blob unknown to registry', {detail: {digest}})
}

/** getBlob answers HEAD and GET of a blob. */
export async function getBlob({ctx, req, res, name, param}: Call): Promise<void> {
  const digest = checkDigest(param)
  const size = await ctx.repos.blobSize(name, digest)
  if (size === undefined) throw unknown(digest)
  const headers = {
    'Content-Type': 'application/octet-stream',
    'Docker-Content-Digest': digest,
    'Accept-Ranges': 'bytes',
    ETag: `"${digest}"`,
    'Cache-Control': 'max-age=31536000',
  }
  const range = parseRange(req.headers.range, size)
  if (range.kind === 'unsatisfiable') {
    send(res, 416, {'Content-Range': `bytes */${size}`, 'Docker-Content-Digest': digest})
    return
  }
  if (range.kind === 'range') {
    res.writeHead(206, {...headers, 'Content-Length': range.end - range.start + 1, 'Content-Range': `bytes ${range.start}-${range.end}/${size}`})
  } else {
    res.writeHead(200, {...headers, 'Content-Length': size})
  }
  if (req.method === 'HEAD') {
    res.end()
    return
  }
  await pipeline(ctx.blobs.open(digest, range.kind === 'range' ? range : undefined), res)
}

/** deleteBlob removes a blob from the repository (202); the bytes stay while other repositories hold them. */
export async function deleteBlob({ctx, res, name, param}: Call): Promise<void> {
  const digest = checkDigest(param)
  if (!(await ctx.repos.unlinkBlob(name, digest))) throw unknown(digest)
  send(res, 202, {'Docker-Content-Digest': digest})
}
