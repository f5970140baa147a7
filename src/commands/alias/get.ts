import {Args} from '@oclif/core'
import {OcitoolCommand} from '../../lib/cli/command.js'
import {parseRepository} from '../../lib/name/reference.js'
import * as ops from '../../lib/ops/alias.js'

export default class AliasGet extends OcitoolCommand {
  static override summary = 'Print the blob digests an alias names, one a line'
  static override examples = ['<%= config.bin %> <%= command.id %> registry.example.com/store dataset']
  static override args = {
    repo: Args.string({required: true, description: 'REGISTRY/REPO'}),
    name: Args.string({required: true, description: 'the alias'}),
  }

  async run(): Promise<void> {
    const {args} = await this.parseCommand(AliasGet)
    for (const d of await ops.get(parseRepository(args.repo), args.name, this.remoteOptions())) this.log(d)
  }
}
