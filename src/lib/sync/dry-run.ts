/**
 * dry-run: what moving one image would do, counted by the rules the real run follows (the
 * ledger's): per destination repository each blob is looked at once (HEAD); present ones are
 * skipped; one a sibling repository of the destination gets in this run, or the source repository
 * on the same registry has, is mounted (unless the registry is known not to mount); the rest are
 * uploaded. Nothing is written.
 */
import type {RegistrySource} from '../stores/registry.js'
import type {ManifestBytes, Sink} from '../stores/types.js'
import {makePlan} from '../transfer/plan.js'
import type {BlobLedger, Place} from './ledger.js'
import type {BlobCounts} from './report.js'

export async function countPlan(source: RegistrySource, sink: Sink, place: Place, ledger: BlobLedger, manifest: ManifestBytes, tag: string, canMount = true): Promise<{bytes: number; blobs: BlobCounts}> {
  const plan = await makePlan(source, sink, [{manifest, names: [tag]}])
  const blobs: BlobCounts = {copied: 0, mounted: 0, skipped: 0}
  let bytes = 0
  const owner = {}
  for (const desc of plan.blobs) {
    const there = ledger.claimOf(place.name, desc.digest)
    if (there) {
      blobs.skipped++
      continue
    }
    const c = ledger.claim(place.name, desc.digest, owner)
    c.settle(true)
    if (await sink.hasBlob(desc)) {
      blobs.skipped++
      continue
    }
    const registry = place.registry
    const holder = registry ? ledger.holder(registry, desc.digest) : undefined
    const sameRegistry = registry !== undefined && source.mountFrom.registry === registry && source.mountFrom.repository !== place.repository
    if (canMount && (holder || sameRegistry)) blobs.mounted++
    else {
      blobs.copied++
      bytes += desc.size
    }
    if (registry && canMount && !holder) ledger.setHolder(registry, desc.digest, c)
  }
  return {bytes, blobs}
}
