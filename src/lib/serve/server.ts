/**
 * server: an embedded OCI registry (distribution spec 1.1) on node:http, for quick starts
 * and CI, like `crane registry serve`. It stores blobs content-addressed on disk, streams
 * every upload to a file while hashing it, and keeps manifests, tags and referrers as small
 * files, so a restart on the same directory keeps everything. It never prints: `log`
 * receives one access line per request.
 */
import * as fsp from 'node:fs/promises'
import * as http from 'node:http'
import type {AddressInfo} from 'node:net'
import * as os from 'node:os'
import * as path from 'node:path'
import {OcitoolError, isOcitoolError} from '../errors.js'
import {clientHost, parseAddress} from './address.js'
import {ApiError, ErrorCode, isApiError} from './errors.js'
import {deleteBlob, getBlob} from './handlers/blobs.js'
import {listCatalog, listTags} from './handlers/lists.js'
import {deleteManifest, getManifest, putManifest} from './handlers/manifests.js'
import {listReferrers} from './handlers/referrers.js'
import {deleteUpload, getUpload, patchUpload, putUpload, startUpload} from './handlers/uploads.js'
import {send, sendJson} from './http.js'
import {route, type Context, type Routes} from './router.js'
import {ConnectionGuard, DEFAULT_LIMITS, serverOptions, type ConnectionStats, type ServeLimits} from './limits.js'
import {BlobStore} from './store/blobs.js'
import {openStore, sweepScratch} from './store/layout.js'
import {Repositories} from './store/repos.js'
import {Uploads} from './uploads.js'

/** ServeOptions configures `startServer`. */
export interface ServeOptions {
  /** `HOST:PORT` to listen on (port 0: any free port); see `parseAddress`. */
  readonly address: string
  /**
   * Storage directory, kept across restarts: a new or empty directory becomes a store, one
   * this registry created is reopened, anything else is refused (UsageError). Without it a
   * temporary directory is removed by `close()`.
   */
  readonly disk?: string
  /** Timeouts and bounds; each one missing takes its DEFAULT_LIMITS value. */
  readonly limits?: Partial<ServeLimits>
  /** Receives one access-log line per request, and one line per unexpected failure. */
  readonly log?: (line: string) => void
}

/** RunningServer is a listening registry. */
export interface RunningServer {
  /** `http://HOST:PORT`, as a client on this machine reaches it. */
  readonly url: string
  /** `HOST:PORT`, for image references (`HOST:PORT/repo:tag`). */
  readonly host: string
  /** The storage directory. */
  readonly dir: string
  /** The limits in force. */
  readonly limits: ServeLimits
  /** stats counts connections (open, idle, evicted, refused) and open upload sessions. */
  stats(): ConnectionStats & {readonly uploads: number}
  /** close stops listening, drops open connections and unfinished uploads, and removes a temporary directory. */
  close(): Promise<void>
}

const ROUTES: Routes = {
  base: {GET: async ({res}) => sendJson(res, 200, {})},
  catalog: {GET: listCatalog},
  tags: {GET: listTags},
  manifest: {GET: getManifest, PUT: putManifest, DELETE: deleteManifest},
  blob: {GET: getBlob, DELETE: deleteBlob},
  uploads: {POST: startUpload},
  upload: {GET: getUpload, PATCH: patchUpload, PUT: putUpload, DELETE: deleteUpload},
  referrers: {GET: listReferrers},
}

/** startServer opens the storage and listens; it resolves once the registry accepts requests. */
export async function startServer(opts: ServeOptions): Promise<RunningServer> {
  const listen = parseAddress(opts.address)
  const log = opts.log ?? (() => {})
  const temporary = opts.disk === undefined
  const dir = temporary ? await fsp.mkdtemp(path.join(os.tmpdir(), 'ocitool-registry-')) : path.resolve(opts.disk!)
  const limits: ServeLimits = {...DEFAULT_LIMITS, ...opts.limits}
  let tmpDir: string
  try {
    tmpDir = (await openStore(dir)).scratch
  } catch (e) {
    if (temporary) await fsp.rm(dir, {recursive: true, force: true})
    if (isOcitoolError(e)) throw e
    throw new OcitoolError(`registry storage ${dir}: ${(e as Error).message}`, {code: 'STORAGE', cause: e})
  }
  const blobs = new BlobStore(dir, tmpDir)
  const uploads = new Uploads(tmpDir, {expireMs: limits.uploadExpiryMs, maxSessions: limits.maxUploads}, (u) => log(`upload ${u.id} of ${u.name} expired after ${limits.uploadExpiryMs} ms unused; its ${u.size} bytes were removed`))
  const ctx: Context = {blobs, repos: new Repositories(dir, blobs), uploads}

  const server = http.createServer(serverOptions(limits), (req, res) => {
    void handle(ctx, req, res, log)
  })
  const guard = new ConnectionGuard(server, limits)
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(listen.port, listen.host === '' ? undefined : listen.host, () => {
        server.off('error', reject)
        resolve()
      })
    })
  } catch (e) {
    await uploads.cancelAll()
    if (temporary) await fsp.rm(dir, {recursive: true, force: true})
    throw new OcitoolError(`cannot listen on ${opts.address}: ${(e as Error).message}`, {code: 'LISTEN', cause: e})
  }
  const bound = server.address() as AddressInfo
  const host = clientHost(listen.host === '' ? '' : bound.address, bound.port)

  let closing: Promise<void> | undefined
  const close = async (): Promise<void> => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()))
    server.closeAllConnections()
    await closed
    await ctx.uploads.cancelAll()
    // a temporary directory is all ours; in a --disk store only the server's own scratch files are
    if (temporary) await fsp.rm(dir, {recursive: true, force: true})
    else await sweepScratch(tmpDir)
  }
  return {
    url: `http://${host}`,
    host,
    dir,
    limits,
    stats: () => ({...guard.stats(), uploads: uploads.size}),
    close: () => (closing ??= close()),
  }
}

async function handle(ctx: Context, req: http.IncomingMessage, res: http.ServerResponse, log: (line: string) => void): Promise<void> {
  const started = Date.now()
  const remote = req.socket.remoteAddress ?? '-'
  res.on('close', () => {
    const bytes = res.getHeader('content-length') ?? '-'
    log(`${remote} "${req.method} ${req.url} HTTP/${req.httpVersion}" ${res.statusCode} ${bytes} ${Date.now() - started}ms`)
  })
  res.setHeader('Docker-Distribution-API-Version', 'registry/2.0')
  try {
    const url = new URL(req.url ?? '/', 'http://registry.invalid')
    const routed = route(ROUTES, req.method ?? 'GET', url.pathname)
    await routed.handler({ctx, req, res, name: routed.name, param: routed.param, query: url.searchParams})
  } catch (e) {
    answerError(req, res, e, log)
  }
}

function answerError(req: http.IncomingMessage, res: http.ServerResponse, e: unknown, log: (line: string) => void): void {
  if (res.headersSent || res.destroyed) {
    res.destroy() // a failure mid-body: the client must not take a short body for a whole one
    return
  }
  if (isApiError(e)) {
    sendJson(res, e.status, e.envelope(), e.headers)
    return
  }
  if (req.destroyed || req.readableAborted) {
    res.destroy() // the client went away mid-request
    return
  }
  log(`error: ${req.method} ${req.url}: ${e instanceof Error ? e.message : String(e)}`)
  const err = new ApiError(ErrorCode.unknown, 'internal error')
  if (!res.writableEnded) sendJson(res, err.status, err.envelope())
  else send(res, 500)
}
