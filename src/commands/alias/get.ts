import {Args, Flags} from '@oclif/core'
import {BlobStoreCommand} from '../../lib/cli/dxf.js'
import * as ops from '../../lib/ops/alias.js'

export default class AliasGet extends BlobStoreCommand {
  static override summary = 'Print the blob digests an alias names, one a line'
  static override description = 'Reads python-dxf\'s aliases and ocitool\'s (and, as dxf does, any image manifest: its layers). Also as get-alias; several aliases allowed.'
  static override aliases = ['get-alias']
  static override examples = ['<%= config.bin %> <%= command.id %> registry.example.com/store dataset']
  static override strict = false
  static override enableJsonFlag = true
  static override args = {
    repo: Args.string({required: true, description: 'REGISTRY/REPO (or REPO on DXF_HOST)'}),
    name: Args.string({required: true, description: 'the alias (several allowed)'}),
  }
  static override flags = {
    platform: Flags.string({description: 'the platform of a multi-platform alias (default DXF_PLATFORM)', helpValue: 'OS/ARCH[/VARIANT]'}),
  }

  async run(): Promise<{name: string; digests: string[]}> {
    const {args, argv, flags: f} = await this.parseCommand(AliasGet)
    const repo = this.repository(args.repo)
    const names = (argv as string[]).slice(1)
    const digests: string[] = []
    for (const name of names) digests.push(...(await ops.get(repo, name, {...this.storeOptions(), platform: this.dxfPlatform(f.platform)})))
    if (!this.jsonEnabled()) for (const d of digests) this.log(d)
    return {name: names.join(' '), digests}
  }
}
