/**
 * filters: which tags of a repository a sync takes. Regexes match whole tags; a semver range
 * keeps tags that are versions in it (a leading `v` allowed); `digestTags: false` drops the
 * `sha256-<hex>[.sig|.att|…]` tags that referrer fallbacks and cosign write; newest N keeps the
 * last N by semver order (non-versions last) or by the config's `created` (needs a look-up).
 */
import semver from 'semver'
import {UsageError} from '../errors.js'
import type {SyncSpec} from './spec.js'

const DIGEST_TAG = /^sha256-[a-f0-9]{64}(\..+)?$/

export interface TagFilter {
  (tag: string): boolean
}

/** compileFilter checks a spec's patterns and returns the tag test (newest N aside). */
export function compileFilter(spec: Pick<SyncSpec, 'include' | 'exclude' | 'semver' | 'digestTags'>): TagFilter {
  const include = (spec.include ?? []).map((p) => regex(p, 'include'))
  const exclude = (spec.exclude ?? []).map((p) => regex(p, 'exclude'))
  let range: semver.Range | undefined
  if (spec.semver !== undefined) {
    try {
      range = new semver.Range(spec.semver, {loose: true})
    } catch {
      throw new UsageError(`invalid semver range "${spec.semver}"`)
    }
  }
  return (tag) => {
    if (spec.digestTags === false && DIGEST_TAG.test(tag)) return false
    if (include.length > 0 && !include.some((r) => r.test(tag))) return false
    if (exclude.some((r) => r.test(tag))) return false
    if (range) {
      const v = version(tag)
      if (!v || !range.test(v)) return false
    }
    return true
  }
}

function regex(p: string, what: string): RegExp {
  try {
    return new RegExp(`^(?:${p})$`)
  } catch (e) {
    throw new UsageError(`invalid ${what} pattern "${p}": ${(e as Error).message}`)
  }
}

/** version reads a tag as a semver version (`1.2.3`, `v1.2`, `1.2.3-rc.1`), or undefined. */
export function version(tag: string): semver.SemVer | undefined {
  const strict = semver.parse(tag, {loose: true})
  if (strict) return strict
  // `1.2`, `v2`: coerced, but only when the tag is nothing but a version
  if (!/^v?\d+(\.\d+)?$/.test(tag)) return undefined
  return semver.coerce(tag) ?? undefined
}

/** newestBySemver keeps the last `n` tags in version order; tags that are not versions come first (oldest). */
export function newestBySemver(tags: string[], n: number): string[] {
  const sorted = [...tags].sort((a, b) => {
    const va = version(a)
    const vb = version(b)
    if (va && vb) return semver.compare(va, vb) || a.localeCompare(b)
    if (va) return 1
    if (vb) return -1
    return a < b ? -1 : a > b ? 1 : 0
  })
  return n >= sorted.length ? tags : sorted.slice(sorted.length - n)
}

/** newestByTime keeps the `n` tags with the latest times (unknown times count as oldest). */
export function newestByTime(tags: Array<{tag: string; created?: string}>, n: number): string[] {
  const t = (s?: string) => {
    const v = s ? Date.parse(s) : Number.NaN
    return Number.isFinite(v) ? v : Number.NEGATIVE_INFINITY
  }
  const sorted = [...tags].sort((a, b) => t(a.created) - t(b.created) || (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0))
  return sorted.slice(Math.max(0, sorted.length - n)).map((x) => x.tag)
}
