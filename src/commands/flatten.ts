import {Args, Flags} from '@oclif/core'
import {OcitoolCommand} from '../lib/cli/command.js'
import * as flags from '../lib/cli/flags.js'
import {UsageError} from '../lib/errors.js'
import type {CopyResult} from '../lib/ops/copy.js'
import * as ops from '../lib/ops/flatten.js'
import {LooseFilesSource} from '../lib/stores/loose.js'
import {byDigestIn, fileLocation, parseLocation} from '../lib/stores/location.js'

export default class Flatten extends OcitoolCommand {
  static override summary = "Squash an image's layers into one and push the result, or write its filesystem and config to files"
  static override description = `Each image (every platform of an index, or the --platform ones) gets one layer holding its applied filesystem: later layers win, whiteouts are applied, hard links and symlinks kept. The config keeps everything but rootfs (one diff id) and history (one "ocitool flatten" entry, created at --created, else SOURCE_DATE_EPOCH, else the image's own created time).
The local form (for build systems, as containerregistry's flattener): --tarball FILE (a docker archive, or any oci:, oci-archive:, docker-archive:, dir: location) --filesystem OUT.tar [--metadata OUT.json] writes the filesystem as a tar and the config as JSON; the files appear only when complete.`
  static override examples = [
    '<%= config.bin %> <%= command.id %> registry.example.com/app:1 --tag registry.example.com/app:1-flat',
    '<%= config.bin %> <%= command.id %> --tarball image.tar --filesystem rootfs.tar --metadata config.json',
  ]
  static override enableJsonFlag = true
  static override args = {image: Args.string({description: 'image (or index) to flatten'})}
  static override flags = {
    stderrthreshold: flags.stderrThreshold(),
    tag: Flags.string({char: 't', description: 'where to push the result (default: the image\'s repository, by digest; prints repo@digest)', exclusive: ['tarball']}),
    platform: Flags.string({description: 'flatten only these platforms of an index (the others are kept): os/arch[/variant], a comma list, or "all"', helpValue: 'P[,P...]|all'}),
    compression: Flags.string({description: 'compression of the new layer', options: ['gzip', 'zstd', 'none'], default: 'gzip'}),
    'compression-level': Flags.integer({description: 'compression level (gzip default 1: fastest)'}),
    created: Flags.string({description: 'created time of the history entry (default SOURCE_DATE_EPOCH, else the image\'s)'}),
    tarball: Flags.string({description: 'local form: the image to read: a docker archive file, - (stdin), or a store name (oci:DIR[:REF], …); with --config, the base of the loose layers', dependsOn: ['filesystem'], helpGroup: 'LOCAL'}),
    filesystem: Flags.string({description: 'local form: write the flattened filesystem (a tar) here; - for stdout', helpGroup: 'LOCAL'}),
    metadata: Flags.string({description: 'local form: write the image config (JSON) here', dependsOn: ['filesystem'], helpGroup: 'LOCAL'}),
    config: Flags.string({description: "local form from loose files (containerregistry's flattener): the config file", dependsOn: ['filesystem'], helpGroup: 'LOCAL'}),
    layer: Flags.string({description: 'a compressed layer file, base first (repeatable)', multiple: true, multipleNonGreedy: true, dependsOn: ['config'], helpGroup: 'LOCAL'}),
    digest: Flags.string({description: "a file holding a --layer's digest (repeatable, checked)", multiple: true, multipleNonGreedy: true, dependsOn: ['layer'], helpGroup: 'LOCAL'}),
    uncompressed_layer: Flags.string({description: 'an uncompressed layer file, after the --layer ones (repeatable)', aliases: ['uncompressed-layer'], multiple: true, multipleNonGreedy: true, dependsOn: ['config'], helpGroup: 'LOCAL'}),
    diff_id: Flags.string({description: "a file holding an --uncompressed_layer's diff_id (repeatable, checked)", aliases: ['diff-id'], multiple: true, multipleNonGreedy: true, dependsOn: ['uncompressed_layer'], helpGroup: 'LOCAL'}),
    jobs: flags.jobs,
    progress: flags.progress,
  }

  async run(): Promise<CopyResult | ops.FlattenToFilesResult> {
    const {args, flags: f} = await this.parseCommand(Flatten)
    if (f.filesystem !== undefined && f.tarball === undefined && f.config === undefined) throw new UsageError('--filesystem needs --tarball FILE or --config FILE')
    if (f.tarball !== undefined || f.config !== undefined) {
      if (args.image !== undefined) throw new UsageError('IMAGE and --tarball/--config are two forms; give one')
      if (f.filesystem === undefined) throw new UsageError('the local form needs --filesystem')
      const src = f.config !== undefined
        ? {source: new LooseFilesSource({config: f.config, layers: f.layer ?? [], digests: f.digest, uncompressed: f.uncompressed_layer, diffIds: f.diff_id, base: f.tarball})}
        : fileLocation(f.tarball!)
      const platforms = flags.platformsFrom(f)
      if (platforms === 'all' || (platforms && platforms.length > 1)) throw new UsageError('the local form flattens one image: --platform names one')
      if (f.filesystem === '-' && process.stdout.isTTY) throw new UsageError('refusing to write a tar to a terminal; name a FILE or redirect stdout')
      return ops.flattenToFiles(src, f.filesystem === '-' ? process.stdout : f.filesystem, f.metadata, {...this.remoteOptions(), platform: platforms?.[0]})
    }
    if (args.image === undefined) throw new UsageError('flatten needs IMAGE (or --tarball and --filesystem)')
    const src = parseLocation(args.image)
    // without --tag, as crane does: pushed by digest to the image's own repository
    const dst = f.tag === undefined ? byDigestIn(src, 'flatten') : parseLocation(f.tag)
    const result = await this.withProgress(f.progress, 'flattening', (onEvent) =>
      ops.flattenImage(src, dst, {
        ...this.remoteOptions(),
        platforms: flags.platformsFrom(f),
        compression: f.compression as 'gzip' | 'zstd' | 'none',
        level: f['compression-level'],
        created: f.created,
        jobs: f.jobs,
        byDigest: f.tag === undefined,
        onEvent,
      }))
    for (const im of result.images) this.log(im.reference)
    return result
  }
}
