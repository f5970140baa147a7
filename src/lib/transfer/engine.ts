/**
 * engine: executes a plan. Each distinct blob moves once: skipped when the sink has it,
 * mounted when source and sink share a registry, otherwise streamed source → verify → sink,
 * `jobs` at a time (or the sink's own limit). A blob whose transfer fails for a network or
 * registry reason is tried again from a fresh source stream. Manifests follow, children before
 * parents; roots get their names last. Any failure aborts the sink, which removes what it can.
 */
import type {Readable} from 'node:stream'
import {ExitCode, IntegrityError, InterruptedError, isOcitoolError} from '../errors.js'
import {reclaim} from '../io/reclaim.js'
import {verify} from '../io/verify.js'
import type {Descriptor} from '../oci/types.js'
import type {Sink, Source} from '../stores/types.js'
import type {Plan} from './plan.js'
import {BlobBudget} from './budget.js'

/** blobs move in pieces of at least 1 MiB (see VerifyOptions.coalesce) */
const COALESCE = 1024 * 1024

export type BlobOutcome = 'copied' | 'skipped' | 'mounted'

export type TransferEvent =
  | {type: 'plan'; blobs: number; bytes: number; manifests: number}
  | {type: 'blob-start'; digest: string; size: number}
  | {type: 'blob-bytes'; digest: string; bytes: number; done: number; size: number}
  | {type: 'blob-done'; digest: string; size: number; outcome: BlobOutcome}
  | {type: 'blob-retry'; digest: string; attempt: number; error: string}
  | {type: 'manifest'; digest: string; mediaType: string; names: string[]; present: boolean}

export interface TransferOptions {
  /** concurrent blob transfers (default 4) */
  jobs?: number
  /** extra tries for a blob after a network or registry failure (default 3) */
  blobRetries?: number
  onEvent?: (e: TransferEvent) => void
  signal?: AbortSignal
  /**
   * a limit shared with other transfers running at the same time (sync: one global budget of
   * blob transfers across images); `jobs` is then ignored, except for sinks with their own limit
   */
  budget?: BlobBudget
}

export interface TransferResult {
  copied: number
  skipped: number
  mounted: number
  /** bytes streamed from source to sink */
  bytes: number
}

/** transfer moves a plan from source to sink and commits it; on failure the sink is aborted. */
export async function transfer(source: Source, sink: Sink, plan: Plan, options: TransferOptions = {}): Promise<TransferResult> {
  const emit = options.onEvent ?? (() => {})
  const result: TransferResult = {copied: 0, skipped: 0, mounted: 0, bytes: 0}
  emit({type: 'plan', blobs: plan.blobs.length, bytes: plan.totalBytes, manifests: plan.manifests.length})
  try {
    const jobs = Math.max(1, Math.min(options.jobs ?? 4, sink.blobConcurrency ?? Number.POSITIVE_INFINITY))
    // a sink with its own limit (an archive written one blob at a time) gets no more than that
    const own = sink.blobConcurrency !== undefined || !options.budget
    const budget = own ? new BlobBudget(jobs) : options.budget!
    await runPool(plan.blobs, budget, sink.blobConcurrency === undefined, options.signal, async (desc) => {
      const outcome = await moveBlob(source, sink, desc, options, emit, result)
      result[outcome]++
      emit({type: 'blob-done', digest: desc.digest, size: desc.size, outcome})
    })
    for (const node of plan.manifests) {
      checkAborted(options.signal)
      if (node.present && !node.root) continue
      const names = node.root?.names ?? []
      await sink.putManifest(node.manifest, {root: node.root !== undefined, names})
      emit({type: 'manifest', digest: node.manifest.digest, mediaType: node.manifest.mediaType, names, present: node.present})
    }
    checkAborted(options.signal)
    await sink.commit()
    return result
  } catch (e) {
    await sink.abort().catch(() => {})
    throw options.signal?.aborted && !(e instanceof InterruptedError) ? new InterruptedError('interrupted', {cause: e}) : e
  }
}

async function moveBlob(
  source: Source,
  sink: Sink,
  desc: Descriptor,
  options: TransferOptions,
  emit: (e: TransferEvent) => void,
  result: TransferResult,
): Promise<'copied' | 'skipped' | 'mounted'> {
  if (await sink.hasBlob(desc)) return 'skipped'
  const from = source.mountLocation ? source.mountLocation(desc) : source.mountFrom
  if (from && sink.mount && (await sink.mount(desc, from))) return 'mounted'
  const retries = options.blobRetries ?? 3
  const reclaimable = source.socketBlobs === true && sink.verifiesDigests === true
  // a registry shedding load (429, 503 on a streamed upload, which cannot be replayed) is given
  // tries of its own: its pacer has slowed down meanwhile, so the next try is likely to pass
  let throttles = 0
  for (let attempt = 0; ; attempt++) {
    checkAborted(options.signal)
    emit({type: 'blob-start', digest: desc.digest, size: desc.size})
    let moved = 0
    try {
      const checked = verify(desc.digest, desc.size, {
        what: `blob ${desc.digest} from ${source.description}`,
        // grouping pieces pays where this process hashes or writes files; a registry sink hashes
        // for us, and there copying 64 KiB pieces into 1 MiB ones only costs memcpy and GC
        // (measured: 1.26 → 1.14 CPU-s for a 384 MiB copy)
        coalesce: sink.verifiesDigests ? undefined : COALESCE,
        hash: !sink.verifiesDigests,
        onBytes: (n) => {
          // socket chunks passed straight on to a registry die young: collect them early
          // (chunks kept a while, coalesced for a file or read from one, would only be
          // promoted by the early collections: measured worse for pull and push)
          if (reclaimable) reclaim(n)
          moved += n
          result.bytes += n
          emit({type: 'blob-bytes', digest: desc.digest, bytes: n, done: moved, size: desc.size})
        },
      })
      // the sink sees a failure through its own use of the stream; until it reads, an error
      // destroyed here (the source failing to open) must not be an unhandled 'error' event
      checked.on('error', () => {})
      // the sink prepares (a registry opens its upload session) while the source answers: one
      // round trip less per blob, which is most of the time of a small blob
      const put = sink.putBlob(desc, checked)
      put.catch(() => {})
      let data: Readable
      try {
        data = await source.blob(desc)
      } catch (e) {
        checked.destroy(e as Error)
        await put.catch(() => {})
        throw e
      }
      data.on('error', (e) => checked.destroy(e))
      const onAbort = () => data.destroy(new InterruptedError())
      options.signal?.addEventListener('abort', onAbort, {once: true})
      try {
        data.pipe(checked)
        await put
      } catch (e) {
        // a sink that hashes for us (a registry) saw bad bytes: they came from the source
        if (sink.verifiesDigests && isOcitoolError(e) && e.code === 'DIGEST_MISMATCH') {
          throw new IntegrityError(`blob ${desc.digest} from ${source.description}: digest mismatch (${sink.description} refused the upload)`, {code: e.code, cause: e})
        }
        throw e
      } finally {
        options.signal?.removeEventListener('abort', onAbort)
        data.destroy()
      }
      return 'copied'
    } catch (e) {
      result.bytes -= moved
      const shed = isOcitoolError(e) && (e.code === 'HTTP_429' || e.code === 'HTTP_503') && throttles < THROTTLE_RETRIES
      if (shed) {
        throttles++
        attempt--
      }
      if (attempt >= retries || !retryable(e) || options.signal?.aborted) throw e
      emit({type: 'blob-retry', digest: desc.digest, attempt: attempt + throttles + 1, error: e instanceof Error ? e.message : String(e)})
      await new Promise((r) => setTimeout(r, shed ? 50 * 2 ** Math.min(throttles, 5) : 250 * 2 ** attempt))
    }
  }
}

/** retryable: network and registry failures; not auth, not integrity, not usage. */
function retryable(e: unknown): boolean {
  if (isOcitoolError(e)) return e.exitCode === ExitCode.Registry
  const code = (e as {code?: unknown})?.code
  return typeof code === 'string' && /^E(CONNRESET|PIPE|TIMEDOUT|CONNREFUSED)$|^ERR_STREAM_PREMATURE_CLOSE$/.test(code)
}

/**
 * runPool runs `fn` over items, in order, at most `jobs` at once; a blob under SMALL_BLOB bytes
 * takes a quarter of a place, so up to 4 × jobs small ones move at once: their time goes to
 * request round trips, not bytes, and more of them at once keep both registries busy (measured:
 * 40 small layers 0.95 → 0.87 s) without more memory; unless `smallShare` is false (a sink with
 * a limit of its own). The first failure stops new work and is thrown once the running ones
 * have settled.
 */
function runPool(items: Descriptor[], budget: BlobBudget, smallShare: boolean, signal: AbortSignal | undefined, fn: (item: Descriptor) => Promise<void>): Promise<void> {
  const cost = (d: Descriptor) => (smallShare && d.size < SMALL_BLOB ? 1 : 4)
  let active = 0
  let next = 0
  let failed: unknown
  return new Promise<void>((resolve, reject) => {
    const pump = () => {
      if (failed === undefined && signal?.aborted) failed = new InterruptedError()
      while (failed === undefined && next < items.length && budget.tryTake(cost(items[next]))) {
        const item = items[next++]
        const c = cost(item)
        active++
        fn(item)
          .catch((e: unknown) => {
            failed ??= e
          })
          .finally(() => {
            active--
            budget.release(c)
            pump()
          })
      }
      // a shared budget may be held by other transfers: go on when they free some
      if (failed === undefined && next < items.length) budget.whenFree(pump)
      else budget.forget(pump)
      if (active > 0) return
      if (failed !== undefined) reject(failed)
      else if (next >= items.length) resolve()
    }
    pump()
  })
}

/** extra tries for a blob whose upload met a throttling answer (see moveBlob) */
const THROTTLE_RETRIES = 10

/** blobs under this size count a quarter of a job (see runPool) */
const SMALL_BLOB = 1024 * 1024

function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new InterruptedError()
}
