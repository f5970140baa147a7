/**
 * referrers/copy: `copy --referrers` and `delete --referrers`. Referrers are read from the
 * source through whichever path it supports and written so the destination lists them the
 * way it can: its referrers API indexes them on PUT, else ocitool adds them to the fallback tag.
 */
import {UsageError} from '../errors.js'
import {RegistrySink, RegistrySource} from '../stores/registry.js'
import type {Sink, Source} from '../stores/types.js'
import {type TransferOptions, type TransferResult, transfer} from '../transfer/engine.js'
import {makePlan} from '../transfer/plan.js'
import type {RepositoryClient} from '../remote/registry.js'
import {addToFallback, deleteFallback, listReferrers, referrerDescriptor, removeFromFallback, subjectOf} from './index.js'

const MAX_DEPTH = 8

export interface CopyReferrersOptions extends TransferOptions {
  /** whether the source / sink registry has the referrers API, when known (sync's probe): no asking per subject */
  sourceApi?: boolean
  sinkApi?: boolean
  /**
   * the source and sink the referrers' blobs move through, when not `source` and `sink` themselves
   * (sync's ledger: a blob several images' referrers share is put once, and no manifest is put
   * while another image is still uploading a blob it names)
   */
  via?: {source: Source; sink: Sink}
}

/** copyReferrers copies the referrers of every digest in `subjects`, recursively, from source to sink (registries both). */
export async function copyReferrers(source: Source, sink: Sink, subjects: string[], options: CopyReferrersOptions = {}): Promise<TransferResult & {referrers: number}> {
  if (!(source instanceof RegistrySource) || !(sink instanceof RegistrySink)) {
    throw new UsageError(`--referrers copies between registries only (not ${source.description} → ${sink.description})`)
  }
  const total = {copied: 0, skipped: 0, mounted: 0, bytes: 0, referrers: 0}
  const seen = new Set<string>(subjects)
  let sinkApi = options.sinkApi
  let level = subjects.map((d) => d)
  for (let depth = 0; depth < MAX_DEPTH && level.length > 0; depth++) {
    const next: string[] = []
    for (const subject of level) {
      const {manifests} = await listReferrers(source.repo, subject, undefined, options.sourceApi)
      for (const desc of manifests) {
        if (seen.has(desc.digest)) continue
        seen.add(desc.digest)
        const m = await source.repo.getManifest(desc.digest)
        const [from, to] = options.via ? [options.via.source, options.via.sink] : [source, sink]
        const plan = await makePlan(from, to, [{manifest: m, names: []}])
        const r = await transfer(from, to, plan, options)
        for (const k of ['copied', 'skipped', 'mounted', 'bytes'] as const) total[k] += r[k]
        sinkApi ??= (await sink.repo.referrers(subject)).api
        if (!sinkApi) await addToFallback(sink.repo, subject, referrerDescriptor(m))
        total.referrers++
        next.push(desc.digest)
      }
    }
    level = next
  }
  return total
}

/**
 * deleteReferrers deletes the referrers of `digest` (and theirs, depth first) and the
 * fallback indexes that listed them; the caller deletes `digest` itself. Returns what it deleted.
 */
export async function deleteReferrers(repo: RepositoryClient, digest: string, seen = new Set<string>([digest]), depth = 0): Promise<string[]> {
  const deleted: string[] = []
  if (depth >= MAX_DEPTH) return deleted
  const {manifests} = await listReferrers(repo, digest)
  for (const d of manifests) {
    if (seen.has(d.digest)) continue
    seen.add(d.digest)
    deleted.push(...(await deleteReferrers(repo, d.digest, seen, depth + 1)))
    await repo.deleteManifest(d.digest)
    deleted.push(d.digest)
  }
  await deleteFallback(repo, digest)
  return deleted
}

/** unlistReferrer drops a manifest about to be deleted from its subject's fallback index, if it has a subject. */
export async function unlistReferrer(repo: RepositoryClient, digest: string): Promise<void> {
  const m = await repo.getManifest(digest)
  const subject = subjectOf(m)
  if (subject) await removeFromFallback(repo, subject, digest)
}
