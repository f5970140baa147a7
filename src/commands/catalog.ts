import {Args} from '@oclif/core'
import {BlobStoreCommand} from '../lib/cli/dxf.js'
import {UsageError} from '../lib/errors.js'
import * as flags from '../lib/cli/flags.js'
import {parseRegistry, registryApiHost} from '../lib/name/reference.js'
import * as ops from '../lib/ops/list.js'

export default class Catalog extends BlobStoreCommand {
  static override summary = 'List the repositories of a registry'
  static override description = "Repositories are printed as the pages of the listing arrive; at most --max-pages pages are followed. Also as python-dxf's list-repos: without REGISTRY, DXF_HOST's (and dxf's TLS and credential variables) are used."
  static override aliases = ['list-repos']
  static override examples = ['<%= config.bin %> <%= command.id %> registry.example.com --full-ref']
  static override enableJsonFlag = true
  static override args = {registry: Args.string({description: 'registry host[:port] (default DXF_HOST)'})}
  static override flags = {'full-ref': flags.fullRef, 'max-pages': flags.maxPages}

  async run(): Promise<{repositories: string[]}> {
    const {args, flags} = await this.parseCommand(Catalog)
    const host = args.registry ?? this.dxfEnv.DXF_HOST
    if (!host) throw new UsageError('catalog needs a REGISTRY (or DXF_HOST)', {code: 'NO_REGISTRY'})
    const registry = parseRegistry(host)
    const options = {...this.storeOptions(), maxPages: flags['max-pages']}
    if (this.jsonEnabled()) return {repositories: await ops.listRepositories(registry, registryApiHost(registry), options)}
    await ops.eachRepository(registry, registryApiHost(registry), options, (repos) => {
      // one write per page (see ls)
      if (repos.length > 0) this.log((flags['full-ref'] ? repos.map((r) => `${registry}/${r}`) : repos).join('\n'))
    })
    return {repositories: []}
  }
}
