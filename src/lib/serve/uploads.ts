/**
 * uploads: blob upload sessions. Each session streams its chunks into its own file in the
 * storage's temporary directory while a running SHA-256 follows the bytes, so neither a
 * chunk nor a blob is ever held in memory and finishing needs no second read (other
 * algorithms re-read the file once). Requests on one session run one at a time; sessions
 * are independent, so parallel uploads (even of the same blob) are safe: the finished file
 * is renamed into the content-addressed store, and equal digests mean equal bytes.
 *
 * Sessions live in memory: a restart forgets unfinished uploads (their files are removed).
 * A session no request has used for `expireMs` expires (its file is removed), and at most
 * `maxSessions` are open at once (429 TOOMANYREQUESTS beyond), so abandoned or flooded
 * sessions cannot fill the disk (issue 12, item 6).
 */
import {createHash, randomUUID, type Hash} from 'node:crypto'
import {createReadStream, createWriteStream} from 'node:fs'
import * as fsp from 'node:fs/promises'
import * as path from 'node:path'
import {Transform, type Readable} from 'node:stream'
import {pipeline} from 'node:stream/promises'
import {parseDigest} from '../oci/digest.js'
import {ApiError, ErrorCode} from './errors.js'

/** Upload is one session: where its bytes are, how many, and their running hash. */
export interface Upload {
  readonly id: string
  readonly name: string
  readonly file: string
  /** Bytes received so far. */
  size: number
  /** SHA-256 of the bytes received so far. */
  hash: Hash
  /** The tail of the session's request queue. */
  queue: Promise<unknown>
  /** Set once finished or cancelled; later requests find no session. */
  closed: boolean
  /** When a request last used the session (ms since the epoch). */
  touched: number
  /** Requests using the session right now; a busy session never expires. */
  busy: number
}

/** UploadLimits bounds the sessions. */
export interface UploadLimits {
  /** A session unused for this long expires; 0: never. */
  readonly expireMs: number
  /** Sessions open at once; 0: no bound. */
  readonly maxSessions: number
}

/** ContentRange is a chunk's `Content-Range: <start>-<end>` (inclusive). */
export interface ContentRange {
  readonly start: number
  readonly end: number
}

/** parseContentRange reads `0-99`, `bytes 0-99/*` or `bytes=0-99`; undefined when malformed. */
export function parseContentRange(value: string): ContentRange | undefined {
  const m = /^\s*(?:bytes[ =])?\s*(\d+)-(\d+)(?:\/(?:\d+|\*))?\s*$/.exec(value)
  if (m === null) return undefined
  const start = Number(m[1])
  const end = Number(m[2])
  return Number.isSafeInteger(start) && Number.isSafeInteger(end) && start <= end ? {start, end} : undefined
}

/** rangeHeader is the `Range` an upload answers: `0-<last byte>` (`0-0` when empty, as distribution does). */
export function rangeHeader(u: Upload): string {
  return `0-${Math.max(u.size - 1, 0)}`
}

/** Uploads keeps the open sessions. */
export class Uploads {
  private readonly sessions = new Map<string, Upload>()
  private readonly timer: NodeJS.Timeout | undefined

  /**
   * @param dir the directory for upload files, on the blob store's file system
   * @param limits expiry and bound of sessions (none by default)
   * @param onExpire told of each expired session
   */
  constructor(
    private readonly dir: string,
    private readonly limits: UploadLimits = {expireMs: 0, maxSessions: 0},
    private readonly onExpire: (u: Upload) => void = () => {},
  ) {
    if (limits.expireMs > 0) {
      this.timer = setInterval(() => void this.expire(), Math.min(Math.max(limits.expireMs / 4, 50), 60_000))
      this.timer.unref()
    }
  }

  /** size is the number of open sessions. */
  get size(): number {
    return this.sessions.size
  }

  /** create opens a session for repository name with an empty file (429 when too many are open). */
  async create(name: string): Promise<Upload> {
    if (this.limits.maxSessions > 0 && this.sessions.size >= this.limits.maxSessions) {
      await this.expire()
      if (this.sessions.size >= this.limits.maxSessions) {
        throw new ApiError(ErrorCode.tooManyRequests, `too many upload sessions open (${this.limits.maxSessions}); finish or cancel some`, {headers: {'Retry-After': '1'}})
      }
    }
    const id = randomUUID()
    const file = path.join(this.dir, `upload-${id}`)
    const u: Upload = {id, name, file, size: 0, hash: createHash('sha256'), queue: Promise.resolve(), closed: false, touched: Date.now(), busy: 0}
    this.sessions.set(id, u)
    try {
      await fsp.writeFile(file, '')
    } catch (e) {
      this.sessions.delete(id)
      throw e
    }
    return u
  }

  /** get returns the open session id of repository name, or throws BLOB_UPLOAD_UNKNOWN. */
  get(name: string, id: string): Upload {
    const u = this.sessions.get(id)
    if (u === undefined || u.closed || u.name !== name) {
      throw new ApiError(ErrorCode.blobUploadUnknown, 'blob upload unknown to registry', {detail: {uuid: id}})
    }
    u.touched = Date.now()
    return u
  }

  /** expire cancels every session unused for longer than the expiry and not busy. */
  async expire(now = Date.now()): Promise<void> {
    if (this.limits.expireMs <= 0) return
    const old = [...this.sessions.values()].filter((u) => u.busy === 0 && now - u.touched > this.limits.expireMs)
    await Promise.all(
      old.map(async (u) => {
        await this.cancel(u)
        this.onExpire(u)
      }),
    )
  }

  /**
   * run queues fn behind the session's earlier requests and runs it when they are done, if
   * the session is still open then (BLOB_UPLOAD_UNKNOWN otherwise).
   */
  run<T>(u: Upload, fn: () => Promise<T>): Promise<T> {
    u.busy++
    u.touched = Date.now()
    const next = u.queue.then(() => {
      if (u.closed) throw new ApiError(ErrorCode.blobUploadUnknown, 'blob upload unknown to registry', {detail: {uuid: u.id}})
      return fn()
    })
    const done = next.finally(() => {
      u.busy--
      u.touched = Date.now()
    })
    u.queue = done.catch(() => {})
    return done
  }

  /**
   * checkRange throws a 416 unless a chunk's Content-Range starts where the upload ends and
   * agrees with its Content-Length; it returns the chunk's length when it is known.
   */
  checkRange(u: Upload, contentRange: string | undefined, contentLength: number | undefined): number | undefined {
    if (contentRange === undefined) return contentLength
    const r = parseContentRange(contentRange)
    const range = {status: 416, headers: {Range: rangeHeader(u), 'Docker-Upload-UUID': u.id}}
    if (r === undefined) throw new ApiError(ErrorCode.blobUploadInvalid, 'malformed Content-Range', {...range, detail: {contentRange}})
    if (r.start !== u.size) {
      throw new ApiError(ErrorCode.blobUploadInvalid, `chunk out of order: upload has ${u.size} bytes, chunk starts at ${r.start}`, range)
    }
    const length = r.end - r.start + 1
    if (contentLength !== undefined && contentLength !== length) {
      throw new ApiError(ErrorCode.blobUploadInvalid, `Content-Range covers ${length} bytes, Content-Length says ${contentLength}`, range)
    }
    return length
  }

  /**
   * append streams body onto the end of the upload, hashing as it goes. When the body
   * fails, or is not `expected` bytes long, the file is cut back and the upload is as before.
   */
  async append(u: Upload, body: Readable, expected?: number): Promise<void> {
    const hash = u.hash.copy()
    let n = 0
    const tap = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        hash.update(chunk)
        n += chunk.length
        cb(null, chunk)
      },
    })
    try {
      await pipeline(body, tap, createWriteStream(u.file, {flags: 'r+', start: u.size}))
      if (expected !== undefined && n !== expected) {
        throw new ApiError(ErrorCode.sizeInvalid, `chunk is ${n} bytes, expected ${expected}`)
      }
    } catch (e) {
      await fsp.truncate(u.file, u.size).catch(() => {})
      throw e
    }
    u.size += n
    u.hash = hash
  }

  /** digestMatches is true when the upload's bytes have digest. */
  async digestMatches(u: Upload, digest: string): Promise<boolean> {
    const {algorithm, hex} = parseDigest(digest)
    if (algorithm === 'sha256') return u.hash.copy().digest('hex') === hex
    const h = createHash(algorithm)
    for await (const chunk of createReadStream(u.file)) h.update(chunk as Buffer)
    return h.digest('hex') === hex
  }

  /** finish closes a session whose file the caller has taken (renamed). */
  finish(u: Upload): void {
    u.closed = true
    this.sessions.delete(u.id)
  }

  /** cancel closes a session and removes its file. */
  async cancel(u: Upload): Promise<void> {
    this.finish(u)
    await fsp.rm(u.file, {force: true})
  }

  /** cancelAll cancels every open session and stops expiring them (on shutdown). */
  async cancelAll(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer)
    await Promise.all([...this.sessions.values()].map((u) => this.cancel(u)))
  }
}
