import {Args, Flags} from '@oclif/core'
import {BlobStoreCommand} from '../../lib/cli/dxf.js'
import * as ops from '../../lib/ops/alias.js'

export default class AliasManifest extends BlobStoreCommand {
  static override summary = 'Print the manifest of aliases exactly as the registry stores it'
  static override description = 'python-dxf\'s get-manifest (also accepted as that name).'
  static override aliases = ['get-manifest']
  static override examples = ['<%= config.bin %> <%= command.id %> registry.example.com/store dataset | jq']
  static override strict = false
  static override args = {
    repo: Args.string({required: true, description: 'REGISTRY/REPO (or REPO on DXF_HOST)'}),
    name: Args.string({required: true, description: 'the alias (several allowed)'}),
  }
  static override flags = {
    platform: Flags.string({description: 'the platform of a multi-platform alias (default DXF_PLATFORM)', helpValue: 'OS/ARCH[/VARIANT]'}),
  }

  async run(): Promise<void> {
    const {args, argv, flags: f} = await this.parseCommand(AliasManifest)
    const repo = this.repository(args.repo)
    for (const name of (argv as string[]).slice(1)) await this.writeOut(await ops.manifest(repo, name, {...this.storeOptions(), platform: this.dxfPlatform(f.platform)}))
  }
}
