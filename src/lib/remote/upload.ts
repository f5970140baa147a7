/**
 * upload: streaming blob uploads (one streamed PUT, or PATCH chunks), for the transfer engine.
 */
import {PassThrough, type Readable, type Writable} from 'node:stream'
import {RegistryError} from '../errors.js'
import type {RepositoryClient} from './registry.js'
import {type RawResponse, drain, webUrl} from './transport/http.js'
import {repositoryScope} from './transport/scope.js'
import {exactPieces} from '../io/pieces.js'

export interface UploadOptions {
  /** upload in PATCH chunks of this many bytes (the registry's OCI-Chunk-Min-Length wins if larger) */
  chunkSize?: number
  /** remembers chunked upload sessions, so an upload cut short continues where the registry has it */
  sessions?: UploadSessions
}

/**
 * UploadSessions keeps, per repository and blob, the upload session URL the registry gave after
 * the last whole chunk (sync's journal keeps it in its state file, across runs). Distribution
 * signs the offset into that URL (`_state`): a session is resumable from the last chunk it fully
 * took; a chunk cut in the middle leaves the registry with more than the URL says, and it then
 * refuses the session (the upload starts again from zero).
 */
export interface UploadSessions {
  get(repository: string, digest: string): string | undefined
  save(repository: string, digest: string, location: string, offset: number): void
  clear(repository: string, digest: string): void
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
  const sessions = options.sessions
  const saved = sessions?.get(repo.name, digest)
  const resumed = saved ? await resumeSession(repo, saved, size, push, context) : undefined
  if (saved && !resumed) sessions!.clear(repo.name, digest)
  const session = resumed ?? {...(await openSession(repo, push, context)), offset: 0}
  let url = session.url
  const minChunk = Number(headerValue(session.headers['oci-chunk-min-length']))
  const chunkSize = Math.max(options.chunkSize ?? 0, Number.isFinite(minChunk) ? minChunk : 0) || (resumed ? size : 0)
  if (!resumed && (!chunkSize || size <= chunkSize)) {
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
  let offset = session.offset
  for await (const chunk of exactPieces(data, chunkSize, offset)) {
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
    url = nextLocation(res, url, repo.name)
    sessions?.save(repo.name, digest, url.toString(), offset)
  }
  await commit(repo, url, digest, push, context)
  sessions?.clear(repo.name, digest)
}

/**
 * resumeSession asks a saved upload session how much the registry has (`GET` answers 204 with
 * `Range: 0-N`); undefined when the session is gone or refused (the upload starts afresh).
 */
async function resumeSession(repo: RepositoryClient, saved: string, size: number, push: string[], context: UploadContext): Promise<{url: URL; headers: RawResponse['headers']; offset: number} | undefined> {
  try {
    const res = await repo.transport.request({method: 'GET', path: saved, scopes: push, expect: [204], allow: [400, 404, 416], context})
    await drain(res.body)
    if (res.status !== 204) return undefined
    const range = /^(?:bytes=)?0-(\d+)$/.exec(headerValue(res.headers.range) ?? '')
    if (!range) return undefined
    const end = Number(range[1])
    // `0-0` is what distribution says for an empty session too: start that one from zero
    const offset = end === 0 ? 0 : end + 1
    if (offset > size) return undefined
    return {url: nextLocation(res, new URL(saved), repo.name), headers: res.headers, offset}
  } catch {
    return undefined
  }
}

type UploadContext = {subject: string; what: string}

/** openSession starts an upload (POST) and returns where its data goes, with the answer's headers. */
async function openSession(repo: RepositoryClient, push: string[], context: UploadContext): Promise<{url: URL; headers: RawResponse['headers']}> {
  const start = await repo.transport.request({method: 'POST', path: `/v2/${repo.repository}/blobs/uploads/`, scopes: push, expect: [202], context})
  await drain(start.body)
  const location = headerValue(start.headers.location)
  if (!location) throw new RegistryError(`blob upload ${repo.name}: the registry gave no upload location`, {code: 'BAD_RESPONSE'})
  return {url: uploadUrl(location, start.url, repo.name), headers: start.headers}
}

/** uploadUrl resolves an upload `Location`; one that is not http(s) is the registry's error. */
export function uploadUrl(location: string, base: string, name: string): URL {
  const url = webUrl(location, base)
  if (url) return url
  throw new RegistryError(`blob upload ${name}: the registry gave an upload location that is not an http(s) URL`, {code: 'BAD_URL'})
}

/** nextLocation is where an upload continues after a PATCH (the registry may move it). */
function nextLocation(res: RawResponse, url: URL, name: string): URL {
  return uploadUrl(headerValue(res.headers.location) ?? url.toString(), res.url, name)
}

/** commit ends an upload whose bytes are all sent: `PUT ?digest=` (the registry checks it). */
async function commit(repo: RepositoryClient, url: URL, digest: string, push: string[], context: UploadContext): Promise<void> {
  url.searchParams.set('digest', digest)
  const done = await repo.transport.request({method: 'PUT', path: url.toString(), scopes: push, headers: {'content-length': '0'}, body: Buffer.alloc(0), expect: [201, 204], context})
  await drain(done.body)
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
      await commit(repo, nextLocation(res, url, repo.name), digest, push, {...context, subject: `${repo.name}@${digest}`})
    },
    abort() {
      body.destroy()
    },
  }
}
