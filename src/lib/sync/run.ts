/**
 * run: `sync` itself. Resolves the work (resolve.ts), then moves every image that is not current,
 * several images at once on the one transfer engine, all of them under one budget of blob
 * transfers; blobs are shared through the ledger (one move per blob and repository, mounts
 * between repositories of the destination). An image that fails is reported and the others go
 * on. With `dryRun` nothing is written: the plan is counted instead (dry-run.ts).
 */
import {copyReferrers} from '../referrers/copy.js'
import {type RemoteOptions, type Session, withSession} from '../remote/session.js'
import type {UploadSessions} from '../remote/upload.js'
import {openSink} from '../stores/open.js'
import {RegistrySink, type RegistrySinkOptions} from '../stores/registry.js'
import type {MountLocation, Sink} from '../stores/types.js'
import type {Descriptor} from '../oci/types.js'
import {BlobBudget} from '../transfer/budget.js'
import {type TransferEvent, transfer} from '../transfer/engine.js'
import {makePlan} from '../transfer/plan.js'
import {type ArchiveDest, archivePath, openArchiveSink, planningSink} from './archives.js'
import {countPlan} from './dry-run.js'
import {type AnswerCache, type Answers, Strategies, type StrategyQuestion} from './strategy.js'
import {BlobLedger, LedgerSink, LedgerSource, type Place} from './ledger.js'
import {mapLimit} from './pool.js'
import {type RepositoryReport, type SyncReport, type TagReport, emptyCounts, totalsOf} from './report.js'
import {type ImageWork, type RepoWork, failure, resolve} from './resolve.js'
import type {Shard} from './shard.js'
import {type RepoPair, type SyncSpec, describeDest} from './spec.js'

export type SyncEvent =
  | TransferEvent
  | {type: 'sync-plan'; repositories: number; images: number; copy: number; current: number}
  | {type: 'image-start'; repository: string; tag: string}
  | {type: 'image-done'; repository: string; tag: string; status: TagReport['status']; bytes: number; reason?: string}

export interface SyncOptions extends RemoteOptions, RegistrySinkOptions {
  /** blob transfers at once, across all images (default 8) */
  jobs?: number
  /** images moved at once (default: twice jobs; their blobs share the one budget of `jobs`) */
  imageJobs?: number
  dryRun?: boolean
  shard?: Shard
  onEvent?: (e: SyncEvent) => void
  /** the journal of finished images (journal.ts) */
  journal?: SyncJournal
  /** where chunked uploads are remembered (the journal, or memory) */
  sessions?: UploadSessions
}

/** What sync needs of a journal: what is known done, a way to record more, upload sessions. */
export interface SyncJournal extends UploadSessions, AnswerCache {
  /** is `dest`, new at the destination, untouched by earlier runs (then nothing need be asked of it)? */
  fresh(dest: string): boolean
  known(dest: string, tag: string, digest: string): boolean
  done(dest: string, tag: string, digest: string): Promise<void>
}

export async function sync(specs: SyncSpec[], options: SyncOptions = {}): Promise<SyncReport> {
  const started = new Date()
  const t0 = performance.now()
  const jobs = options.jobs ?? 8
  const emit = options.onEvent ?? (() => {})
  return withSession(options, async (session) => {
    const work = await resolve(session, specs, {jobs, shard: options.shard, known: options.journal ? (d, t, g) => options.journal!.known(d, t, g) : undefined})
    const items = work.flatMap((w) => w.images.map((image) => ({w, image})))
    emit({type: 'sync-plan', repositories: work.length, images: items.length, copy: items.filter((i) => i.image.status === 'copy').length, current: items.filter((i) => i.image.status === 'current').length})
    const reports = new Map<RepoWork, TagReport[]>(work.map((w) => [w, []]))
    const ctx: Ctx = {session, ledger: new BlobLedger(), budget: new BlobBudget(jobs), strategies: new Strategies(session, options.journal), options, emit}
    if (options.dryRun) {
      // one image at a time, in order: the counts are the ones a real run makes
      for (const {w, image} of items) reports.get(w)!.push(await planImage(ctx, w, image))
    } else {
      const results = await mapLimit(items, options.imageJobs ?? jobs * 2, ({w, image}) => moveImage(ctx, w, image))
      for (const [i, r] of results.entries()) reports.get(items[i].w)!.push(r)
    }
    const repositories: RepositoryReport[] = work.map((w) => ({
      source: w.pair.source.name,
      destination: describeDest(w.pair.dest),
      tags: reports.get(w)!.sort((a, b) => (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0)),
      ...(w.error ? {error: w.error, exitCode: w.exitCode} : {}),
    }))
    const totals = totalsOf(repositories)
    return {
      dryRun: options.dryRun === true,
      ok: totals.failed === 0,
      ...(options.shard ? {shard: `${options.shard.index}/${options.shard.count}`} : {}),
      started: started.toISOString(),
      seconds: round((performance.now() - t0) / 1000),
      totals,
      repositories,
    }
  })
}

function round(s: number): number {
  return Math.round(s * 1000) / 1000
}

function baseReport(w: RepoWork, image: ImageWork): TagReport {
  return {
    tag: image.tag,
    ...(w.pair.dest.kind === 'archives' ? fileOf(w.pair.dest, image.tag) : {}),
    status: image.status === 'copy' ? 'copied' : image.status,
    ...(image.manifest || image.digest ? {digest: image.manifest?.digest ?? image.digest} : {}),
    ...(image.reason ? {reason: image.reason, exitCode: image.exitCode} : {}),
    bytes: 0,
    blobs: emptyCounts(),
    seconds: 0,
  }
}

function fileOf(d: ArchiveDest, tag: string): {file?: string} {
  try {
    return {file: archivePath(d, tag)}
  } catch {
    return {} // a name no file can have: the image fails with that reason when it is written
  }
}

/** What every image of one run shares. */
interface Ctx {
  session: Session
  ledger: BlobLedger
  budget: BlobBudget
  strategies: Strategies
  options: SyncOptions
  emit: (e: SyncEvent) => void
}

/**
 * strategyFor asks the destination registry (and, for referrers, the source) what the copy of
 * this image needs to know, once per registry (strategy.ts); a dry run only looks at what is known.
 */
async function strategyFor(ctx: Ctx, w: RepoWork): Promise<{dest: Answers; source: Answers}> {
  const d = w.pair.dest
  if (d.kind !== 'registry') return {dest: {}, source: {}}
  const {registry, repository} = d.repo
  if (ctx.options.dryRun) return {dest: ctx.strategies.peek(registry), source: ctx.strategies.peek(w.pair.source.registry)}
  const questions: StrategyQuestion[] = []
  if (chunkSizeFor(ctx.options, registry)) questions.push('chunkedUpload')
  if (w.spec.referrers) questions.push('referrers')
  const quiet = (p: Promise<Answers>) => p.catch((): Answers => ({}))
  const [dest, source] = await Promise.all([
    questions.length > 0 ? quiet(ctx.strategies.ask(registry, questions, {repository})) : ctx.strategies.peek(registry),
    w.spec.referrers ? quiet(ctx.strategies.ask(w.pair.source.registry, ['referrers'], {repository: w.pair.source.repository})) : {},
  ])
  return {dest, source}
}

function chunkSizeFor(options: SyncOptions, registry: string): number | undefined {
  return options.registries?.[registry]?.chunkSize ?? options.chunkSize
}

/** sinkFor opens where one tag of a repository goes, and the names its root gets there */
async function sinkFor(session: Session, pair: RepoPair, tag: string, options: SyncOptions, answers: Answers = {}): Promise<{sink: Sink; place: Place; names: string[]}> {
  const d = pair.dest
  if (d.kind === 'registry') {
    const asked = chunkSizeFor(options, d.repo.registry)
    // no chunks where the registry takes none; never below the minimum it states
    const chunkSize = asked === undefined || answers.chunkedUpload === false ? undefined : Math.max(asked, answers.chunkMinLength ?? 0)
    return {sink: new RegistrySink(session, d.repo.withTag('latest'), {chunkSize, sessions: options.sessions}), place: {name: d.repo.name, registry: d.repo.registry, repository: d.repo.repository}, names: [tag]}
  }
  if (d.kind === 'archives') {
    const {sink, file, names} = await openArchiveSink(session, d, tag)
    return {sink, place: {name: `${d.format}:${file}`}, names}
  }
  return {sink: await openSink({kind: 'oci', path: d.dir}, session), place: {name: `oci:${d.dir}`}, names: [tag]}
}

async function moveImage(ctx: Ctx, w: RepoWork, image: ImageWork): Promise<TagReport> {
  const {session, ledger, budget, options, emit} = ctx
  const report = baseReport(w, image)
  if (image.status !== 'copy' || !image.manifest) return report
  const repository = w.pair.source.name
  const t0 = performance.now()
  const owner = {}
  emit({type: 'image-start', repository, tag: image.tag})
  try {
    const answers = await strategyFor(ctx, w)
    const {sink: inner, place, names} = await sinkFor(session, w.pair, image.tag, options, answers.dest)
    const d = w.pair.dest
    const siblingMount = d.kind === 'registry' && inner instanceof RegistrySink ? (desc: Descriptor, from: MountLocation) => ctx.strategies.mount(d.repo.registry, () => inner.repo.mountBlob(desc.digest, from.repository)) : undefined
    const fresh = w.newAtDest === true && (options.journal ? options.journal.fresh(describeDest(d)) : true)
    const sink = new LedgerSink(inner, ledger, place, owner, {canMount: answers.dest.mount !== false, siblingMount, fresh})
    const source = new LedgerSource(w.source, sink)
    const plan = await makePlan(source, sink, [{manifest: image.manifest, names}])
    const r = await transfer(source, sink, plan, {budget, onEvent: emit, signal: options.signal})
    report.bytes = r.bytes
    report.blobs = {copied: r.copied, mounted: r.mounted, skipped: r.skipped}
    if (w.spec.referrers && inner instanceof RegistrySink) {
      const rr = await copyReferrers(w.source, inner, plan.manifests.map((m) => m.manifest.digest), {budget, onEvent: emit, signal: options.signal, sourceApi: answers.source.referrers, sinkApi: answers.dest.referrers, via: {source, sink}})
      report.bytes += rr.bytes
      report.blobs.copied += rr.copied
      report.blobs.mounted += rr.mounted
      report.blobs.skipped += rr.skipped
      report.referrers = rr.referrers
    }
    await options.journal?.done(describeDest(w.pair.dest), image.tag, image.manifest.digest)
  } catch (e) {
    Object.assign(report, {status: 'failed', ...failure(e)})
  } finally {
    ledger.release(owner)
    report.seconds = round((performance.now() - t0) / 1000)
  }
  emit({type: 'image-done', repository, tag: image.tag, status: report.status, bytes: report.bytes, ...(report.reason ? {reason: report.reason} : {})})
  return report
}

async function planImage(ctx: Ctx, w: RepoWork, image: ImageWork): Promise<TagReport> {
  const {session, ledger, options} = ctx
  const report = baseReport(w, image)
  if (image.status !== 'copy' || !image.manifest) return report
  report.status = 'copy'
  try {
    const {sink, place} = w.pair.dest.kind === 'archives' ? {sink: planningSink(w.pair.dest, image.tag), place: {name: `${w.pair.dest.format}:${archivePath(w.pair.dest, image.tag)}`}} : await sinkFor(session, w.pair, image.tag, options)
    const answers = await strategyFor(ctx, w)
    const counted = await countPlan(w.source, sink, place, ledger, image.manifest, image.tag, answers.dest.mount !== false)
    report.bytes = counted.bytes
    report.blobs = counted.blobs
  } catch (e) {
    Object.assign(report, {status: 'failed', ...failure(e)})
  }
  return report
}
