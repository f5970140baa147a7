/**
 * blobstore: a registry repository as a plain blob store (what python-dxf users do): push a
 * file or stdin, pull verified to stdout or a file (temp + rename), size, mount and delete.
 * Blobs may be named `@ALIAS` (see ./alias.ts), which stands for every digest of the alias.
 */
import {createWriteStream} from 'node:fs'
import {rename, unlink} from 'node:fs/promises'
import * as path from 'node:path'
import {PassThrough, Transform, type Readable, type Writable} from 'node:stream'
import {pipeline} from 'node:stream/promises'
import {reclaim} from '../io/reclaim.js'
import {NotFoundError, RegistryError, UsageError} from '../errors.js'
import {exactPieces} from '../io/pieces.js'
import type {Repository} from '../name/reference.js'
import {createDigester, isDigest} from '../oci/digest.js'
import type {RepositoryClient} from '../remote/registry.js'
import {uploadUrl} from '../remote/upload.js'
import {type RemoteOptions, withSession} from '../remote/session.js'
import {drain} from '../remote/transport/http.js'
import {repositoryScope} from '../remote/transport/scope.js'
import type {TransferEvent} from '../transfer/engine.js'
import {counter, pushFileBlob} from './attach.js'
import {aliasBlobs, aliasDigests, setAlias} from './alias.js'
import type {Platform} from '../oci/types.js'

export interface BlobStoreOptions extends RemoteOptions {
  onEvent?: (e: TransferEvent) => void
  /** for an @ALIAS that is a multi-platform index */
  platform?: Platform
  /** give the blob this alias too (push, mount) */
  alias?: string
  /** before each blob pulled, a line `DIGEST SIZE` (python-dxf's DXF_BLOB_INFO) */
  blobInfo?: boolean
  /** pull hands the blob on in pieces of this many bytes (the last one shorter): python-dxf's DXF_CHUNK_SIZE */
  chunkSize?: number
}

/** aliasArg returns NAME for an `@NAME` argument (a usage error otherwise), as dxf's push/mount take it. */
export function aliasArg(arg: string | undefined): string | undefined {
  if (arg === undefined) return undefined
  if (!arg.startsWith('@') || arg.length < 2) throw new UsageError(`${arg}: an alias is given as @NAME`, {code: 'BAD_ALIAS'})
  return arg.slice(1)
}

/** resolveBlobs turns `DIGEST` and `@ALIAS` arguments into digests. */
export async function resolveBlobs(repo: RepositoryClient, items: string[], platform?: Platform): Promise<string[]> {
  const out: string[] = []
  for (const it of items) {
    if (it.startsWith('@')) out.push(...(await aliasDigests(repo, it.slice(1), platform)))
    else if (isDigest(it)) out.push(it)
    else throw new UsageError(`${it}: not a digest (sha256:…) or @ALIAS`, {code: 'BAD_DIGEST'})
  }
  return out
}

/** push uploads a file (hashed first: skipped when the registry has it) or stdin (`-`, hashed while streaming). */
export function push(repoName: Repository, file: string, input: Readable, options: BlobStoreOptions = {}): Promise<{digest: string; size: number; uploaded: boolean}> {
  return withSession(options, async (s) => {
    const repo = s.repository(repoName)
    const emit = options.onEvent ?? (() => {})
    let r: {digest: string; size: number; uploaded: boolean}
    if (file !== '-') {
      let done = 0
      const pushed = await pushFileBlob(repo, file, (n) => {
        done += n
        emit({type: 'blob-bytes', digest: 'upload', bytes: n, done, size: done})
      })
      r = {...pushed, uploaded: done > 0}
    } else {
      r = {...(await pushStream(repo, input, emit)), uploaded: true}
    }
    if (options.alias !== undefined) await setAlias(repo, options.alias, [r])
    return r
  })
}

/** pushStream streams bytes of unknown digest and size: one streamed PATCH, then the final PUT names the digest. */
async function pushStream(repo: RepositoryClient, input: Readable, emit: (e: TransferEvent) => void): Promise<{digest: string; size: number}> {
  const scopes = [repositoryScope(repo.repository, 'pull', 'push')]
  const context = {subject: repo.name, what: 'blob upload'}
  const start = await repo.transport.request({method: 'POST', path: `/v2/${repo.repository}/blobs/uploads/`, scopes, expect: [202], context})
  await drain(start.body)
  const location = [start.headers.location].flat()[0]
  if (!location) throw new RegistryError(`blob upload ${repo.name}: the registry gave no upload location`, {code: 'BAD_RESPONSE'})
  const digester = createDigester('sha256')
  let done = 0
  const hashing = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      digester.update(chunk)
      done += chunk.length
      emit({type: 'blob-bytes', digest: 'stdin', bytes: chunk.length, done, size: done})
      cb(null, chunk)
    },
  })
  input.on('error', (e) => hashing.destroy(e))
  const body = input.pipe(hashing)
  const patch = await repo.transport.request({
    method: 'PATCH',
    path: uploadUrl(location, start.url, repo.name).toString(),
    scopes,
    headers: {'content-type': 'application/octet-stream'},
    body: () => body,
    retry: false,
    expect: [202, 204],
    context,
  })
  await drain(patch.body)
  const digest = digester.digest()
  const next = [patch.headers.location].flat()[0] ?? location
  const url = uploadUrl(next, patch.url, repo.name)
  url.searchParams.set('digest', digest)
  const put = await repo.transport.request({method: 'PUT', path: url.toString(), scopes, headers: {'content-length': '0'}, body: Buffer.alloc(0), expect: [201, 204], context})
  await drain(put.body)
  return {digest, size: done}
}

/**
 * pull writes blobs, verified, to `out`, or to `file`: through a temporary file renamed into
 * place only when every byte matched, so nothing is written on a mismatch.
 */
export function pull(repoName: Repository, items: string[], target: {out?: Writable; file?: string}, options: BlobStoreOptions = {}): Promise<string[]> {
  return withSession(options, async (s) => {
    const repo = s.repository(repoName)
    const digests = await resolveBlobs(repo, items, options.platform)
    const emit = options.onEvent ?? (() => {})
    const stage = target.file ? `${path.join(path.dirname(target.file), `.${path.basename(target.file)}.${process.pid}.tmp`)}` : undefined
    try {
      const sink = stage ? createWriteStream(stage) : (target.out ?? new PassThrough())
      for (const [i, digest] of digests.entries()) {
        const size = await repo.headBlob(digest)
        if (size === undefined) throw new NotFoundError(`blob ${repo.name}@${digest}: not found`, {code: 'BLOB_UNKNOWN'})
        if (options.blobInfo) await new Promise<void>((resolve, reject) => sink.write(`${digest} ${size}\n`, (e) => (e ? reject(e) : resolve())))
        const stream = await repo.blob(digest, size)
        let done = 0
        const count = counter((n) => {
          // pieces written on are dead at once: collect them young (io/reclaim.ts; a 48 MiB
          // blob: to a file 0.47-0.49 -> 0.37-0.38 s, to stdout 0.42-0.45 -> 0.30-0.31 s)
          reclaim(n)
          done += n
          emit({type: 'blob-bytes', digest, bytes: n, done, size})
        })
        const end = {end: stage !== undefined && i === digests.length - 1}
        await (options.chunkSize ? pipeline(stream, (source: AsyncIterable<Buffer>) => exactPieces(source, options.chunkSize!), count, sink, end) : pipeline(stream, count, sink, end))
      }
      if (stage && digests.length === 0) sink.end()
      if (stage) await rename(stage, target.file!)
      return digests
    } catch (e) {
      if (stage) await unlink(stage).catch(() => {})
      throw e
    }
  })
}

/**
 * sizes returns one entry per argument: a blob's size, or for @ALIAS the sum of its blobs'
 * (as python-dxf's blob-size prints them); NotFound for a missing blob.
 */
export function sizes(repoName: Repository, items: string[], options: BlobStoreOptions = {}): Promise<Array<{name: string; size: number; blobs: Array<{digest: string; size: number}>}>> {
  return withSession(options, async (s) => {
    const repo = s.repository(repoName)
    const out: Array<{name: string; size: number; blobs: Array<{digest: string; size: number}>}> = []
    for (const it of items) {
      const digests = it.startsWith('@') ? (await aliasBlobs(repo, it.slice(1), options.platform)).map((d) => d.digest) : await resolveBlobs(repo, [it])
      const blobs: Array<{digest: string; size: number}> = []
      for (const digest of digests) {
        const size = await repo.headBlob(digest)
        if (size === undefined) throw new NotFoundError(`blob ${repo.name}@${digest}: not found`, {code: 'BLOB_UNKNOWN'})
        blobs.push({digest, size})
      }
      out.push({name: it, size: blobs.reduce((n, b) => n + b.size, 0), blobs})
    }
    return out
  })
}

/** mount links a blob from another repository of the same registry (no bytes move); with options.alias, names it. */
export function mount(repoName: Repository, from: Repository, digest: string, options: BlobStoreOptions = {}): Promise<void> {
  if (from.registry !== repoName.registry) throw new UsageError(`blob mount: ${from.name} is on another registry than ${repoName.name}`)
  if (!isDigest(digest)) throw new UsageError(`${digest}: not a digest (sha256:…)`, {code: 'BAD_DIGEST'})
  return withSession(options, async (s) => {
    const repo = s.repository(repoName)
    const mounted = (await repo.mountBlob(digest, from.repository)) || (await repo.headBlob(digest)) !== undefined
    if (!mounted) throw new NotFoundError(`blob ${from.name}@${digest}: the registry would not mount it into ${repo.name}`, {code: 'MOUNT_FAILED'})
    if (options.alias !== undefined) {
      const size = await repo.headBlob(digest)
      await setAlias(repo, options.alias, [{digest, size: size ?? 0}])
    }
  })
}

/** remove deletes blobs (digests, or every blob an @ALIAS names; the alias itself stays) and returns their digests. */
export function remove(repoName: Repository, items: string[], options: BlobStoreOptions = {}): Promise<string[]> {
  return withSession(options, async (s) => {
    const repo = s.repository(repoName)
    const digests = await resolveBlobs(repo, items, options.platform)
    for (const d of digests) await repo.deleteBlob(d)
    return digests
  })
}
