import {Args, loadHelpClass} from '@oclif/core'
import {BlobStoreCommand} from '../../lib/cli/dxf.js'
import {OcitoolError, UsageError} from '../../lib/errors.js'
import * as ops from '../../lib/ops/auth.js'

const ACTIONS = ['pull', 'push', 'delete', '*'] as const
type Action = (typeof ACTIONS)[number]

export default class Auth extends BlobStoreCommand {
  static override summary = 'Print a registry token for REPO and ACTIONs (python-dxf\'s auth)'
  static override description = `ACTION is pull (the default), push, delete or *; the token alone is printed, for DXF_TOKEN=$(<%= config.bin %> auth REPO pull), which the blob and alias commands then send. Credentials as every command reads them, DXF_USERNAME/DXF_PASSWORD and DXF_AUTHORIZATION included; a bare REPO is on DXF_HOST. A registry with Basic authentication or none has no token: nothing is printed (as dxf), with a warning. With no REPO, the auth commands are listed.`
  static override examples = ['DXF_TOKEN=$(<%= config.bin %> <%= command.id %> registry.example.com/fred/datalogger pull)', '<%= config.bin %> <%= command.id %> fred/datalogger pull push']
  static override strict = false
  static override usage = ['<%= command.id %> REPO [ACTION...]']
  static override args = {
    repo: Args.string({description: 'REGISTRY/REPO (or REPO on DXF_HOST)'}),
    action: Args.string({description: 'pull, push, delete or * (several allowed)'}),
  }

  async run(): Promise<void> {
    const {args, positional} = await this.parseCommand(Auth)
    if (args.repo === undefined) {
      const Help = await loadHelpClass(this.config)
      await new Help(this.config).showHelp(['auth'])
      return
    }
    const actions = positional.slice(1).map((a) => {
      if (!(ACTIONS as readonly string[]).includes(a)) throw new UsageError(`"${a}": an action is pull, push, delete or *`, {code: 'BAD_ACTION'})
      return a as Action
    })
    const repo = this.repository(args.repo)
    try {
      const result = await ops.token(repo, {...this.storeOptions({token: false}), actions: [...new Set(actions)]})
      if (result.token === undefined) this.warnLine(`${repo.registry} uses ${result.scheme} authentication: it has no token to print`)
      else this.log(result.token)
    } catch (e) {
      if (!(e instanceof OcitoolError && e.code === 'NO_AUTH')) throw e
      this.warnLine(`${repo.registry} asks for no credentials: it has no token to print`)
    }
  }
}
