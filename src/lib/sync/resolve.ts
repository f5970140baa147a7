/**
 * resolve: from sync specs to the images to move. Lists repositories (the catalog under a
 * prefix), keeps this shard's, lists and filters tags, reads each chosen tag's manifest at the
 * source (platforms applied) and asks the destination whether it has that digest under the tag
 * already: one manifest HEAD, or none when the journal says so. Nothing is moved here.
 */
import * as fsp from 'node:fs/promises'
import * as path from 'node:path'
import {NotFoundError, isOcitoolError} from '../errors.js'
import {Repository, apiHostOf} from '../name/reference.js'
import {parseManifest} from '../oci/manifest.js'
import type {ImageConfig, ImageIndex, ImageManifest} from '../oci/types.js'
import {catalog} from '../remote/registry.js'
import type {Session} from '../remote/session.js'
import {readBody} from '../remote/transport/http.js'
import {RegistrySource} from '../stores/registry.js'
import type {ManifestBytes} from '../stores/types.js'
import {selectPlatforms} from '../transfer/plan.js'
import {archiveDigests, archivePath} from './archives.js'
import {compileFilter, newestBySemver, newestByTime} from './filters.js'
import {mapLimit} from './pool.js'
import {type Shard, inShard} from './shard.js'
import {type RepoPair, type SyncSpec, describeDest, destFor, parseDest, parseSource} from './spec.js'

export interface ImageWork {
  tag: string
  status: 'copy' | 'current' | 'failed'
  /** the root to write, after the platform choice (absent when failed, and when current by the journal) */
  manifest?: ManifestBytes
  /** the root's digest (also when the manifest was not read) */
  digest?: string
  reason?: string
  exitCode?: number
}

export interface RepoWork {
  spec: SyncSpec
  pair: RepoPair
  source: RegistrySource
  images: ImageWork[]
  /** the destination repository did not exist (its tag list: 404): it holds no manifest */
  newAtDest?: boolean
  error?: string
  exitCode?: number
}

export interface ResolveOptions {
  jobs: number
  shard?: Shard
  /** the journal: true when `dest:tag` is known to hold `digest` (no HEAD needed) */
  known?: (dest: string, tag: string, digest: string) => boolean
}

/** resolve lists the work of every spec; failures are recorded on the repository or image, never thrown. */
export async function resolve(session: Session, specs: SyncSpec[], options: ResolveOptions): Promise<RepoWork[]> {
  const pairs: Array<{spec: SyncSpec; pair: RepoPair} | {spec: SyncSpec; failed: RepoWork}> = []
  for (const spec of specs) {
    const src = parseSource(spec.src)
    const dst = parseDest(spec.dst, src)
    compileFilter(spec) // bad patterns are usage errors, before any request
    let repos: Repository[]
    if (src.kind === 'repository') repos = [src.repo]
    else {
      try {
        const all = await catalog(session.transport(src.registry, apiHostOf(src.registry)))
        repos = all.filter((r) => r.startsWith(src.path)).sort().map((r) => new Repository(src.registry, r))
      } catch (e) {
        const repo = new Repository(src.registry, src.path.replace(/\/$/, '') || '_catalog')
        pairs.push({spec, failed: {spec, pair: {source: repo, dest: destFor(src, dst, repo)}, source: new RegistrySource(session, repo.withTag('latest')), images: [], ...repoFailure(e)}})
        continue
      }
    }
    for (const repo of repos) if (!options.shard || inShard(repo.name, options.shard)) pairs.push({spec, pair: {source: repo, dest: destFor(src, dst, repo)}})
  }
  // many repositories at once: small requests, bounded per registry by the pacer (32 awaiting an answer)
  return mapLimit(pairs, Math.max(1, options.jobs * 4), async (p) => ('failed' in p ? p.failed : resolveRepo(session, p.spec, p.pair, options)))
}

async function resolveRepo(session: Session, spec: SyncSpec, pair: RepoPair, options: ResolveOptions): Promise<RepoWork> {
  const source = new RegistrySource(session, pair.source.withTag('latest'))
  const work: RepoWork = {spec, pair, source, images: []}
  let tags: string[]
  try {
    tags = (await source.repo.tags()).filter(compileFilter(spec)).sort()
  } catch (e) {
    return {...work, ...repoFailure(e)}
  }
  const roots = new Map<string, ManifestBytes | Error>()
  const read = async (tag: string) => {
    try {
      const root = await source.repo.getManifest(tag)
      roots.set(tag, await selectPlatforms(source, {...root, names: [tag]}, {platforms: spec.platforms}))
    } catch (e) {
      roots.set(tag, e as Error)
    }
  }
  if (spec.newest !== undefined && spec.newestBy === 'created') {
    await mapLimit(tags, options.jobs, read)
    const times = await mapLimit(tags, options.jobs, async (tag) => ({tag, created: await createdOf(source, roots.get(tag))}))
    tags = newestByTime(times, spec.newest).sort()
  } else if (spec.newest !== undefined) tags = newestBySemver(tags, spec.newest).sort()
  const present = pair.dest.kind === 'oci' ? await layoutTags(pair.dest.dir) : undefined
  const dest = describeDest(pair.dest)
  const atDest = pair.dest.kind === 'registry' ? destDigests(session, pair.dest.repo) : undefined
  // with every platform kept, the root the journal knows is the source's own: a HEAD (its
  // digest) settles a tag the journal has, without reading the manifest (a no-change re-run)
  const byHead = options.known && !(spec.platforms && spec.platforms.length > 0)
  work.images = await mapLimit(tags, options.jobs, async (tag): Promise<ImageWork> => {
    if (byHead && !roots.has(tag)) {
      const head = await source.repo.headManifest(tag).catch(() => undefined)
      if (head?.digest && options.known!(dest, tag, head.digest)) return {tag, status: 'current', digest: head.digest}
    }
    if (!roots.has(tag)) await read(tag)
    const m = roots.get(tag)!
    if (m instanceof Error) return {tag, status: 'failed', ...failure(m)}
    if (options.known?.(dest, tag, m.digest)) return {tag, status: 'current', manifest: m, digest: m.digest}
    try {
      let current: boolean
      if (present) current = present.get(tag) === m.digest
      else if (pair.dest.kind === 'archives') current = (await archiveDigests(pair.dest.format, archivePath(pair.dest, tag))).includes(m.digest)
      else if (atDest) current = (await atDest(tag)) === m.digest
      else current = false
      return {tag, status: current ? 'current' : 'copy', manifest: m, digest: m.digest}
    } catch (e) {
      return {tag, status: 'failed', manifest: m, digest: m.digest, ...failure(e)}
    }
  })
  work.newAtDest = atDest?.isNew()
  return work
}

/**
 * destDigests answers "which digest has this tag at the destination" for the tags of one
 * repository. The first tag asked gets a manifest HEAD; when the tag is not there (a new
 * mirror, or new tags), the repository's tag list is read once and tags missing from it need
 * no HEAD (one GET instead of a HEAD per tag); tags on the list, or when the list cannot be
 * read, get their HEAD.
 */
function destDigests(session: Session, repo: Repository): ((tag: string) => Promise<string | undefined>) & {isNew(): boolean} {
  const client = session.repository(repo)
  let first: Promise<boolean> | undefined
  let list: Promise<Set<string> | undefined> | undefined
  let unknown = false
  const head = async (tag: string) => (await client.headManifest(tag))?.digest
  const digestOf = async (tag: string) => {
    if (!first) {
      const digest = head(tag)
      first = digest.then((d) => d === undefined, () => false)
      return digest
    }
    if (await first) {
      list ??= client.tags().then(
        (t) => new Set(t),
        (e) => {
          unknown = e instanceof NotFoundError
          return unknown ? new Set<string>() : undefined
        },
      )
      const tags = await list
      if (tags && !tags.has(tag)) return undefined
    }
    return head(tag)
  }
  return Object.assign(digestOf, {isNew: () => unknown})
}

/** createdOf reads the config's `created` of an image, or of an index's first image. */
async function createdOf(source: RegistrySource, m: ManifestBytes | Error | undefined): Promise<string | undefined> {
  if (!m || m instanceof Error) return undefined
  try {
    let parsed = parseManifest(m.bytes, m.mediaType)
    if (parsed.kind === 'index') {
      const first = (parsed.manifest as ImageIndex).manifests[0]
      if (!first) return undefined
      const child = await source.manifest(first)
      parsed = parseManifest(child.bytes, child.mediaType)
    }
    const config = (parsed.manifest as ImageManifest).config
    if (!config) return undefined
    const bytes = await readBody(await source.repo.blob(config.digest, config.size), 4 * 1024 * 1024, `config ${source.repo.name}@${config.digest}`)
    return (JSON.parse(bytes.toString('utf8')) as ImageConfig).created
  } catch {
    return undefined
  }
}

/** layoutTags reads an OCI layout's index.json: ref name → digest (empty when there is no layout). */
async function layoutTags(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>()
  try {
    const index = JSON.parse(await fsp.readFile(path.join(dir, 'index.json'), 'utf8')) as ImageIndex
    for (const d of index.manifests ?? []) {
      const name = d.annotations?.['org.opencontainers.image.ref.name']
      if (name) out.set(name, d.digest)
    }
  } catch {
    // no layout yet
  }
  return out
}

/** repoFailure: why a whole repository could not be resolved (its tag list, the catalog), as RepoWork records it */
function repoFailure(e: unknown): {error: string; exitCode: number} {
  const {reason, exitCode} = failure(e)
  return {error: reason, exitCode}
}

export function failure(e: unknown): {reason: string; exitCode: number} {
  return {reason: e instanceof Error ? e.message : String(e), exitCode: isOcitoolError(e) ? e.exitCode : 1}
}
