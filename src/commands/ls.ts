import {Args, Flags} from '@oclif/core'
import {OcitoolCommand} from '../lib/cli/command.js'
import * as flags from '../lib/cli/flags.js'
import {parseRepository} from '../lib/name/reference.js'
import * as ops from '../lib/ops/list.js'

export default class Ls extends OcitoolCommand {
  static override summary = 'List the tags of a repository'
  static override description = 'Tags are printed as the pages of the listing arrive; at most --max-pages pages are followed.'
  static override examples = ['<%= config.bin %> <%= command.id %> registry.example.com/app', '<%= config.bin %> <%= command.id %> registry.example.com/app --omit-digest-tags --full-ref']
  static override enableJsonFlag = true
  static override args = {repository: Args.string({required: true, description: 'repository (REGISTRY/REPO)'})}
  static override flags = {
    'full-ref': flags.fullRef,
    'omit-digest-tags': Flags.boolean({char: 'O', description: 'leave out tags named after digests (sha256-…)'}),
    'max-pages': flags.maxPages,
  }

  async run(): Promise<{tags: string[]}> {
    const {args, flags} = await this.parseCommand(Ls)
    const repo = parseRepository(args.repository)
    const options = {...this.remoteOptions(), omitDigestTags: flags['omit-digest-tags'], maxPages: flags['max-pages']}
    if (this.jsonEnabled()) return {tags: await ops.listTags(repo, options)}
    // one write per page, not per tag: 10,000 writes to a pipe cost a second (issue 14)
    await ops.eachTag(repo, options, (tags) => {
      if (tags.length > 0) this.log((flags['full-ref'] ? tags.map((t) => `${repo.name}:${t}`) : tags).join('\n'))
    })
    return {tags: []}
  }
}
