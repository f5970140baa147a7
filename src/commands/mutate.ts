import {Args, Flags} from '@oclif/core'
import {OcitoolCommand} from '../lib/cli/command.js'
import * as flags from '../lib/cli/flags.js'
import {UsageError} from '../lib/errors.js'
import type {CopyResult} from '../lib/ops/copy.js'
import * as ops from '../lib/ops/mutate.js'
import {type Location, parseLocation} from '../lib/stores/location.js'

const list = (s?: string) => (s === undefined ? undefined : s === '' ? [] : s.split(','))

export default class Mutate extends OcitoolCommand {
  static override summary = 'Change the config and annotations of an image (every platform of an index) and push it'
  static override description = `Without --tag the result replaces IMAGE's tag. With --repo it is pushed by digest to that repository. An index gets the change on every child image, or only on the --platform ones (the others are kept as they are).`
  static override examples = [
    '<%= config.bin %> <%= command.id %> registry.example.com/app:1 --label org.example.team=core --env MODE=prod -t registry.example.com/app:1-labelled',
    '<%= config.bin %> <%= command.id %> registry.example.com/app:1 --entrypoint /bin/app,--serve --to-oci -o app.tar',
  ]
  static override enableJsonFlag = true
  static override args = {image: Args.string({required: true, description: 'image to change'})}
  static override flags = {
    annotation: Flags.string({char: 'a', description: 'manifest annotation KEY=VALUE (repeatable)', multiple: true, multipleNonGreedy: true}),
    label: Flags.string({char: 'l', description: 'config label KEY=VALUE (repeatable)', multiple: true, multipleNonGreedy: true}),
    env: Flags.string({char: 'e', description: 'environment variable KEY=VALUE (repeatable)', multiple: true, multipleNonGreedy: true}),
    entrypoint: Flags.string({description: 'entrypoint, comma separated ("" clears it)'}),
    cmd: Flags.string({description: 'command, comma separated ("" clears it)'}),
    user: Flags.string({char: 'u', description: 'user to run as'}),
    workdir: Flags.string({char: 'w', description: 'working directory'}),
    'exposed-ports': Flags.string({description: 'ports to expose, comma separated (80, 53/udp)'}),
    'set-platform': Flags.string({description: 'set the config platform os/arch[/variant]'}),
    append: Flags.string({description: 'layer to append (tar, tar.gz, directory, -); repeatable', multiple: true, multipleNonGreedy: true}),
    created: Flags.string({description: 'set the config created time (default: unchanged; SOURCE_DATE_EPOCH applies to appended layers)'}),
    'to-oci': Flags.boolean({description: 'convert Docker media types to OCI', exclusive: ['to-docker']}),
    'to-docker': Flags.boolean({description: 'convert OCI media types to Docker schema 2'}),
    tag: Flags.string({char: 't', description: 'push the result here (default: IMAGE itself)'}),
    repo: Flags.string({description: 'push the result by digest to this repository', exclusive: ['tag']}),
    output: Flags.string({char: 'o', description: 'write a docker tarball to this file instead of pushing'}),
    platform: flags.transferPlatformFlags.platform,
    progress: flags.progress,
  }

  async run(): Promise<CopyResult> {
    const {args, flags: f} = await this.parseCommand(Mutate)
    const src = parseLocation(args.image)
    if (src.kind !== 'registry' && !f.tag && !f.output) throw new UsageError('a local IMAGE needs --tag or --output')
    let dst: Location
    if (f.output) dst = {kind: 'docker-archive', path: f.output, ref: f.tag ?? (src.kind === 'registry' ? src.ref.toString() : undefined)}
    else if (f.repo) {
      dst = parseLocation(f.repo)
      if (dst.kind !== 'registry') throw new UsageError(`--repo ${f.repo}: a registry repository`)
    } else dst = f.tag ? parseLocation(f.tag) : src
    const result = await ops.mutate(
      src,
      dst,
      {
        annotations: ops.parseKeyValues('--annotation', f.annotation),
        labels: ops.parseKeyValues('--label', f.label),
        env: f.env,
        entrypoint: list(f.entrypoint),
        cmd: list(f.cmd),
        user: f.user,
        workdir: f.workdir,
        exposedPorts: list(f['exposed-ports']),
        setPlatform: f['set-platform'],
        created: f.created,
        append: f.append,
        convert: f['to-oci'] ? 'oci' : f['to-docker'] ? 'docker' : undefined,
      },
      {...this.remoteOptions(), platforms: flags.platformsFrom(f), byDigest: f.repo !== undefined},
    )
    for (const im of result.images) this.log(im.reference)
    return result
  }
}
