import {Flags} from '@oclif/core'
import {OcitoolCommand} from '../lib/cli/command.js'
import * as flags from '../lib/cli/flags.js'
import {UsageError} from '../lib/errors.js'
import * as ops from '../lib/ops/copy.js'
import * as fast from '../lib/ops/fast-layout.js'
import {type Location, describeLocation, fileLocation, parseLocation} from '../lib/stores/location.js'

export default class Pull extends OcitoolCommand {
  static override summary = 'Pull images into a tarball or an OCI layout'
  static override description = `The last argument is the output: a docker tarball FILE (--format tarball, the default; "-" for stdout; several images go into one file), a legacy docker tarball (--format legacy), or an OCI layout DIR (--format oci; pulling into an existing layout adds to it).
A docker tarball holds single images: an index is resolved to --platform (linux/amd64 by default), and its manifest is stored beside it so that pushing the tarball gives back the same digest.`
  static override examples = [
    '<%= config.bin %> <%= command.id %> registry.example.com/app:1.0 app.tar',
    '<%= config.bin %> <%= command.id %> registry.example.com/app:1.0 registry.example.com/db:2 images.tar --cache-path ~/.cache/ocitool',
    '<%= config.bin %> <%= command.id %> registry.example.com/app:1.0 ./layout --format oci --platform all',
  ]
  static override strict = false
  static override enableJsonFlag = true
  static override usage = '<%= command.id %> IMAGE... PATH'
  static override flags = {
    stderrthreshold: flags.stderrThreshold(),
    format: Flags.string({description: 'output format (with --directory: tar.gz, the default, or tar)', options: ['tarball', 'legacy', 'oci', 'tar.gz', 'tar']}),
    'cache-path': Flags.string({char: 'c', description: 'content-addressed blob cache directory, reused across runs'}),
    'annotate-ref': Flags.boolean({description: 'with --format oci, name each image by its full reference (org.opencontainers.image.ref.name)'}),
    jobs: flags.jobs,
    ...flags.transferPlatformFlags,
    'allow-nondistributable-artifacts': Flags.boolean({allowNo: true, description: 'copy foreign (non-distributable) layers too (tarball formats: by default those the registry serves, as crane and docker save include them)'}),
    progress: flags.progress,
    name: Flags.string({description: "containerregistry's puller: the image to pull (with --directory)", dependsOn: ['directory']}),
    directory: Flags.string({description: "containerregistry's puller (with --name) and importer (with --tarball): write the \"fast\" directory (config.json, digest, manifest.json, NNN.tar.gz, NNN.sha256)"}),
    tarball: Flags.string({description: "containerregistry's importer: the docker tarball to write as --directory", exclusive: ['name'], dependsOn: ['directory']}),
    'client-config-dir': Flags.string({description: 'the directory of the Docker config.json to read credentials from (instead of DOCKER_CONFIG)'}),
  }

  async run(): Promise<ops.CopyResult | fast.FastLayoutResult> {
    const {argv, flags: f} = await this.parseCommand(Pull)
    if (f['client-config-dir']) process.env.DOCKER_CONFIG = f['client-config-dir']
    const positional = argv as string[]
    if (f.directory !== undefined) {
      const from = f.name ?? f.tarball
      if (from === undefined) throw new UsageError('pull --directory DIR needs --name IMAGE (puller) or --tarball FILE (importer)')
      if (positional.length > 0) throw new UsageError('pull --directory DIR takes no other arguments')
      if (f.format !== undefined && f.format !== 'tar' && f.format !== 'tar.gz') throw new UsageError('with --directory, --format is tar.gz or tar')
      const platforms = flags.platformsFrom(f)
      const loc = f.name !== undefined ? parseLocation(f.name) : fileLocation(f.tarball!)
      const r = await fast.pullFast(loc, f.directory, {...this.remoteOptions(), platform: Array.isArray(platforms) ? platforms[0] : undefined, format: f.format as 'tar' | 'tar.gz' | undefined})
      this.log(loc.kind === 'registry' ? `${loc.ref.context()}@${r.digest}` : `${describeLocation(loc)}@${r.digest}`)
      return r
    }
    if (f.format === 'tar' || f.format === 'tar.gz') throw new UsageError('--format tar and tar.gz are for --directory')
    if (positional.length < 2) throw new UsageError('pull needs at least one IMAGE and the output PATH')
    const path = positional.at(-1)!
    const images = positional.slice(0, -1).map((s) => parseLocation(s))
    const dst: Location =
      f.format === 'oci' ? {kind: 'oci', path} : {kind: 'docker-archive', path, ...(f.format === 'legacy' ? {legacy: true} : {})}
    const result = await this.withProgress(f.progress, 'pulling', (onEvent) =>
      ops.copy(images, dst, {
        ...this.remoteOptions(),
        jobs: f.jobs,
        platforms: flags.platformsFrom(f),
        asIndex: f['as-index'],
        allowNondistributable: f['allow-nondistributable-artifacts'] ?? (f.format === 'oci' ? false : 'if-present'),
        cachePath: f['cache-path'],
        annotateRef: f['annotate-ref'] ? 'full' : 'tag',
        onEvent,
      }))
    if (path !== '-') for (const im of result.images) this.log(im.reference)
    return result
  }
}
