import {Args} from '@oclif/core'
import {OcitoolCommand} from '../../lib/cli/command.js'
import {parseRegistry} from '../../lib/name/reference.js'
import * as ops from '../../lib/ops/auth.js'

export default class Get extends OcitoolCommand {
  static override summary = 'Print the credentials ocitool would use for a registry, as a credential helper does'
  static override description =
    'Output is the docker-credential-helper `get` answer: {"ServerURL","Username","Secret"}. With no argument the server is read from stdin, so ocitool can serve as a credential helper.'
  static override examples = ['<%= config.bin %> <%= command.id %> registry.example.com', 'echo registry.example.com | <%= config.bin %> <%= command.id %>']
  static override enableJsonFlag = true
  static override args = {server: Args.string({description: 'registry host[:port]'})}

  async run(): Promise<{ServerURL: string; Username: string; Secret: string}> {
    const {args} = await this.parseCommand(Get)
    const server = args.server ?? (await stdinText()).trim()
    const registry = parseRegistry(server.replace(/^https?:\/\//, '').replace(/\/.*$/, ''))
    const keychain = this.remoteOptions().keychain!
    const {ServerURL, Username, Secret} = await ops.get(registry, keychain)
    if (!this.jsonEnabled()) this.log(JSON.stringify({ServerURL, Username, Secret}))
    return {ServerURL, Username, Secret}
  }
}

async function stdinText(): Promise<string> {
  const chunks: Buffer[] = []
  for await (const c of process.stdin) chunks.push(c as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}
