import {Args} from '@oclif/core'
import {OcitoolCommand} from '../../lib/cli/command.js'
import {parseRepository} from '../../lib/name/reference.js'
import * as ops from '../../lib/ops/alias.js'

export default class AliasGet extends OcitoolCommand {
  static override summary = 'Print the blob digests an alias names, one a line'
  static override examples = ['<%= config.bin %> <%= command.id %> registry.example.com/store dataset']
  static override enableJsonFlag = true
  static override args = {
    repo: Args.string({required: true, description: 'REGISTRY/REPO'}),
    name: Args.string({required: true, description: 'the alias'}),
  }

  async run(): Promise<{name: string; digests: string[]}> {
    const {args} = await this.parseCommand(AliasGet)
    const digests = await ops.get(parseRepository(args.repo), args.name, this.remoteOptions())
    if (!this.jsonEnabled()) for (const d of digests) this.log(d)
    return {name: args.name, digests}
  }
}
