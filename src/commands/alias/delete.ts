import {Args, Flags} from '@oclif/core'
import {BlobStoreCommand} from '../../lib/cli/dxf.js'
import * as ops from '../../lib/ops/alias.js'

export default class AliasDelete extends BlobStoreCommand {
  static override summary = 'Delete aliases and print the blob digests they named; the blobs stay'
  static override description = 'Also as del-alias (python-dxf).'
  static override aliases = ['del-alias']
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
    const {args, argv, flags: f} = await this.parseCommand(AliasDelete)
    const repo = this.repository(args.repo)
    for (const name of (argv as string[]).slice(1)) {
      const r = await ops.remove(repo, name, {...this.storeOptions(), platform: this.dxfPlatform(f.platform)})
      for (const d of r.blobs) this.log(d)
    }
  }
}
