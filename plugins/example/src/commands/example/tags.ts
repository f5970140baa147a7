import {Args} from '@oclif/core'
import {name, ops} from 'ocitool'
import {OcitoolCommand} from 'ocitool/cli'

/**
 * `ocitool example tags REPO`: the tags of a repository, through the core's registry client,
 * so --insecure, --username, stored logins and every plugin's keychain apply as in `ocitool ls`.
 */
export default class Tags extends OcitoolCommand {
  static override summary = 'List the tags of a repository (example plugin)'
  static override examples = ['<%= config.bin %> <%= command.id %> registry.example.com/app']
  static override enableJsonFlag = true
  static override args = {repository: Args.string({required: true, description: 'repository (REGISTRY/REPO)'})}

  async run(): Promise<{tags: string[]}> {
    const {args} = await this.parseCommand(Tags)
    const tags = await ops.listTags(name.parseRepository(args.repository), this.remoteOptions())
    for (const t of tags) this.log(t)
    return {tags}
  }
}
