import {Args} from '@oclif/core'
import {documentJson, documentLine, isBatch} from '../lib/cli/batch.js'
import {OcitoolCommand} from '../lib/cli/command.js'
import * as flags from '../lib/cli/flags.js'
import {parseReference} from '../lib/name/reference.js'
import * as ops from '../lib/ops/manifest.js'

export default class Manifest extends OcitoolCommand {
  static override summary = 'Print the manifest of an image or index, exactly as the registry stores it'
  static override description = `Several images (or "-": one per line on stdin) are fetched concurrently on one connection pool; each prints "IMAGE MANIFEST" on one line (the manifest with the whitespace between its tokens dropped) in input order, or with --json {"input", "digest", "mediaType", "manifest"} per line. A failing image prints "Error: IMAGE: ..." on stderr and the others go on; the exit code is the worst of them.`
  static override examples = [
    '<%= config.bin %> <%= command.id %> registry.example.com/app:1.0',
    '<%= config.bin %> <%= command.id %> registry.example.com/app:1.0 --platform linux/arm64',
    '<%= config.bin %> <%= command.id %> registry.example.com/app:1.0 registry.example.com/app:1.1 --json',
  ]
  static override strict = false
  static override enableJsonFlag = true
  static override usage = ['<%= command.id %> IMAGE [IMAGE...]', '<%= command.id %> -']
  static override args = {image: Args.string({required: true, description: 'image reference (REGISTRY/REPO:TAG or @DIGEST), or - to read many from stdin'})}
  static override flags = {platform: flags.platform()}

  async run(): Promise<void> {
    const {args, positional, flags} = await this.parseCommand(Manifest)
    if (isBatch(positional)) {
      await this.runBatch(await this.batchInputs(positional), 16, (input, options) => ops.manifest(parseReference(input), {...options, platform: flags.platform}), {
        text: (input, m) => `${input} ${documentLine(m.bytes)}`,
        json: (_, m) => ({digest: m.digest, mediaType: m.mediaType, manifest: documentJson(m.bytes)}),
      })
      return
    }
    const m = await ops.manifest(parseReference(args.image), {...this.remoteOptions(), platform: flags.platform})
    await this.writeOut(m.bytes)
  }
}
