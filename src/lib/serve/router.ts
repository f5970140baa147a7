/**
 * router: maps a request's method and path to a handler of the distribution API. Names
 * may contain slashes, so each route matches its fixed tail (`/blobs/<digest>`,
 * `/manifests/<reference>`, …) and the name is whatever comes before it.
 */
import type {IncomingMessage, ServerResponse} from 'node:http'
import {ApiError, ErrorCode} from './errors.js'
import {checkName} from './names.js'
import type {BlobStore} from './store/blobs.js'
import type {Repositories} from './store/repos.js'
import type {Uploads} from './uploads.js'

/** Context is the storage every handler works on. */
export interface Context {
  readonly blobs: BlobStore
  readonly repos: Repositories
  readonly uploads: Uploads
}

/** Call is one routed request: the repository name (when the route has one), the path's last part and the query. */
export interface Call {
  readonly ctx: Context
  readonly req: IncomingMessage
  readonly res: ServerResponse
  readonly name: string
  /** The digest, reference or upload id at the end of the path ('' when the route has none). */
  readonly param: string
  readonly query: URLSearchParams
}

/** Handler answers one routed request. */
export type Handler = (call: Call) => Promise<void>

/** Routes names each route's handler per method; `HEAD` falls back to `GET` when absent. */
export interface Routes {
  base: Partial<Record<string, Handler>>
  catalog: Partial<Record<string, Handler>>
  tags: Partial<Record<string, Handler>>
  manifest: Partial<Record<string, Handler>>
  blob: Partial<Record<string, Handler>>
  uploads: Partial<Record<string, Handler>>
  upload: Partial<Record<string, Handler>>
  referrers: Partial<Record<string, Handler>>
}

const PATTERNS: readonly (readonly [keyof Routes, RegExp])[] = [
  ['base', /^\/v2\/?$/],
  ['catalog', /^\/v2\/_catalog$/],
  ['tags', /^\/v2\/(.+)\/tags\/list$/],
  ['manifest', /^\/v2\/(.+)\/manifests\/([^/]+)$/],
  ['uploads', /^\/v2\/(.+)\/blobs\/uploads\/?$/],
  ['upload', /^\/v2\/(.+)\/blobs\/uploads\/([^/]+)$/],
  ['blob', /^\/v2\/(.+)\/blobs\/([^/]+)$/],
  ['referrers', /^\/v2\/(.+)\/referrers\/([^/]+)$/],
]

/** Routed is a matched handler with the name and last path part it was matched with. */
export interface Routed {
  readonly handler: Handler
  readonly name: string
  readonly param: string
}

/**
 * route finds the handler for method and pathname: 404 UNSUPPORTED for an unknown path, 405
 * UNSUPPORTED for a method the route does not take, NAME_INVALID for a bad repository name.
 */
export function route(routes: Routes, method: string, pathname: string): Routed {
  for (const [key, re] of PATTERNS) {
    const m = re.exec(pathname)
    if (m === null) continue
    const table = routes[key]
    const handler = table[method] ?? (method === 'HEAD' ? table.GET : undefined)
    if (handler === undefined) {
      const allow = Object.keys(table).join(', ')
      throw new ApiError(ErrorCode.unsupported, `method ${method} not allowed here`, {status: 405, headers: {Allow: allow}})
    }
    const name = m[1] === undefined ? '' : checkName(decode(m[1]))
    return {handler, name, param: m[2] === undefined ? '' : decode(m[2])}
  }
  throw new ApiError(ErrorCode.unsupported, 'not an endpoint of the distribution API', {status: 404, detail: {path: pathname}})
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s)
  } catch {
    return s
  }
}
