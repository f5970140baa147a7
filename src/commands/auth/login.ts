import {Args, Flags} from '@oclif/core'
import {OcitoolCommand} from '../../lib/cli/command.js'
import {UsageError} from '../../lib/errors.js'
import {parseRegistry, registryApiHost} from '../../lib/name/reference.js'
import * as ops from '../../lib/ops/auth.js'

export default class Login extends OcitoolCommand {
  static override summary = 'Log in to a registry and store the credentials'
  static override description =
    'Checks the credentials against the registry, then stores them in the Docker config file (mode 0600), or in the credential helper it names (credsStore/credHelpers).'
  static override examples = [
    'echo "$TOKEN" | <%= config.bin %> <%= command.id %> registry.example.com -u ci --password-stdin',
  ]
  static override args = {server: Args.string({description: 'registry host[:port] (default: Docker Hub)', default: 'index.docker.io'})}
  static override flags = {
    username: Flags.string({char: 'u', description: 'user name', required: true}),
    password: Flags.string({char: 'p', description: 'password or token (prefer --password-stdin)', exclusive: ['password-stdin']}),
    'no-verify': Flags.boolean({description: 'store the credentials without asking the registry first'}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parseCommand(Login)
    const password = this.password()
    if (password === undefined) throw new UsageError('auth login: give the password with --password-stdin (or -p)')
    const registry = parseRegistry(args.server)
    const {location} = await ops.login(registry, registryApiHost(registry), {username: flags.username as string, password}, {...this.remoteOptions(), noVerify: flags['no-verify']})
    process.stderr.write(`logged in to ${registry} (credentials stored in ${location})\n`)
  }
}
