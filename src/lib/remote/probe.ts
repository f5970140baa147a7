/**
 * probe: what a registry can do, asked of the registry itself (`registry info`). Read-only
 * questions by default: API version, catalog, referrers API, rate-limit headers. With `write`,
 * a scratch repository is used to try what needs writing: a chunked upload (PATCH with
 * Content-Range, then GET on the session for its offset; `OCI-Chunk-Min-Length`), a
 * cross-repository mount, and deleting a tag; what it made is deleted again where the registry
 * allows. Each answer comes with the evidence (status or header) it rests on.
 */
import {createHash} from 'node:crypto'
import {isOcitoolError} from '../errors.js'
import type {RepositoryClient} from './registry.js'
import type {Session} from './session.js'
import {CATALOG_SCOPE, repositoryScope} from './transport/scope.js'
import {drain} from './transport/http.js'
import type {RawResponse} from './transport/http.js'

export interface Capability {
  /** true / false; undefined when not asked (needs --write) or the answer was unclear */
  supported?: boolean
  detail: string
}

export interface RegistryInfo {
  registry: string
  apiVersion?: string
  catalog: Capability
  referrers: Capability
  chunkedUpload: Capability
  /** `OCI-Chunk-Min-Length` from the upload session, when given */
  chunkMinLength?: number
  mount: Capability
  tagDelete: Capability
  rateLimit: Capability
}

export interface ProbeOptions {
  /** the repository used for repository-level questions (default `ocitool-probe`) */
  repository?: string
  /** try the capabilities that need writing (upload, mount, tag delete) */
  write?: boolean
  /**
   * ask only these (sync asks what its strategy needs, when it needs it): no `GET /v2/` then,
   * and the write questions are asked when listed, without `write`
   */
  questions?: ProbeQuestion[]
  /** the repository a blob is mounted into (default `<repository>-mount`) */
  mountInto?: string
}

export type ProbeQuestion = 'catalog' | 'referrers' | 'chunkedUpload' | 'mount' | 'tagDelete'

const RATE_HEADERS = ['ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset', 'x-ratelimit-limit', 'x-ratelimit-remaining', 'retry-after']

export async function probeRegistry(session: Session, registry: string, apiHost: string, options: ProbeOptions = {}): Promise<RegistryInfo> {
  const transport = session.transport(registry, apiHost)
  const repoName = options.repository ?? 'ocitool-probe'
  const repo = session.repository({registry, apiHost, repository: repoName})
  const rate = new Map<string, string>()
  const note = (res: RawResponse) => {
    for (const h of RATE_HEADERS) {
      const v = res.headers[h]
      if (v !== undefined) rate.set(h, Array.isArray(v) ? v[0] : v)
    }
  }
  const ask = async (method: string, path: string, scopes: string[], extra: {headers?: Record<string, string>; body?: Buffer} = {}) => {
    const res = await transport.request({method, path, scopes, headers: extra.headers, body: extra.body, expect: [200, 201, 202, 204], allow: [400, 401, 403, 404, 405, 416, 501], retry: false, context: {subject: registry, what: 'probe of'}})
    note(res)
    await drain(res.body)
    return res
  }
  const safe = async (fn: () => Promise<Capability>): Promise<Capability> => {
    try {
      return await fn()
    } catch (e) {
      return {detail: `error: ${isOcitoolError(e) || e instanceof Error ? e.message : String(e)}`}
    }
  }

  const asked = (q: ProbeQuestion) => (options.questions ? options.questions.includes(q) : q === 'catalog' || q === 'referrers' || options.write === true)
  const notAsked: Capability = {detail: options.questions ? 'not asked' : 'not asked (needs --write)'}
  const base = options.questions ? undefined : await ask('GET', '/v2/', [])
  const apiVersion = base && header(base, 'docker-distribution-api-version')
  const catalog = !asked('catalog') ? notAsked : await safe(async () => {
    const res = await ask('GET', '/v2/_catalog?n=1', [CATALOG_SCOPE])
    return res.status === 200 ? {supported: true, detail: 'GET /v2/_catalog: 200'} : {supported: false, detail: `GET /v2/_catalog: ${res.status}`}
  })
  const referrers = !asked('referrers') ? notAsked : await safe(async () => {
    const digest = `sha256:${createHash('sha256').update('ocitool-probe').digest('hex')}`
    const res = await ask('GET', `/v2/${repoName}/referrers/${digest}`, [repositoryScope(repoName, 'pull')])
    return res.status === 200 ? {supported: true, detail: 'GET /v2/…/referrers/<digest>: 200'} : {supported: false, detail: `GET /v2/…/referrers/<digest>: ${res.status} (tag fallback: sha256-<hex>)`}
  })
  let chunkMinLength: number | undefined
  const chunkedUpload = !asked('chunkedUpload') ? notAsked : await safe(async () => {
    const r = await chunked(repo, ask)
    chunkMinLength = r.min
    return r.capability
  })
  const mount = !asked('mount') ? notAsked : await safe(() => tryMount(session, registry, apiHost, repo, options.mountInto ?? `${repoName}-mount`, ask))
  const tagDelete = !asked('tagDelete') ? notAsked : await safe(() => tryTagDelete(repo, repoName, ask))
  const rateLimit: Capability = rate.size > 0 ? {supported: true, detail: [...rate].map(([k, v]) => `${k}: ${v}`).join(', ')} : {supported: false, detail: 'no rate-limit headers seen'}
  return {registry, ...(apiVersion ? {apiVersion} : {}), catalog, referrers, chunkedUpload, ...(chunkMinLength ? {chunkMinLength} : {}), mount, tagDelete, rateLimit}
}

type Ask = (method: string, path: string, scopes: string[], extra?: {headers?: Record<string, string>; body?: Buffer}) => Promise<RawResponse>

/** chunked: POST a session, PATCH 4 bytes at 0-3, GET the session (Range 0-3), then cancel it */
async function chunked(repo: RepositoryClient, ask: Ask): Promise<{capability: Capability; min?: number}> {
  const push = [repositoryScope(repo.repository, 'pull', 'push')]
  const start = await ask('POST', `/v2/${repo.repository}/blobs/uploads/`, push)
  if (start.status !== 202) return {capability: {supported: false, detail: `POST …/blobs/uploads/: ${start.status}`}}
  const min = Number(header(start, 'oci-chunk-min-length')) || undefined
  const url = new URL(header(start, 'location') ?? '', start.url)
  const patch = await ask('PATCH', url.toString(), push, {headers: {'content-type': 'application/octet-stream', 'content-range': '0-3'}, body: Buffer.from('oci!')})
  if (patch.status !== 202) return {capability: {supported: false, detail: `PATCH with Content-Range: ${patch.status}`}, min}
  const next = new URL(header(patch, 'location') ?? url.toString(), patch.url)
  const status = await ask('GET', next.toString(), push)
  await ask('DELETE', next.toString(), push).catch(() => undefined)
  const range = header(status, 'range')
  const resumable = status.status === 204 && range === '0-3'
  return {capability: {supported: true, detail: `PATCH with Content-Range: 202; GET on the session: ${status.status}${range ? ` Range ${range}` : ''}${resumable ? ' (resumable)' : ' (no offset: not resumable)'}`}, min}
}

/** tryMount: a 2-byte blob (`{}`, OCI's empty descriptor) into REPO, mounted into `into` (201: mounted; 202: an upload instead) */
async function tryMount(session: Session, registry: string, apiHost: string, repo: RepositoryClient, into: string, ask: Ask): Promise<Capability> {
  const repoName = repo.repository
  const bytes = Buffer.from('{}')
  const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`
  await repo.uploadBlob(digest, bytes.length, bytes)
  const other = session.repository({registry, apiHost, repository: into})
  other.transport.auth.want([repositoryScope(repoName, 'pull')])
  const res = await ask('POST', `/v2/${other.repository}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(repoName)}`, [repositoryScope(other.repository, 'pull', 'push'), repositoryScope(repoName, 'pull')])
  if (res.status === 202) await ask('DELETE', new URL(header(res, 'location') ?? '', res.url).toString(), [repositoryScope(other.repository, 'pull', 'push')]).catch(() => undefined)
  return res.status === 201 ? {supported: true, detail: 'POST ?mount=&from=: 201'} : {supported: false, detail: `POST ?mount=&from=: ${res.status}${res.status === 202 ? ' (an upload session instead)' : ''}`}
}

/** tryTagDelete: a tiny manifest under a scratch tag, DELETE by tag, then by digest to clean up */
async function tryTagDelete(repo: RepositoryClient, repoName: string, ask: Ask): Promise<Capability> {
  const config = Buffer.from('{}')
  const configDigest = `sha256:${createHash('sha256').update(config).digest('hex')}`
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: {mediaType: 'application/vnd.oci.empty.v1+json', digest: configDigest, size: 2}, layers: [],
  }))
  if ((await repo.headBlob(configDigest)) === undefined) await repo.uploadBlob(configDigest, config.length, config)
  const digest = await repo.putManifest('ocitool-probe-tag', manifest, 'application/vnd.oci.image.manifest.v1+json')
  const del = [repositoryScope(repoName, 'delete')]
  const res = await ask('DELETE', `/v2/${repoName}/manifests/ocitool-probe-tag`, del)
  const cleaned = await ask('DELETE', `/v2/${repoName}/manifests/${digest}`, del).then((r) => r.status).catch(() => 0)
  const tail = cleaned === 202 ? '' : ' (the probe manifest could not be deleted)'
  return res.status === 202 || res.status === 200 ? {supported: true, detail: `DELETE …/manifests/<tag>: ${res.status}${tail}`} : {supported: false, detail: `DELETE …/manifests/<tag>: ${res.status} (only by digest, or not at all)${tail}`}
}

function header(res: RawResponse, name: string): string | undefined {
  const v = res.headers[name]
  return Array.isArray(v) ? v[0] : v
}
