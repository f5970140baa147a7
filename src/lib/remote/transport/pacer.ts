/**
 * pacer: how hard one registry is pushed. A registry that sheds load (429, 503) is given fewer
 * requests at once instead of the same number again: the number of requests awaiting an answer
 * is halved on a throttling answer and grows by one per window of successes (AIMD, as TCP does
 * with its window), so a flaky or rate-limited registry slows the copy down rather than failing
 * it. `Retry-After`, and Docker Hub's `ratelimit-remaining: 0;w=SECONDS` on a short window, stop
 * every request to the registry until the time is up. See issue 12, item 7.
 */
import {InterruptedError} from '../../errors.js'

/** requests to one registry awaiting an answer, at most (the HTTP agent allows 32 sockets) */
export const PACER_MAX = 32

/** what became of a paced request: its HTTP status, or 0 when no answer came */
export type Release = (status: number) => void

export class Pacer {
  /** the window: how many requests may await an answer (fractional while it grows back) */
  private window: number
  private active = 0
  private readonly waiting: Array<() => void> = []
  /** requests sent before this ticket number predate the last decrease: their 503s are old news */
  private issued = 0
  private decreasedAt = 0
  private pausedUntil = 0

  /** the earliest time the next request may start (requestsPerSecond) */
  private nextStart = 0

  constructor(
    readonly max = PACER_MAX,
    private readonly now: () => number = Date.now,
    /** a fixed ceiling on requests started per second (sync's per-registry `requests-per-second`) */
    private readonly perSecond?: number,
  ) {
    this.window = max
  }

  /** limit is the number of requests allowed to await an answer now. */
  get limit(): number {
    return Math.max(1, Math.floor(this.window))
  }

  /**
   * acquire waits for a place (and for any pause to end) and returns the function that gives it
   * back with the answer's status; either signal ends the wait with InterruptedError.
   */
  async acquire(...signals: Array<AbortSignal | undefined>): Promise<Release> {
    for (;;) {
      if (signals.some((s) => s?.aborted)) throw new InterruptedError()
      const pause = this.pausedUntil - this.now()
      if (pause > 0) {
        await wait(pause, signals)
        continue
      }
      if (this.perSecond && this.nextStart > this.now()) {
        await wait(this.nextStart - this.now(), signals)
        continue
      }
      if (this.active < this.limit) break
      await new Promise<void>((resolve, reject) => {
        const live = signals.filter((s): s is AbortSignal => s !== undefined)
        const wake = () => {
          for (const s of live) s.removeEventListener('abort', stop)
          resolve()
        }
        const stop = () => {
          const i = this.waiting.indexOf(wake)
          if (i >= 0) this.waiting.splice(i, 1)
          reject(new InterruptedError())
        }
        for (const s of live) s.addEventListener('abort', stop, {once: true})
        this.waiting.push(wake)
      })
    }
    this.active++
    if (this.perSecond) this.nextStart = Math.max(this.now(), this.nextStart) + 1000 / this.perSecond
    const ticket = ++this.issued
    let done = false
    return (status: number) => {
      if (done) return
      done = true
      this.active--
      if (status === 429 || status === 503) this.throttled(ticket)
      else if (status > 0 && status < 500) this.window = Math.min(this.max, this.window + 1 / this.limit)
      this.wakeUp()
    }
  }

  /** pause holds every new request for `ms` (Retry-After, an exhausted short rate-limit window). */
  pause(ms: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, this.now() + ms)
  }

  /** one decrease per window: answers to requests sent before the last decrease do not count again */
  private throttled(ticket: number): void {
    if (ticket <= this.decreasedAt) return
    this.window = Math.max(1, Math.floor(this.limit / 2))
    this.decreasedAt = this.issued
  }

  /** wakeUp lets as many waiters try again as there are places (each checks again: none is lost) */
  private wakeUp(): void {
    for (let free = this.limit - this.active; free > 0 && this.waiting.length > 0; free--) this.waiting.shift()!()
  }
}

function wait(ms: number, signals: Array<AbortSignal | undefined>): Promise<void> {
  return new Promise((resolve, reject) => {
    const live = signals.filter((s): s is AbortSignal => s !== undefined)
    const t = setTimeout(() => {
      for (const s of live) s.removeEventListener('abort', stop)
      resolve()
    }, ms)
    const stop = () => {
      clearTimeout(t)
      reject(new InterruptedError())
    }
    for (const s of live) s.addEventListener('abort', stop, {once: true})
  })
}

/** RateLimit is Docker Hub's `ratelimit-limit` / `ratelimit-remaining` (`100;w=21600`). */
export interface RateLimit {
  limit?: number
  remaining?: number
  /** the window, in seconds */
  windowSeconds?: number
}

/** rateLimit reads Docker Hub's rate-limit headers; undefined when there are none. */
export function rateLimit(headers: Record<string, string | string[] | undefined>): RateLimit | undefined {
  const limit = parseLimit(headers['ratelimit-limit'])
  const remaining = parseLimit(headers['ratelimit-remaining'])
  if (!limit && !remaining) return undefined
  return {limit: limit?.n, remaining: remaining?.n, windowSeconds: remaining?.w ?? limit?.w}
}

function parseLimit(v: string | string[] | undefined): {n: number; w?: number} | undefined {
  const s = Array.isArray(v) ? v[0] : v
  const m = /^\s*(\d+)\s*(?:;\s*w\s*=\s*(\d+))?/i.exec(s ?? '')
  if (!m) return undefined
  return {n: Number(m[1]), w: m[2] === undefined ? undefined : Number(m[2])}
}

/** duration renders seconds for a person: `6 h`, `90 min`, `45 s`. */
export function duration(seconds: number): string {
  if (seconds >= 3600 && seconds % 3600 === 0) return `${seconds / 3600} h`
  if (seconds >= 60 && seconds % 60 === 0) return `${seconds / 60} min`
  return `${Math.round(seconds)} s`
}

/**
 * throttleText explains a throttling answer that asks for a wait longer than ocitool makes
 * (`waitMs`, from `Retry-After` or the rate-limit window), e.g. `rate limit reached (100
 * requests per 6 h, none left); try again within 6 h`.
 */
export function throttleText(headers: Record<string, string | string[] | undefined>, waitMs: number, retryAfter: boolean): string {
  const limit = rateLimit(headers)
  const when = retryAfter ? `try again in ${duration(Math.ceil(waitMs / 1000))}` : `try again within ${duration(Math.ceil(waitMs / 1000))}`
  if (limit?.remaining === 0) {
    const quota = limit.limit === undefined ? '' : ` (${limit.limit} requests per ${limit.windowSeconds === undefined ? 'window' : duration(limit.windowSeconds)}, none left)`
    return `rate limit reached${quota}; ${when}`
  }
  return `asks to wait ${duration(Math.ceil(waitMs / 1000))} (Retry-After), longer than ocitool waits; ${when}`
}
