import {Args} from '@oclif/core'
import {OcitoolCommand} from '../../lib/cli/command.js'
import {parseRegistry} from '../../lib/name/reference.js'
import * as ops from '../../lib/ops/auth.js'

export default class Logout extends OcitoolCommand {
  static override summary = 'Forget the stored credentials of a registry'
  static override examples = ['<%= config.bin %> <%= command.id %> registry.example.com']
  static override args = {server: Args.string({description: 'registry host[:port] (default: Docker Hub)', default: 'index.docker.io'})}

  async run(): Promise<void> {
    const {args} = await this.parseCommand(Logout)
    const registry = parseRegistry(args.server)
    const {removed, location} = await ops.logout(registry)
    process.stderr.write(removed ? `removed the credentials of ${registry} from ${location}\n` : `no credentials stored for ${registry}\n`)
  }
}
