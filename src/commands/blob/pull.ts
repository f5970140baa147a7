import {Args, Flags} from '@oclif/core'
import {OcitoolCommand} from '../../lib/cli/command.js'
import * as flags from '../../lib/cli/flags.js'
import {parseRepository} from '../../lib/name/reference.js'
import * as ops from '../../lib/ops/blobstore.js'

export default class BlobPull extends OcitoolCommand {
  static override summary = 'Download blobs (by digest or @ALIAS), verified, to stdout or a file'
  static override description = 'With --output the bytes go to a temporary file renamed into place only when they match their digest: nothing is written on a mismatch (exit 6).'
  static override examples = ['<%= config.bin %> <%= command.id %> registry.example.com/store sha256:… --output data.bin', '<%= config.bin %> <%= command.id %> registry.example.com/store @dataset > all.bin']
  static override strict = false
  static override args = {
    repo: Args.string({required: true, description: 'REGISTRY/REPO'}),
    blob: Args.string({required: true, description: 'DIGEST or @ALIAS (several allowed)'}),
  }
  static override flags = {
    output: Flags.string({char: 'o', description: 'write to this file instead of stdout (- is stdout)'}),
    progress: flags.progress,
  }

  async run(): Promise<void> {
    const {args, flags: f, argv} = await this.parseCommand(BlobPull)
    const items = (argv as string[]).slice(1)
    await this.withProgress(f.progress, 'downloading', (onEvent) =>
      ops.pull(parseRepository(args.repo), items, f.output && f.output !== '-' ? {file: f.output} : {out: process.stdout}, {...this.remoteOptions(), onEvent}))
  }
}
