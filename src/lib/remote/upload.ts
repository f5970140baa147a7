/**
 * upload: streaming blob uploads (one streamed PUT, or PATCH chunks), for the transfer engine.
 */
import {PassThrough, type Readable, type Writable} from 'node:stream'
import {RegistryError} from '../errors.js'
import type {RepositoryClient} from './registry.js'
import {type RawResponse, drain} from './transport/http.js'
import {repositoryScope} from './transport/scope.js'

export interface UploadOptions {
  /** upload in PATCH chunks of this many bytes (the registry's OCI-Chunk-Min-Length wins if larger) */
  chunkSize?: number
}

/**
 * uploadStream uploads a blob from a one-shot stream: POST for a session, then one streamed PUT
 * (`Content-Length` = size), or PATCH chunks with `Content-Range` when `chunkSize` is set or the
 * registry demands chunks (`OCI-Chunk-Min-Length`). A failed upload is not retried here: the
 * stream cannot be replayed, so the caller opens the source again and calls this again.
 */
export async function uploadStream(repo: RepositoryClient, digest: string, size: number, data: Readable, options: UploadOptions = {}): Promise<void> {
  const push = [repositoryScope(repo.repository, 'pull', 'push')]
  const context = {subject: `${repo.name}@${digest}`, what: 'blob upload'}
  const session = await openSession(repo, push, context)
  let url = session.url
  const minChunk = Number(headerValue(session.headers['oci-chunk-min-length']))
  const chunkSize = Math.max(options.chunkSize ?? 0, Number.isFinite(minChunk) ? minChunk : 0)
  if (!chunkSize || size <= chunkSize) {
    url.searchParams.set('digest', digest)
    const done = await repo.transport.request({
      method: 'PUT',
      path: url.toString(),
      scopes: push,
      headers: {'content-type': 'application/octet-stream', 'content-length': String(size)},
      body: () => data,
      retry: false,
      expect: [201, 204],
      context,
    })
    await drain(done.body)
    return
  }
  let offset = 0
  for await (const chunk of chunks(data, chunkSize)) {
    const res = await repo.transport.request({
      method: 'PATCH',
      path: url.toString(),
      scopes: push,
      headers: {'content-type': 'application/octet-stream', 'content-length': String(chunk.length), 'content-range': `${offset}-${offset + chunk.length - 1}`},
      body: chunk,
      expect: [202],
      context,
    })
    await drain(res.body)
    offset += chunk.length
    url = nextLocation(res, url)
  }
  await commit(repo, url, digest, push, context)
}

type UploadContext = {subject: string; what: string}

/** openSession starts an upload (POST) and returns where its data goes, with the answer's headers. */
async function openSession(repo: RepositoryClient, push: string[], context: UploadContext): Promise<{url: URL; headers: RawResponse['headers']}> {
  const start = await repo.transport.request({method: 'POST', path: `/v2/${repo.repository}/blobs/uploads/`, scopes: push, expect: [202], context})
  await drain(start.body)
  const location = headerValue(start.headers.location)
  if (!location) throw new RegistryError(`blob upload ${repo.name}: the registry gave no upload location`, {code: 'BAD_RESPONSE'})
  return {url: new URL(location, start.url), headers: start.headers}
}

/** nextLocation is where an upload continues after a PATCH (the registry may move it). */
function nextLocation(res: RawResponse, url: URL): URL {
  return new URL(headerValue(res.headers.location) ?? url.toString(), res.url)
}

/** commit ends an upload whose bytes are all sent: `PUT ?digest=` (the registry checks it). */
async function commit(repo: RepositoryClient, url: URL, digest: string, push: string[], context: UploadContext): Promise<void> {
  url.searchParams.set('digest', digest)
  const done = await repo.transport.request({method: 'PUT', path: url.toString(), scopes: push, headers: {'content-length': '0'}, body: Buffer.alloc(0), expect: [201, 204], context})
  await drain(done.body)
}

/** chunks regroups a stream into buffers of exactly `size` bytes (the last may be shorter). */
async function* chunks(data: Readable, size: number): AsyncGenerator<Buffer> {
  let parts: Buffer[] = []
  let have = 0
  for await (const piece of data) {
    let buf = piece as Buffer
    while (buf.length > 0) {
      const take = Math.min(size - have, buf.length)
      parts.push(buf.subarray(0, take))
      have += take
      buf = buf.subarray(take)
      if (have === size) {
        yield Buffer.concat(parts)
        parts = []
        have = 0
      }
    }
  }
  if (have > 0) yield Buffer.concat(parts)
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v
}

/** A blob upload fed while its bytes are made, before their digest is known. */
export interface StreamingUpload {
  /** the blob's bytes in order; written with backpressure */
  readonly body: Writable
  /** ends the body and commits the bytes under `digest` (the registry checks it) */
  finish(digest: string): Promise<void>
  /** stops the upload; the registry drops the unfinished session in time */
  abort(): void
}

/**
 * startStreamingUpload opens an upload session and starts one PATCH whose body (chunked, no
 * length) is written as the bytes are produced, as Docker's client uploads a layer it builds;
 * `finish` then commits it with `PUT ?digest=`. For a blob whose digest is known only at its
 * end (a layer being compressed), this moves the upload into the time the compression takes.
 */
export async function startStreamingUpload(repo: RepositoryClient): Promise<StreamingUpload> {
  const push = [repositoryScope(repo.repository, 'pull', 'push')]
  const context = {subject: `${repo.name} (new blob)`, what: 'blob upload'}
  const {url} = await openSession(repo, push, context)
  const body = new PassThrough({highWaterMark: 4 * 1024 * 1024})
  const patched = repo.transport.request({
    method: 'PATCH',
    path: url.toString(),
    scopes: push,
    headers: {'content-type': 'application/octet-stream'},
    body: () => body,
    retry: false,
    expect: [202],
    context,
  })
  patched.catch(() => body.destroy())
  return {
    body,
    async finish(digest: string) {
      body.end()
      const res = await patched
      await drain(res.body)
      await commit(repo, nextLocation(res, url), digest, push, {...context, subject: `${repo.name}@${digest}`})
    },
    abort() {
      body.destroy()
    },
  }
}
