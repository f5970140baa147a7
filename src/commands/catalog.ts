import {Args} from '@oclif/core'
import {OcitoolCommand} from '../lib/cli/command.js'
import * as flags from '../lib/cli/flags.js'
import {parseRegistry, registryApiHost} from '../lib/name/reference.js'
import * as ops from '../lib/ops/list.js'

export default class Catalog extends OcitoolCommand {
  static override summary = 'List the repositories of a registry'
  static override description = 'Repositories are printed as the pages of the listing arrive; at most --max-pages pages are followed.'
  static override examples = ['<%= config.bin %> <%= command.id %> registry.example.com --full-ref']
  static override enableJsonFlag = true
  static override args = {registry: Args.string({required: true, description: 'registry host[:port]'})}
  static override flags = {'full-ref': flags.fullRef, 'max-pages': flags.maxPages}

  async run(): Promise<{repositories: string[]}> {
    const {args, flags} = await this.parseCommand(Catalog)
    const registry = parseRegistry(args.registry)
    const options = {...this.remoteOptions(), maxPages: flags['max-pages']}
    if (this.jsonEnabled()) return {repositories: await ops.listRepositories(registry, registryApiHost(registry), options)}
    await ops.eachRepository(registry, registryApiHost(registry), options, (repos) => {
      // one write per page (see ls)
      if (repos.length > 0) this.log((flags['full-ref'] ? repos.map((r) => `${registry}/${r}`) : repos).join('\n'))
    })
    return {repositories: []}
  }
}
