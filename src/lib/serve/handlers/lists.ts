/**
 * lists: `GET /v2/<name>/tags/list` and `GET /v2/_catalog`, in lexical order, paginated by
 * `n` (page size) and `last` (the last item of the previous page), with
 * `Link: <…>; rel="next"` while more remain.
 */
import {ApiError, ErrorCode} from '../errors.js'
import {sendJson, type Headers} from '../http.js'
import type {Call} from '../router.js'

/** Page is one page of a list, and the Link header to the next one when there is more. */
export interface Page {
  readonly items: string[]
  readonly headers: Headers
}

/** paginate cuts a sorted list to the page that `n` and `last` ask for; path is the endpoint for the Link. */
export function paginate(all: readonly string[], query: URLSearchParams, path: string): Page {
  const last = query.get('last')
  const after = last === null ? [...all] : all.filter((x) => x > last)
  const nParam = query.get('n')
  if (nParam === null) return {items: after, headers: {}}
  const n = /^\d+$/.test(nParam) ? Number(nParam) : Number.NaN
  if (!Number.isSafeInteger(n)) {
    throw new ApiError(ErrorCode.paginationNumberInvalid, 'invalid number of results requested', {detail: {n: nParam}})
  }
  if (n === 0 || after.length <= n) return {items: after.slice(0, n), headers: {}}
  const items = after.slice(0, n)
  const next = `${path}?n=${n}&last=${encodeURIComponent(items[n - 1])}`
  return {items, headers: {Link: `<${next}>; rel="next"`}}
}

/** listTags answers the tags of a repository (NAME_UNKNOWN for an unknown one). */
export async function listTags({ctx, res, name, query}: Call): Promise<void> {
  const tags = await ctx.repos.tags(name)
  if (tags === undefined) throw new ApiError(ErrorCode.nameUnknown, 'repository name not known to registry', {detail: {name}})
  const page = paginate(tags, query, `/v2/${name}/tags/list`)
  sendJson(res, 200, {name, tags: page.items}, page.headers)
}

/** listCatalog answers every repository's name. */
export async function listCatalog({ctx, res, query}: Call): Promise<void> {
  const page = paginate(await ctx.repos.catalog(), query, '/v2/_catalog')
  sendJson(res, 200, {repositories: page.items}, page.headers)
}
