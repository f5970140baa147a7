import {Args} from '@oclif/core'
import {OcitoolCommand} from '../lib/cli/command.js'
import * as flags from '../lib/cli/flags.js'
import {UsageError} from '../lib/errors.js'
import * as ops from '../lib/ops/export.js'
import {parseLocation} from '../lib/stores/location.js'

export default class Export extends OcitoolCommand {
  static override summary = "Write an image's flattened filesystem as one tar"
  static override description = `Layers are applied in order: later layers win, whiteouts (.wh.NAME, .wh..wh..opq) delete what lower layers had and are not written. Hard links stay hard links (after their targets), symlinks stay symlinks. Every layer is verified against its digest as it streams; FILE appears only when the whole tar was written.
IMAGE is a registry reference, oci:DIR[:TAG], oci-archive:FILE[:TAG], docker-archive:FILE[:REF] or dir:DIR; "-" reads a docker archive (docker save) from stdin. An index gives the image for --platform (default linux/amd64). FILE "-" is stdout.
An entry whose name climbs out of the root (../) fails the export. An entry under a symlink that leads out of the root (var/run -> /run, then var/run/x) is written where the link leads inside it (run/x), as a container sees it.`
  static override examples = [
    '<%= config.bin %> <%= command.id %> registry.example.com/app:1.0 rootfs.tar',
    '<%= config.bin %> <%= command.id %> registry.example.com/app:1.0 - | tar -tvf -',
    'docker save app:1.0 | <%= config.bin %> <%= command.id %> - rootfs.tar',
  ]
  static override args = {
    image: Args.string({required: true, description: 'image to export, or - for a docker archive on stdin'}),
    file: Args.string({required: true, description: 'tar file to write, or - for stdout'}),
  }
  static override flags = {
    platform: flags.platform(),
  }

  async run(): Promise<void> {
    const {args, flags: f} = await this.parseCommand(Export)
    if (args.image === '-' && f['password-stdin']) throw new UsageError('export - reads the image from stdin; it cannot also read a password there')
    if (args.image === '-' && process.stdin.isTTY) throw new UsageError('export - reads a docker archive from stdin; pipe one in (docker save IMAGE | ...)')
    if (args.file === '-' && process.stdout.isTTY) throw new UsageError('refusing to write a tar to a terminal; name a FILE or redirect stdout')
    const src = args.image === '-' ? process.stdin : parseLocation(args.image)
    await ops.exportImage(src, args.file === '-' ? process.stdout : args.file, {...this.remoteOptions(), platform: f.platform})
  }
}
