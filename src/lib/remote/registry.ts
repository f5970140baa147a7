/**
 * registry: the distribution-spec API of one repository (manifests, blobs, tags, uploads)
 * and of a registry (catalog), on top of the transport. Values in, values out: no printing.
 */
import {Readable} from 'node:stream'
import {IntegrityError, RegistryError} from '../errors.js'
import {verify} from '../io/verify.js'
import {MANIFEST_ACCEPT} from '../oci/media-types.js'
import {MAX_MANIFEST_BYTES, parseManifest} from '../oci/manifest.js'
import {digestOf, isDigestAlgorithm} from '../oci/digest.js'
import type {Descriptor} from '../oci/types.js'
import type {RegistryTransport} from './transport/client.js'
import {type BodyFactory, drain, readBody} from './transport/http.js'
import {repositoryScope} from './transport/scope.js'
import {type ListLimits, headerValue, paginate} from './pages.js'
import {uploadUrl} from './upload.js'

export {DEFAULT_MAX_PAGES, type ListLimits, catalog, eachCatalogPage, nextLink} from './pages.js'

export {type UploadOptions, uploadStream} from './upload.js'

export interface ManifestResult {
  bytes: Buffer
  mediaType: string
  digest: string
}

export interface ManifestHead {
  digest: string
  mediaType: string
  size: number
}


export class RepositoryClient {
  readonly name: string

  constructor(
    readonly transport: RegistryTransport,
    readonly repository: string,
  ) {
    this.name = `${transport.registry}/${repository}`
  }

  private pull(): string[] {
    return [repositoryScope(this.repository, 'pull')]
  }

  private subject(reference?: string): string {
    if (!reference) return this.name
    return reference.includes(':') && /^[a-z0-9]+:[a-f0-9]+$/.test(reference) ? `${this.name}@${reference}` : `${this.name}:${reference}`
  }

  /** getManifest fetches the exact bytes of a manifest by tag or digest, verified. */
  async getManifest(reference: string, accept: readonly string[] = MANIFEST_ACCEPT): Promise<ManifestResult> {
    const res = await this.transport.request({
      method: 'GET',
      path: `/v2/${this.repository}/manifests/${reference}`,
      scopes: this.pull(),
      headers: {accept: accept.join(', ')},
      expect: [200],
      context: {subject: this.subject(reference), what: 'manifest'},
    })
    const bytes = await readBody(res.body, MAX_MANIFEST_BYTES, `manifest ${this.subject(reference)}`)
    const header = headerValue(res.headers['docker-content-digest'])
    const byDigest = /^[a-z0-9]+:[a-f0-9]+$/.test(reference) ? reference : undefined
    // the header's algorithm when it is one we know; an empty or unknown one is not checked
    const headerAlgorithm = header?.split(':')[0]
    const algorithm = byDigest?.split(':')[0] ?? (headerAlgorithm && isDigestAlgorithm(headerAlgorithm) ? headerAlgorithm : 'sha256')
    const digest = digestOf(bytes, algorithm)
    if (byDigest && digest !== byDigest) {
      throw new IntegrityError(`manifest ${this.subject(reference)}: the registry sent bytes that hash to ${digest}`, {code: 'DIGEST_MISMATCH'})
    }
    if (header && header.split(':')[0] === algorithm && header !== digest) {
      throw new IntegrityError(`manifest ${this.subject(reference)}: bytes hash to ${digest} but Docker-Content-Digest says ${header}`, {code: 'DIGEST_MISMATCH'})
    }
    const contentType = headerValue(res.headers['content-type'])
    if (contentType && /text\/html/i.test(contentType)) {
      throw new RegistryError(`${this.transport.registry}: answered an HTML page for manifest ${this.subject(reference)}: is this a registry?`, {code: 'NOT_A_REGISTRY'})
    }
    const mediaType = mediaTypeOf(bytes, contentType)
    try {
      parseManifest(bytes, mediaType) // a clear error for what is not a manifest
    } catch (e) {
      throw new RegistryError(`manifest ${this.subject(reference)}: ${(e as Error).message}`, {code: 'BAD_MANIFEST', cause: e})
    }
    return {bytes, mediaType, digest}
  }

  /** headManifest asks for a manifest's digest without its body; undefined when absent. */
  async headManifest(reference: string, accept: readonly string[] = MANIFEST_ACCEPT): Promise<ManifestHead | undefined> {
    const res = await this.transport.request({
      method: 'HEAD',
      path: `/v2/${this.repository}/manifests/${reference}`,
      scopes: this.pull(),
      headers: {accept: accept.join(', ')},
      expect: [200],
      allow: [404],
      context: {subject: this.subject(reference), what: 'manifest'},
    })
    await drain(res.body)
    if (res.status === 404) return undefined
    const digest = headerValue(res.headers['docker-content-digest'])
    const mediaType = headerValue(res.headers['content-type'])
    const size = Number(headerValue(res.headers['content-length']))
    if (!digest || !mediaType || !Number.isFinite(size)) return {digest: '', mediaType: mediaType ?? '', size: Number.isFinite(size) ? size : -1}
    return {digest, mediaType, size}
  }

  /** putManifest stores manifest bytes under a tag or digest and returns their digest. */
  async putManifest(reference: string, bytes: Buffer, mediaType: string): Promise<string> {
    return (await this.putManifestResult(reference, bytes, mediaType)).digest
  }

  /** putManifestResult is putManifest, also saying whether the registry answered `OCI-Subject` (it indexed the referrer). */
  async putManifestResult(reference: string, bytes: Buffer, mediaType: string): Promise<{digest: string; ociSubject?: string}> {
    const res = await this.transport.request({
      method: 'PUT',
      path: `/v2/${this.repository}/manifests/${reference}`,
      scopes: [repositoryScope(this.repository, 'pull', 'push')],
      headers: {'content-type': mediaType},
      body: bytes,
      expect: [201, 200, 202],
      context: {subject: this.subject(reference), what: 'manifest'},
    })
    await drain(res.body)
    const digest = digestOf(bytes, 'sha256')
    const header = headerValue(res.headers['docker-content-digest'])
    if (header && header.startsWith('sha256:') && header !== digest) {
      throw new IntegrityError(`manifest ${this.subject(reference)}: registry stored it as ${header}, expected ${digest}`, {code: 'DIGEST_MISMATCH'})
    }
    return {digest, ociSubject: headerValue(res.headers['oci-subject'])}
  }

  /**
   * referrers lists the referrers of a subject through the referrers API (every page), or
   * answers `api: false` when the registry has no such API (404), so the caller reads the
   * fallback tag. `filtered` is true when the registry applied `artifactType` itself.
   */
  async referrers(digest: string, artifactType?: string): Promise<{api: boolean; manifests: Descriptor[]; filtered: boolean}> {
    const query = artifactType ? `?artifactType=${encodeURIComponent(artifactType)}` : ''
    const first = `/v2/${this.repository}/referrers/${digest}${query}`
    const context = {subject: `${this.name}@${digest}`, what: 'referrers of'}
    const manifests: Descriptor[] = []
    let filtered = false
    // 404/400/405 on the first page: no referrers API here (fallback tags are the caller's)
    const api = await paginate(
      this.transport,
      first,
      this.pull(),
      context,
      (doc, headers) => {
        const list = (doc as {manifests?: unknown}).manifests
        if (!Array.isArray(list)) throw new RegistryError(`referrers of ${this.name}@${digest}: the registry answered something that is not an index`, {code: 'BAD_RESPONSE'})
        for (const d of list as Descriptor[]) if (d && typeof d.digest === 'string') manifests.push(d)
        if (/artifactType/i.test(headerValue(headers['oci-filters-applied']) ?? '')) filtered = true
      },
      [404, 400, 405],
    )
    return {api, manifests, filtered}
  }

  /** deleteBlob deletes a blob from the repository (registries may refuse: 405). */
  async deleteBlob(digest: string): Promise<void> {
    const res = await this.transport.request({
      method: 'DELETE',
      path: `/v2/${this.repository}/blobs/${digest}`,
      scopes: [repositoryScope(this.repository, 'delete')],
      expect: [202, 200, 204],
      context: {subject: `${this.name}@${digest}`, what: 'blob'},
    })
    await drain(res.body)
  }

  /** deleteManifest deletes a manifest by digest. */
  async deleteManifest(digest: string): Promise<void> {
    const res = await this.transport.request({
      method: 'DELETE',
      path: `/v2/${this.repository}/manifests/${digest}`,
      scopes: [repositoryScope(this.repository, 'delete')],
      expect: [202, 200, 204],
      context: {subject: this.subject(digest), what: 'manifest'},
    })
    await drain(res.body)
  }

  /** tags lists every tag, following `Link: rel="next"` (at most `limits.maxPages` pages). n=1000: larger pages are refused by some registries. */
  async tags(limits: ListLimits = {}): Promise<string[]> {
    const out: string[] = []
    await this.eachTagPage((tags) => out.push(...tags), limits)
    return out
  }

  /** eachTagPage hands each page of tags to `onPage` as it arrives, keeping none: a listing of any length in bounded memory. */
  async eachTagPage(onPage: (tags: string[]) => void, limits: ListLimits = {}): Promise<void> {
    await paginate(
      this.transport,
      `/v2/${this.repository}/tags/list?n=1000`,
      this.pull(),
      {subject: this.name, what: 'tags of'},
      (doc) => {
        const tags = (doc as {tags?: unknown}).tags
        if (tags !== null && tags !== undefined && !Array.isArray(tags)) throw new RegistryError(`tags of ${this.name}: the registry answered a malformed list`, {code: 'BAD_RESPONSE'})
        onPage(((tags as unknown[] | null) ?? []).filter((t): t is string => typeof t === 'string'))
      },
      [],
      limits,
    )
  }

  /** blob streams a blob, verified against its digest (and size when known). */
  async blob(digest: string, size?: number): Promise<Readable> {
    const {stream, size: length} = await this.blobStream(digest, size)
    const checker = verify(digest, size ?? length, {what: `blob ${this.name}@${digest}`})
    stream.on('error', (e) => checker.destroy(e))
    return stream.pipe(checker)
  }

  /**
   * blobStream streams a blob's bytes unverified (the caller verifies). When the connection
   * drops mid-body, it asks again with `Range: bytes=N-` (up to `resumes` times) and carries
   * on, so a large download survives a flaky network without starting over.
   */
  async blobStream(digest: string, size?: number, resumes = 5): Promise<{stream: Readable; size?: number}> {
    const context = {subject: `${this.name}@${digest}`, what: 'blob'}
    const first = await this.transport.request({method: 'GET', path: `/v2/${this.repository}/blobs/${digest}`, scopes: this.pull(), expect: [200], context})
    const length = Number(headerValue(first.headers['content-length']) ?? NaN)
    // the registry's own length says the blob is not the size its descriptor says: no download
    // (or resuming one) can fix that, it is a wrong descriptor or a wrong blob (issue 12, item 8)
    if (size !== undefined && Number.isFinite(length) && length !== size) {
      first.body.destroy()
      throw sizeMismatch(this.name, digest, size, length)
    }
    const total = size ?? (Number.isFinite(length) ? length : undefined)
    if (total === undefined) return {stream: first.body}
    // one Readable fed by the current response: pieces go on as they come, and the response
    // pauses while the reader is behind (cheaper than piping through a PassThrough)
    let current = first.body
    const out = new Readable({
      highWaterMark: 64 * 1024,
      read: () => {
        current.resume()
      },
      destroy: (err, cb) => {
        current.destroy()
        cb(err)
      },
    })
    let received = 0
    let left = resumes
    const pump = (body: Readable): void => {
      current = body
      body.on('data', (chunk: Buffer) => {
        received += chunk.length
        if (!out.push(chunk)) body.pause()
      })
      body.once('end', () => {
        if (received >= total) out.push(null)
        else retry(new RegistryError(`blob ${this.name}@${digest}: connection closed after ${received} of ${total} bytes`, {code: 'TRUNCATED'}))
      })
      body.once('error', (e) => retry(e))
    }
    const retry = (e: unknown): void => {
      if (out.destroyed) return
      if (left-- <= 0 || received >= total) {
        out.destroy(e as Error)
        return
      }
      this.transport
        .request({
          method: 'GET',
          path: `/v2/${this.repository}/blobs/${digest}`,
          scopes: this.pull(),
          headers: {range: `bytes=${received}-`},
          expect: [206],
          context,
        })
        .then((res) => {
          const range = /^bytes (\d+)-\d+\/(\d+|\*)/.exec(headerValue(res.headers['content-range']) ?? '')
          if (range && range[2] !== '*' && Number(range[2]) !== total) {
            res.body.destroy()
            out.destroy(sizeMismatch(this.name, digest, total, Number(range[2])))
            return
          }
          if (!range || Number(range[1]) !== received) {
            res.body.destroy()
            out.destroy(new RegistryError(`blob ${this.name}@${digest}: the registry cannot resume the download at byte ${received}`, {code: 'NO_RANGE'}))
            return
          }
          pump(res.body)
        })
        .catch((err: unknown) => out.destroy(err as Error))
    }
    pump(first.body)
    return {stream: out, size: total}
  }

  /** headBlob returns a blob's size, or undefined when the repository does not have it. */
  async headBlob(digest: string): Promise<number | undefined> {
    const res = await this.transport.request({
      method: 'HEAD',
      path: `/v2/${this.repository}/blobs/${digest}`,
      scopes: this.pull(),
      expect: [200],
      allow: [404],
      context: {subject: `${this.name}@${digest}`, what: 'blob'},
    })
    await drain(res.body)
    if (res.status === 404) return undefined
    return Number(headerValue(res.headers['content-length']))
  }

  /** mountBlob asks the registry to link a blob from another repository; false when it would not. */
  async mountBlob(digest: string, from: string): Promise<boolean> {
    this.transport.auth.want([repositoryScope(from, 'pull')])
    const res = await this.transport.request({
      method: 'POST',
      path: `/v2/${this.repository}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`,
      scopes: [repositoryScope(this.repository, 'pull', 'push'), repositoryScope(from, 'pull')],
      expect: [201, 202],
      context: {subject: `${this.name}@${digest}`, what: 'blob mount'},
    })
    await drain(res.body)
    if (res.status === 201) return true
    // 202: an upload session was opened instead; leave it to expire, as clients do
    return false
  }

  /**
   * uploadBlob uploads a blob monolithically (POST for a session, then PUT with the digest).
   * `body` is a Buffer, or a factory called again when the upload must be restarted.
   */
  async uploadBlob(digest: string, size: number, body: Buffer | BodyFactory): Promise<void> {
    const push = [repositoryScope(this.repository, 'pull', 'push')]
    const context = {subject: `${this.name}@${digest}`, what: 'blob upload'}
    const start = await this.transport.request({method: 'POST', path: `/v2/${this.repository}/blobs/uploads/`, scopes: push, expect: [202], context})
    await drain(start.body)
    const location = headerValue(start.headers.location)
    if (!location) throw new RegistryError(`blob upload ${this.name}: the registry gave no upload location`, {code: 'BAD_RESPONSE'})
    const url = uploadUrl(location, start.url, this.name)
    url.searchParams.set('digest', digest)
    const done = await this.transport.request({
      method: 'PUT',
      path: url.toString(),
      scopes: push,
      headers: {'content-type': 'application/octet-stream', 'content-length': String(size)},
      body,
      expect: [201, 204],
      context,
    })
    await drain(done.body)
  }
}

/** sizeMismatch: a blob whose length is not its descriptor's (exit 6) */
function sizeMismatch(name: string, digest: string, expected: number, got: number): IntegrityError {
  return new IntegrityError(`blob ${name}@${digest}: expected ${expected} bytes, the registry has ${got}`, {code: 'SIZE_MISMATCH'})
}


function mediaTypeOf(bytes: Buffer, contentType: string | undefined): string {
  try {
    const doc = JSON.parse(bytes.toString('utf8')) as {mediaType?: unknown}
    if (typeof doc.mediaType === 'string' && doc.mediaType !== '') return doc.mediaType
  } catch {
    // not JSON: the caller's parser says so
  }
  return (contentType ?? '').split(';')[0].trim()
}
