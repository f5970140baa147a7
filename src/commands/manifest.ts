import {Args} from '@oclif/core'
import {OcitoolCommand} from '../lib/cli/command.js'
import * as flags from '../lib/cli/flags.js'
import {parseReference} from '../lib/name/reference.js'
import * as ops from '../lib/ops/manifest.js'

export default class Manifest extends OcitoolCommand {
  static override summary = 'Print the manifest of an image or index, exactly as the registry stores it'
  static override examples = [
    '<%= config.bin %> <%= command.id %> registry.example.com/app:1.0',
    '<%= config.bin %> <%= command.id %> registry.example.com/app:1.0 --platform linux/arm64',
  ]
  static override args = {image: Args.string({required: true, description: 'image reference (REGISTRY/REPO:TAG or @DIGEST)'})}
  static override flags = {platform: flags.platform()}

  async run(): Promise<void> {
    const {args, flags} = await this.parseCommand(Manifest)
    const m = await ops.manifest(parseReference(args.image), {...this.remoteOptions(), platform: flags.platform})
    await this.writeOut(m.bytes)
  }
}
