import {Flags} from '@oclif/core'
import {OcitoolCommand} from '../lib/cli/command.js'
import * as flags from '../lib/cli/flags.js'
import {UsageError} from '../lib/errors.js'
import * as ops from '../lib/ops/copy.js'
import * as fast from '../lib/ops/fast-layout.js'
import {parseReference} from '../lib/name/reference.js'
import {type Location, parseLocation} from '../lib/stores/location.js'

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
    format: Flags.string({description: 'output format', options: ['tarball', 'legacy', 'oci'], default: 'tarball'}),
    'cache-path': Flags.string({char: 'c', description: 'content-addressed blob cache directory, reused across runs'}),
    'annotate-ref': Flags.boolean({description: 'with --format oci, name each image by its full reference (org.opencontainers.image.ref.name)'}),
    jobs: flags.jobs,
    ...flags.transferPlatformFlags,
    'allow-nondistributable-artifacts': Flags.boolean({allowNo: true, description: 'copy foreign (non-distributable) layers too (tarball formats: by default those the registry serves, as crane and docker save include them)'}),
    progress: flags.progress,
    name: Flags.string({description: "containerregistry's puller: the image to pull (with --directory)", dependsOn: ['directory']}),
    directory: Flags.string({description: "containerregistry's puller: write its \"fast\" directory (config.json, digest, manifest.json, NNN.tar.gz, NNN.sha256)", dependsOn: ['name']}),
    'client-config-dir': Flags.string({description: 'the directory of the Docker config.json to read credentials from (instead of DOCKER_CONFIG)'}),
  }

  async run(): Promise<ops.CopyResult | fast.FastLayoutResult> {
    const {argv, flags: f} = await this.parseCommand(Pull)
    if (f['client-config-dir']) process.env.DOCKER_CONFIG = f['client-config-dir']
    const positional = argv as string[]
    if (f.name !== undefined) {
      if (positional.length > 0) throw new UsageError('pull --name IMAGE --directory DIR takes no other arguments')
      const platforms = flags.platformsFrom(f)
      const r = await fast.pullFast(parseReference(f.name), f.directory!, {...this.remoteOptions(), platform: Array.isArray(platforms) ? platforms[0] : undefined})
      this.log(`${parseReference(f.name).context()}@${r.digest}`)
      return r
    }
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
