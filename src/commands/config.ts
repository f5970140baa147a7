import {Args} from '@oclif/core'
import {OcitoolCommand} from '../lib/cli/command.js'
import * as flags from '../lib/cli/flags.js'
import {parseReference} from '../lib/name/reference.js'
import * as ops from '../lib/ops/config.js'

export default class Config extends OcitoolCommand {
  static override summary = 'Print the config blob of an image, exactly as stored'
  static override description = 'For an index, --platform picks the image (linux/amd64 when not given, as crane does).'
  static override examples = ['<%= config.bin %> <%= command.id %> registry.example.com/app:1.0 | jq .config.Env']
  static override args = {image: Args.string({required: true, description: 'image reference'})}
  static override flags = {platform: flags.platform()}

  async run(): Promise<void> {
    const {args, flags} = await this.parseCommand(Config)
    const bytes = await ops.config(parseReference(args.image), {...this.remoteOptions(), platform: flags.platform})
    await this.writeOut(bytes)
  }
}
