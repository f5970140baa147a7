/**
 * http: small helpers over node:http for the registry's handlers: answering with headers
 * and a body, reading a capped request body, and the byte ranges of `Range` requests.
 */
import type {IncomingMessage, ServerResponse} from 'node:http'
import {ApiError, ErrorCode} from './errors.js'

/** Headers are response headers by name. */
export type Headers = Record<string, string | number>

/** send answers status with headers and an optional body (Content-Length set from it). */
export function send(res: ServerResponse, status: number, headers: Headers = {}, body?: string | Uint8Array): void {
  const bytes = body === undefined ? undefined : typeof body === 'string' ? Buffer.from(body) : body
  res.writeHead(status, {...headers, 'Content-Length': headers['Content-Length'] ?? bytes?.byteLength ?? 0})
  res.end(bytes)
}

/** sendJson answers status with a JSON document. */
export function sendJson(res: ServerResponse, status: number, doc: unknown, headers: Headers = {}): void {
  send(res, status, {'Content-Type': 'application/json', ...headers}, JSON.stringify(doc))
}

/** contentLength returns the request's Content-Length, or undefined when it has none (chunked). */
export function contentLength(req: IncomingMessage): number | undefined {
  const v = req.headers['content-length']
  if (v === undefined) return undefined
  const n = Number(v)
  if (!Number.isSafeInteger(n) || n < 0) throw new ApiError(ErrorCode.sizeInvalid, 'invalid Content-Length', {detail: {contentLength: v}})
  return n
}

/** hasBody is true when the request says it carries bytes (a non-zero length, or chunked). */
export function hasBody(req: IncomingMessage): boolean {
  const n = contentLength(req)
  return n === undefined ? req.headers['transfer-encoding'] !== undefined : n > 0
}

/** readBody reads a whole request body of at most max bytes (413 SIZE_INVALID beyond). */
export async function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  const declared = contentLength(req)
  const tooBig = () => new ApiError(ErrorCode.sizeInvalid, `body is larger than the ${max}-byte limit`, {status: 413})
  if (declared !== undefined && declared > max) throw tooBig()
  const chunks: Buffer[] = []
  let n = 0
  for await (const chunk of req) {
    n += (chunk as Buffer).length
    if (n > max) throw tooBig()
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks)
}

/** ByteRangeRequest is the outcome of reading a `Range` header against a size. */
export type ByteRangeRequest = {kind: 'all'} | {kind: 'range'; start: number; end: number} | {kind: 'unsatisfiable'}

/**
 * parseRange reads a single `bytes=` range (`a-b`, `a-`, `-n`) against a size (RFC 9110
 * 14.1.2). A missing, multi-range or non-bytes header means the whole content.
 */
export function parseRange(header: string | undefined, size: number): ByteRangeRequest {
  if (header === undefined) return {kind: 'all'}
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/.exec(header)
  if (m === null || (m[1] === '' && m[2] === '')) return {kind: 'all'}
  if (m[1] === '') {
    const suffix = Number(m[2])
    if (suffix === 0 || size === 0) return {kind: 'unsatisfiable'}
    return {kind: 'range', start: Math.max(size - suffix, 0), end: size - 1}
  }
  const start = Number(m[1])
  if (m[2] !== '' && Number(m[2]) < start) return {kind: 'all'} // invalid, so ignored (RFC 9110 14.1.1)
  if (start >= size) return {kind: 'unsatisfiable'}
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1)
  return {kind: 'range', start, end}
}
