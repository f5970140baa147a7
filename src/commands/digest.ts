import {Args} from '@oclif/core'
import {OcitoolCommand} from '../lib/cli/command.js'
import * as flags from '../lib/cli/flags.js'
import {parseReference} from '../lib/name/reference.js'
import * as ops from '../lib/ops/digest.js'

export default class Digest extends OcitoolCommand {
  static override summary = 'Print the digest of an image or index'
  static override description = 'Asks the registry with HEAD (no manifest body moves) and falls back to GET.'
  static override examples = [
    '<%= config.bin %> <%= command.id %> registry.example.com/app:1.0',
    '<%= config.bin %> <%= command.id %> registry.example.com/app:1.0 --platform linux/amd64 --full-ref',
  ]
  static override enableJsonFlag = true
  static override args = {image: Args.string({required: true, description: 'image reference'})}
  static override flags = {platform: flags.platform(), 'full-ref': flags.fullRef}

  async run(): Promise<ops.DigestResult> {
    const {args, flags} = await this.parseCommand(Digest)
    const result = await ops.digest(parseReference(args.image), {...this.remoteOptions(), platform: flags.platform})
    this.log(flags['full-ref'] ? result.fullRef : result.digest)
    return result
  }
}
