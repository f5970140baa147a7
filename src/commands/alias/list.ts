import {Args} from '@oclif/core'
import {OcitoolCommand} from '../../lib/cli/command.js'
import {parseRepository} from '../../lib/name/reference.js'
import * as ops from '../../lib/ops/alias.js'

export default class AliasList extends OcitoolCommand {
  static override summary = 'List the aliases of a repository'
  static override examples = ['<%= config.bin %> <%= command.id %> registry.example.com/store']
  static override args = {repo: Args.string({required: true, description: 'REGISTRY/REPO'})}

  async run(): Promise<void> {
    const {args} = await this.parseCommand(AliasList)
    for (const name of await ops.list(parseRepository(args.repo), this.remoteOptions())) this.log(name)
  }
}
