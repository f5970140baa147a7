/**
 * ratelimit: Docker Hub's pull limits, as it reports them on a manifest HEAD (which does not
 * count as a pull): `ratelimit-limit: 100;w=21600`, `ratelimit-remaining: 76;w=21600`,
 * `docker-ratelimit-source: <ip or account>`. https://docs.docker.com/docker-hub/download-rate-limit/
 */
import {MANIFEST_ACCEPT} from '../oci/media-types.js'
import type {RepositoryClient} from './registry.js'
import {drain} from './transport/http.js'
import {repositoryScope} from './transport/scope.js'

export interface RateLimitValue {
  /** requests */
  count: number
  /** the window in seconds (`w=`), when given */
  windowSeconds?: number
}

export interface RateLimit {
  limit?: RateLimitValue
  remaining?: RateLimitValue
  /** who is counted: an IP address or an account id */
  source?: string
}

/** rateLimit HEADs `reference` in `repo` and reads the rate-limit headers (none: an empty object). */
export async function rateLimit(repo: RepositoryClient, reference: string): Promise<RateLimit> {
  const res = await repo.transport.request({
    method: 'HEAD',
    path: `/v2/${repo.repository}/manifests/${reference}`,
    scopes: [repositoryScope(repo.repository, 'pull')],
    headers: {accept: MANIFEST_ACCEPT.join(', ')},
    expect: [200],
    context: {subject: `${repo.name}:${reference}`, what: 'manifest'},
  })
  await drain(res.body)
  const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v)
  const out: RateLimit = {}
  const limit = parseValue(one(res.headers['ratelimit-limit']))
  const remaining = parseValue(one(res.headers['ratelimit-remaining']))
  const source = one(res.headers['docker-ratelimit-source'])
  if (limit) out.limit = limit
  if (remaining) out.remaining = remaining
  if (source) out.source = source
  return out
}

/** parseValue reads `100;w=21600` (the window is optional); undefined for what is not that. */
export function parseValue(v: string | undefined): RateLimitValue | undefined {
  const m = /^\s*(\d+)\s*(?:;\s*w\s*=\s*(\d+))?/.exec(v ?? '')
  if (!m) return undefined
  return {count: Number(m[1]), ...(m[2] ? {windowSeconds: Number(m[2])} : {})}
}
