import {Args, Flags} from '@oclif/core'
import {OcitoolCommand} from '../../lib/cli/command.js'
import {parseReference, parseRepository} from '../../lib/name/reference.js'
import * as ops from '../../lib/ops/auth.js'

export default class Token extends OcitoolCommand {
  static override summary = 'Get a registry token for a repository'
  static override description = 'Prints {"token": …} (or, with --header, the whole Authorization header) for pull, and push with --push.'
  static override examples = [
    '<%= config.bin %> <%= command.id %> registry.example.com/app --push',
    'curl -H "$(<%= config.bin %> <%= command.id %> registry.example.com/app -H)" https://registry.example.com/v2/app/tags/list',
  ]
  static override args = {repository: Args.string({required: true, description: 'repository (REGISTRY/REPO)'})}
  static override flags = {
    push: Flags.boolean({description: 'ask for push access too'}),
    mount: Flags.string({char: 'm', description: 'also ask for pull access to this repository (for cross-repository mounts; repeatable)', multiple: true, multipleNonGreedy: true}),
    header: Flags.boolean({char: 'H', description: 'print an "Authorization: …" header line instead of JSON'}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parseCommand(Token)
    const repo = args.repository.includes('@') || /:[^/]*$/.test(args.repository.replace(/^[^/]*\//, '')) ? parseReference(args.repository) : parseRepository(args.repository)
    const mount = (flags.mount ?? []).map((m) => parseRepository(m.includes('/') && /[.:]/.test(m.split('/')[0]) ? m : `${repo.registry}/${m}`))
    const result = await ops.token(repo, {...this.remoteOptions(), push: flags.push, mount})
    this.log(flags.header ? `Authorization: ${result.header}` : JSON.stringify(result.token ? {token: result.token} : {header: result.header}))
  }
}
