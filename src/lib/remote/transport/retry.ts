/**
 * retry: which failures are tried again, and how long to wait first: exponential backoff with
 * jitter, or what the registry asks for (`Retry-After`, an exhausted `ratelimit-remaining`).
 */
import type http from 'node:http'
import {rateLimit} from './pacer.js'

export const RETRY_STATUS = new Set([408, 429, 500, 502, 503, 504])
/** tries after a throttling answer (429, 503), at least: the pacer slows down meanwhile */
export const THROTTLE_RETRIES = 10
export const RETRY_CODES = new Set(['ETIMEDOUT', 'ECONNRESET', 'EPIPE', 'ECONNREFUSED', 'EAI_AGAIN', 'ENETUNREACH', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE'])

type Headers = http.IncomingHttpHeaders

/** backoff: the delay before try `attempt + 1`, doubling from `baseMs` (at most 30 s), half of it random */
export function backoff(baseMs: number, attempt: number): number {
  const exp = Math.min(baseMs * 2 ** attempt, 30_000)
  return Math.round(exp / 2 + Math.random() * (exp / 2))
}

/**
 * waitAsked is how long a registry asks to be left alone: `Retry-After`, else the window of an
 * exhausted `ratelimit-remaining: 0;w=SECONDS` (Docker Hub); undefined when it asks nothing.
 */
export function waitAsked(res: {headers: Headers}): number | undefined {
  return retryAfterMs(res.headers['retry-after']) ?? exhaustedWindowMs(res.headers)
}

/** exhaustedWindowMs: the window of a `ratelimit-remaining: 0;w=SECONDS` answer, in ms */
export function exhaustedWindowMs(headers: Headers): number | undefined {
  const limit = rateLimit(headers)
  return limit?.remaining === 0 && limit.windowSeconds !== undefined ? limit.windowSeconds * 1000 : undefined
}

/** retryAfterMs reads `Retry-After` (seconds or an HTTP date). */
export function retryAfterMs(value: string | string[] | undefined): number | undefined {
  const v = Array.isArray(value) ? value[0] : value
  if (!v) return undefined
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000
  const at = Date.parse(v)
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now())
}

/** envNumber reads a whole number from the environment (undefined when unset or not a number) */
export function envNumber(name: string): number | undefined {
  const v = process.env[name]
  if (v === undefined || v === '' || !/^\d+$/.test(v)) return undefined
  return Number(v)
}
