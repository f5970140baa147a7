/**
 * report: what a sync did (or, with --dry-run, would do), one entry per repository and tag, and
 * the totals. Reports of several shards merge into one (`sync report merge`).
 */
import {UsageError} from '../errors.js'

export type ImageStatus = 'copied' | 'current' | 'failed' | 'copy'

export interface BlobCounts {
  /** uploaded (bytes moved) */
  copied: number
  /** mounted from another repository of the destination registry */
  mounted: number
  /** already there */
  skipped: number
}

export interface TagReport {
  tag: string
  /** copied / current / failed; `copy` in a dry-run plan */
  status: ImageStatus
  /** the manifest written (after any platform choice) */
  digest?: string
  reason?: string
  exitCode?: number
  bytes: number
  blobs: BlobCounts
  seconds: number
  referrers?: number
  /** the file (or `dir:` directory) written for this tag, for a directory-of-archives destination */
  file?: string
}

export interface RepositoryReport {
  source: string
  destination: string
  tags: TagReport[]
  /** the repository itself failed (tags unreadable) */
  error?: string
  exitCode?: number
}

export interface SyncTotals {
  repositories: number
  images: number
  copied: number
  current: number
  failed: number
  /** dry-run: images that would be copied */
  copy: number
  bytes: number
  blobs: BlobCounts
}

export interface SyncReport {
  dryRun: boolean
  ok: boolean
  /** `I/N` when the run was one shard */
  shard?: string
  started: string
  seconds: number
  totals: SyncTotals
  repositories: RepositoryReport[]
}

export function emptyCounts(): BlobCounts {
  return {copied: 0, mounted: 0, skipped: 0}
}

/** totalsOf adds up the repositories' entries. */
export function totalsOf(repos: RepositoryReport[]): SyncTotals {
  const t: SyncTotals = {repositories: repos.length, images: 0, copied: 0, current: 0, failed: 0, copy: 0, bytes: 0, blobs: emptyCounts()}
  for (const r of repos) {
    if (r.error) t.failed++
    for (const tag of r.tags) {
      t.images++
      t[tag.status]++
      t.bytes += tag.bytes
      for (const k of ['copied', 'mounted', 'skipped'] as const) t.blobs[k] += tag.blobs[k]
    }
  }
  return t
}

/** mergeReports joins shard reports into one: repositories side by side, totals added again. */
export function mergeReports(reports: SyncReport[]): SyncReport {
  if (reports.length === 0) throw new UsageError('no reports to merge')
  const dryRun = reports[0].dryRun
  if (reports.some((r) => r.dryRun !== dryRun)) throw new UsageError('cannot merge a dry-run plan with the report of a real run')
  const seen = new Map<string, string>()
  const repositories: RepositoryReport[] = []
  for (const [i, r] of reports.entries()) {
    for (const repo of r.repositories) {
      const key = `${repo.source} → ${repo.destination}`
      if (seen.has(key)) throw new UsageError(`reports overlap: ${key} is in ${seen.get(key)} and in report ${i + 1}${r.shard ? ` (shard ${r.shard})` : ''}`)
      seen.set(key, `report ${i + 1}${r.shard ? ` (shard ${r.shard})` : ''}`)
      repositories.push(repo)
    }
  }
  repositories.sort((a, b) => (a.source < b.source ? -1 : a.source > b.source ? 1 : 0))
  const totals = totalsOf(repositories)
  const started = reports.map((r) => r.started).sort()[0]
  return {dryRun, ok: reports.every((r) => r.ok), started, seconds: Math.max(...reports.map((r) => r.seconds)), totals, repositories}
}

/** checkReport: a file given to merge must be a sync report. */
export function checkReport(doc: unknown, file: string): SyncReport {
  const r = doc as SyncReport
  if (!r || typeof r !== 'object' || !Array.isArray(r.repositories) || typeof r.totals !== 'object') throw new UsageError(`${file}: not a sync report (ocitool sync --json writes one)`)
  return r
}
