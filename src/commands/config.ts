import {Args} from '@oclif/core'
import {documentJson, documentLine, isBatch} from '../lib/cli/batch.js'
import {OcitoolCommand} from '../lib/cli/command.js'
import * as flags from '../lib/cli/flags.js'
import {parseReference} from '../lib/name/reference.js'
import * as ops from '../lib/ops/config.js'

export default class Config extends OcitoolCommand {
  static override summary = 'Print the config blob of an image, exactly as stored'
  static override description = `For an index, --platform picks the image (linux/amd64 when not given, as crane does).
Several images (or "-": one per line on stdin) are read concurrently on one connection pool; each prints "IMAGE CONFIG" on one line (the config with the whitespace between its tokens dropped) in input order, or with --json {"input", "config"} per line. A failing image prints "Error: IMAGE: ..." on stderr and the others go on; the exit code is the worst of them.`
  static override examples = [
    '<%= config.bin %> <%= command.id %> registry.example.com/app:1.0 | jq .config.Env',
    '<%= config.bin %> <%= command.id %> - --json < images.txt',
  ]
  static override strict = false
  static override enableJsonFlag = true
  static override usage = ['<%= command.id %> IMAGE [IMAGE...]', '<%= command.id %> -']
  static override args = {image: Args.string({required: true, description: 'image reference, or - to read many from stdin'})}
  static override flags = {platform: flags.platform()}

  async run(): Promise<void> {
    const {args, positional, flags} = await this.parseCommand(Config)
    if (isBatch(positional)) {
      await this.runBatch(await this.batchInputs(positional), 16, (input, options) => ops.config(parseReference(input), {...options, platform: flags.platform}), {
        text: (input, bytes) => `${input} ${documentLine(bytes)}`,
        json: (_, bytes) => ({config: documentJson(bytes)}),
      })
      return
    }
    const bytes = await ops.config(parseReference(args.image), {...this.remoteOptions(), platform: flags.platform})
    await this.writeOut(bytes)
  }
}
