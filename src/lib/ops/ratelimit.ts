/** ratelimit: the registry's pull-limit headers for an image, from a HEAD (not counted as a pull). */
import type {Reference} from '../name/reference.js'
import {type RateLimit, rateLimit} from '../remote/ratelimit.js'
import {type RemoteOptions, withSession} from '../remote/session.js'

export type {RateLimit}

export function ratelimit(ref: Reference, options: RemoteOptions): Promise<RateLimit> {
  return withSession(options, (s) => rateLimit(s.repository(ref), ref.identifier))
}
