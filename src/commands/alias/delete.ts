import {Args} from '@oclif/core'
import {OcitoolCommand} from '../../lib/cli/command.js'
import {parseRepository} from '../../lib/name/reference.js'
import * as ops from '../../lib/ops/alias.js'

export default class AliasDelete extends OcitoolCommand {
  static override summary = 'Delete an alias; its blobs stay'
  static override examples = ['<%= config.bin %> <%= command.id %> registry.example.com/store dataset']
  static override args = {
    repo: Args.string({required: true, description: 'REGISTRY/REPO'}),
    name: Args.string({required: true, description: 'the alias'}),
  }

  async run(): Promise<void> {
    const {args} = await this.parseCommand(AliasDelete)
    const repo = parseRepository(args.repo)
    const digest = await ops.remove(repo, args.name, this.remoteOptions())
    this.log(`${repo.name}@${digest}`)
  }
}
