import {Args, Flags} from '@oclif/core'
import {BlobStoreCommand} from '../../lib/cli/dxf.js'
import * as ops from '../../lib/ops/alias.js'

export default class AliasDigest extends BlobStoreCommand {
  static override summary = 'Print the config blob digest of aliases: an alias\'s first blob, an image\'s ID'
  static override description = 'python-dxf\'s get-digest (also accepted as that name).'
  static override aliases = ['get-digest']
  static override examples = ['<%= config.bin %> <%= command.id %> registry.example.com/store dataset']
  static override strict = false
  static override args = {
    repo: Args.string({required: true, description: 'REGISTRY/REPO (or REPO on DXF_HOST)'}),
    name: Args.string({required: true, description: 'the alias (several allowed)'}),
  }
  static override flags = {
    platform: Flags.string({description: 'the platform of a multi-platform alias (default DXF_PLATFORM)', helpValue: 'OS/ARCH[/VARIANT]'}),
  }

  async run(): Promise<void> {
    const {args, argv, flags: f} = await this.parseCommand(AliasDigest)
    const repo = this.repository(args.repo)
    for (const name of (argv as string[]).slice(1)) this.log(await ops.configDigest(repo, name, {...this.storeOptions(), platform: this.dxfPlatform(f.platform)}))
  }
}
