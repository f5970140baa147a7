/**
 * pages: listings that span pages (`Link: rel="next"`): the catalog, and the pagination that
 * tags and referrers share. Each page is handed on and dropped; a listing that never ends is
 * stopped by a bound.
 */
import {RegistryError} from '../errors.js'
import type {RegistryTransport} from './transport/client.js'
import {drain, readBody, webUrl} from './transport/http.js'
import {CATALOG_SCOPE} from './transport/scope.js'

const LIST_CAP = 16 * 1024 * 1024

/** catalog lists every repository of a registry, following `Link: rel="next"` (at most `limits.maxPages` pages). */
export async function catalog(transport: RegistryTransport, limits: ListLimits = {}): Promise<string[]> {
  const out: string[] = []
  await eachCatalogPage(transport, (repos) => out.push(...repos), limits)
  return out
}

/** eachCatalogPage hands each page of repository names to `onPage` as it arrives, keeping none. */
export async function eachCatalogPage(transport: RegistryTransport, onPage: (repositories: string[]) => void, limits: ListLimits = {}): Promise<void> {
  await paginate(
    transport,
    '/v2/_catalog?n=1000',
    [CATALOG_SCOPE],
    {subject: transport.registry, what: 'catalog of'},
    (doc) => {
      const repos = (doc as {repositories?: unknown}).repositories
      if (repos !== null && repos !== undefined && !Array.isArray(repos)) throw new RegistryError(`catalog of ${transport.registry}: the registry answered a malformed list`, {code: 'BAD_RESPONSE'})
      onPage(((repos as unknown[] | null) ?? []).filter((r): r is string => typeof r === 'string'))
    },
    [],
    limits,
  )
}

/** ListLimits bounds a paginated listing: a registry whose `Link: rel="next"` never ends is stopped. */
export interface ListLimits {
  /** pages followed at most (default DEFAULT_MAX_PAGES; 0: no bound) */
  maxPages?: number
}

/** pages of a listing followed by default: a million tags at n=1000, 100,000 where a registry sends 100 */
export const DEFAULT_MAX_PAGES = 1000

/**
 * paginate reads a listing page by page: each parsed page goes to `onPage` and is dropped, so
 * memory does not grow with the listing. A next link seen before (a loop) and more pages than
 * `limits.maxPages` (a registry whose next link changes forever) are errors (exit 5).
 */
export async function paginate(
  transport: RegistryTransport,
  first: string,
  scopes: string[],
  context: {subject: string; what: string},
  onPage: (doc: unknown, headers: Record<string, string | string[] | undefined>) => void,
  /** statuses of the first page meaning "this registry has no such endpoint": paginate answers false */
  absent: number[] = [],
  limits: ListLimits = {},
): Promise<boolean> {
  const maxPages = limits.maxPages ?? DEFAULT_MAX_PAGES
  let path: string | undefined = first
  const seen = new Set<string>()
  while (path) {
    if (seen.has(path)) throw new RegistryError(`${context.what} ${context.subject}: the registry's pages loop (a next link repeats)`, {code: 'BAD_RESPONSE'})
    if (maxPages > 0 && seen.size >= maxPages) {
      throw new RegistryError(`${context.what} ${context.subject}: the registry still names a next page after ${maxPages} pages; stopped (raise the bound with --max-pages)`, {code: 'TOO_MANY_PAGES'})
    }
    seen.add(path)
    const res = await transport.request({method: 'GET', path, scopes, expect: [200], allow: path === first ? absent : [], context})
    if (res.status !== 200) {
      await drain(res.body)
      return false
    }
    const body = await readBody(res.body, LIST_CAP, `${context.what} ${context.subject}`)
    let doc: unknown
    try {
      doc = JSON.parse(body.toString('utf8'))
    } catch {
      throw new RegistryError(`${context.what} ${context.subject}: the registry answered something that is not JSON`, {code: 'BAD_RESPONSE'})
    }
    if (typeof doc !== 'object' || doc === null) throw new RegistryError(`${context.what} ${context.subject}: the registry answered a malformed list`, {code: 'BAD_RESPONSE'})
    onPage(doc, res.headers)
    const next = nextLink(headerValue(res.headers.link))
    path = next === undefined ? undefined : nextPage(next, res.url, transport.registry, context)
  }
  return true
}

/**
 * nextPage resolves a next-page link against the page it came from (relative links are the
 * norm); one that is not http(s) (`file:`, garbage) is the registry's error, naming it.
 */
function nextPage(link: string, page: string, registry: string, context: {subject: string; what: string}): string {
  const url = webUrl(link, page)
  if (url) return url.toString()
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(link)?.[1]
  const what = scheme && !/^https?$/i.test(scheme) ? `a ${scheme.toLowerCase()}: URL` : 'an unreadable URL'
  throw new RegistryError(`${context.what} ${context.subject}: ${registry} linked the next page to ${what}; only http and https are followed`, {code: 'BAD_URL'})
}

/** nextLink extracts the `rel="next"` target of a Link header. */
export function nextLink(link: string | undefined): string | undefined {
  if (!link) return undefined
  for (const part of link.split(/,(?=\s*<)/)) {
    const m = /^\s*<([^>]*)>(.*)$/.exec(part)
    if (m && /;\s*rel="?next"?/i.test(m[2])) return m[1]
  }
  return undefined
}

/** headerValue: the first value of a response header */
export function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v
}
