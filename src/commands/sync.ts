import {Args, Flags} from '@oclif/core'
import {OcitoolCommand} from '../lib/cli/command.js'
import * as flags from '../lib/cli/flags.js'
import {UsageError} from '../lib/errors.js'
import {parseShard, shardFromEnv} from '../lib/sync/shard.js'
import type {SyncReport} from '../lib/sync/report.js'
import {type DestEndpoint, type SourceEndpoint, type SyncSpec, parseDest, parseSource} from '../lib/sync/spec.js'
import {sideRegistrySettings} from '../lib/remote/side-tls.js'
import {sync} from '../lib/sync/run.js'
import {syncProgress} from '../lib/cli/sync-progress.js'
import type {ProgressMode} from '../lib/cli/progress.js'
import {Journal} from '../lib/sync/journal.js'
import {loadConfig} from '../lib/sync/config.js'
import {renderReport} from '../lib/cli/sync-output.js'

export default class Sync extends OcitoolCommand {
  static override summary = 'Mirror repositories: every tag of SRC (a repository, or every repository under a prefix ending in /) to DST'
  static override description = `SRC is a repository (all its tags) or a prefix ending in "/" (every repository of the catalog under it); DST the matching repository or prefix, oci:DIR, or a directory of per-tag files: docker-archive:DIR/ or oci-archive:DIR/ (DIR/<repository>/<tag>.tar), dir:DIR (DIR/<repository>:<tag>/, as skopeo sync --dest dir writes).
Images the destination has already (same digest under the tag: one manifest HEAD) are left alone; the others move on one transfer engine, several at once under one budget of --jobs blob transfers, each blob once (mounted between repositories of the destination). One failing image does not stop the others; the exit code is non-zero when any failed.`
  static override examples = [
    '<%= config.bin %> <%= command.id %> registry.example.com/team/app mirror.example.com/team/app --semver ">=1.0" --newest 5',
    '<%= config.bin %> <%= command.id %> registry.example.com/team/ mirror.example.com/mirror/team/ --exclude ".*-rc.*" --dry-run --json',
    '<%= config.bin %> <%= command.id %> registry.example.com/ mirror.example.com/ --shard 0/3 --json > shard-0.json',
    '<%= config.bin %> <%= command.id %> registry.example.com/team/ docker-archive:/media/usb/team/ --platform linux/amd64',
  ]
  static override enableJsonFlag = true
  static override args = {
    src: Args.string({description: 'source repository, or prefix ending in /'}),
    dst: Args.string({description: 'destination repository, prefix ending in /, oci:DIR, docker-archive:DIR/, oci-archive:DIR/ or dir:DIR'}),
  }
  static override flags = {
    config: Flags.string({description: 'a YAML file of sources (src, dst, filters, platforms, referrers each) and per-registry settings (concurrency, requests-per-second, insecure); see docs/sync.md', helpValue: 'FILE', exclusive: ['include', 'exclude', 'semver', 'newest', 'platform', 'referrers']}),
    include: Flags.string({description: 'take tags matching this regular expression (whole tag; repeatable: any)', multiple: true, multipleNonGreedy: true}),
    exclude: Flags.string({description: 'leave tags matching this regular expression (whole tag; repeatable)', multiple: true, multipleNonGreedy: true}),
    semver: Flags.string({description: 'take version tags in this semver range (e.g. ">=1.2 <2"); other tags are left'}),
    newest: Flags.integer({description: 'only the newest N tags (after the other filters)', min: 1}),
    'newest-by': Flags.string({description: 'what "newest" means: semver order, or the config\'s created time', options: ['semver', 'created'], default: 'semver'}),
    platform: Flags.string({description: 'platform(s) to keep from an index: os/arch[/variant], a comma list, or "all" (default: the whole index)', helpValue: 'P[,P...]|all'}),
    referrers: Flags.boolean({description: "copy each image's referrers too (signatures, SBOMs)"}),
    'digest-tags': Flags.boolean({description: 'copy sha256-… tags (referrer fallback tags, cosign signatures)', default: true, allowNo: true}),
    'dry-run': Flags.boolean({description: 'resolve everything and print the plan (images to copy / current, blobs and bytes to move, mounts) without writing'}),
    shard: Flags.string({description: 'do only this part of the work, by repository: I/N (0-based); default from JOB_COMPLETION_INDEX and OCITOOL_SHARDS', helpValue: 'I/N'}),
    jobs: Flags.integer({char: 'j', description: 'blob transfers at once, across all images', default: 8, min: 1, max: 64}),
    'image-jobs': Flags.integer({description: 'images moved at once (default: twice --jobs; their blob transfers share the --jobs budget)', min: 1, max: 256}),
    'chunk-size': Flags.integer({description: 'upload blobs in PATCH chunks of this many bytes (with --state: 8 MiB unless set), so a cut upload resumes', min: 1}),
    state: Flags.string({description: 'journal FILE (append-only): images done are not looked at again, cut uploads resume from the registry\'s offset', helpValue: 'FILE'}),
    progress: flags.progress,
    'src-tls-verify': Flags.string({description: "false: do not verify the source registry's TLS certificate (and allow plain HTTP); as skopeo, written --src-tls-verify=false", helpGroup: 'REGISTRY', helpValue: 'true|false'}),
    'dest-tls-verify': Flags.string({description: "false: do not verify the destination registry's TLS certificate (and allow plain HTTP)", helpGroup: 'REGISTRY', helpValue: 'true|false'}),
    'src-cert-dir': Flags.string({description: 'trust the CA certificates DIR/*.crt for the source registry (and its token server)', helpGroup: 'REGISTRY', helpValue: 'DIR'}),
    'dest-cert-dir': Flags.string({description: 'trust the CA certificates DIR/*.crt for the destination registry', helpGroup: 'REGISTRY', helpValue: 'DIR'}),
  }

  async run(): Promise<SyncReport> {
    const {args, flags: f} = await this.parseCommand(Sync)
    const config = f.config ? loadConfig(f.config) : undefined
    if (config && (args.src || args.dst)) throw new UsageError('give SRC DST or --config FILE, not both')
    if (!config && (!args.src || !args.dst)) throw new UsageError('sync needs SRC and DST (or --config FILE)')
    const specs: SyncSpec[] = config ? config.specs : [{
      src: args.src!,
      dst: args.dst!,
      include: f.include,
      exclude: f.exclude,
      semver: f.semver,
      newest: f.newest,
      newestBy: f['newest-by'] as 'semver' | 'created',
      platforms: flags.platformsFrom({platform: f.platform}),
      referrers: f.referrers,
      digestTags: f['digest-tags'],
    }]
    const sideTls = [f['src-tls-verify'], f['src-cert-dir'], f['dest-tls-verify'], f['dest-cert-dir']].some((v) => v !== undefined)
    if (config && sideTls) throw new UsageError('--src-*/--dest-* TLS flags go with SRC DST; a --config file sets "insecure" per registry')
    const remote = this.remoteOptions()
    // a --config file's registries over the registries.json file's
    let registries = config ? {...remote.registries, ...config.registries} : remote.registries
    if (!config && sideTls) {
      const src = parseSource(args.src!)
      const dst = parseDest(args.dst!, src)
      const host = (e: SourceEndpoint | DestEndpoint) => (e.kind === 'repository' ? e.repo.registry : e.kind === 'prefix' ? e.registry : undefined)
      registries = await sideRegistrySettings([
        {flag: 'src', registry: host(src), verify: f['src-tls-verify'], certDir: f['src-cert-dir']},
        {flag: 'dest', registry: host(dst), verify: f['dest-tls-verify'], certDir: f['dest-cert-dir']},
      ], registries)
    }
    const shard = f.shard ? parseShard(f.shard) : shardFromEnv(process.env)
    const journal = Journal.open(f.state)
    const chunkSize = f['chunk-size'] ?? (f.state ? 8 * 1024 * 1024 : undefined)
    const progress = await syncProgress((this.jsonEnabled() ? 'none' : f.progress) as ProgressMode, f['dry-run'] ? 'planning' : 'syncing')
    let report: SyncReport | undefined
    try {
      report = await sync(specs, {...remote, registries, jobs: f.jobs, imageJobs: f['image-jobs'], dryRun: f['dry-run'], shard, chunkSize, journal: f.state ? journal : undefined, sessions: journal, onEvent: progress.onEvent})
    } finally {
      progress.stop(report?.ok ?? false)
      journal.close()
    }
    if (!this.jsonEnabled()) this.log(renderReport(report))
    if (!report.ok) {
      process.exitCode = failureCode(report)
      // the report (stdout) names every failure; stderr gets the one line a script's log shows
      if (!this.jsonEnabled()) this.logToStderr(`Error: ${failureSummary(report)}`)
    }
    return report
  }
}

/** failureSummary: how many failed, and the first reason */
function failureSummary(report: SyncReport): string {
  const reasons: string[] = []
  for (const r of report.repositories) {
    if (r.error) reasons.push(`${r.source}: ${r.error}`)
    for (const t of r.tags) if (t.status === 'failed') reasons.push(`${r.source}:${t.tag}: ${t.reason ?? 'unknown error'}`)
  }
  const n = report.totals.failed
  return `sync: ${n} failed${reasons[0] ? `; the first: ${reasons[0]}` : ''}`
}

/** failureCode: the exit code all failures share, else 1 */
function failureCode(report: SyncReport): number {
  const codes = new Set<number>()
  for (const r of report.repositories) {
    if (r.error) codes.add(r.exitCode ?? 1)
    for (const t of r.tags) if (t.status === 'failed') codes.add(t.exitCode ?? 1)
  }
  return codes.size === 1 ? [...codes][0] : 1
}
