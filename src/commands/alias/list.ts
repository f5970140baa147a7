import {Args} from '@oclif/core'
import {BlobStoreCommand} from '../../lib/cli/dxf.js'
import * as ops from '../../lib/ops/alias.js'

export default class AliasList extends BlobStoreCommand {
  static override aliases = ['list-aliases']
  static override summary = 'List the aliases of a repository'
  static override examples = ['<%= config.bin %> <%= command.id %> registry.example.com/store']
  static override args = {repo: Args.string({required: true, description: 'REGISTRY/REPO (or REPO on DXF_HOST)'})}

  async run(): Promise<void> {
    const {args} = await this.parseCommand(AliasList)
    for (const name of await ops.list(this.repository(args.repo), this.storeOptions())) this.log(name)
  }
}
