import {Args} from '@oclif/core'
import {OcitoolCommand} from '../../lib/cli/command.js'
import * as flags from '../../lib/cli/flags.js'
import {parseRepository} from '../../lib/name/reference.js'
import * as ops from '../../lib/ops/blobstore.js'

export default class BlobPush extends OcitoolCommand {
  static override summary = 'Upload a file (or stdin) as a blob and print its digest'
  static override description = 'A file is hashed first and not uploaded when the repository has it; stdin (-) is hashed while it streams and the digest is given at the end of the upload.'
  static override examples = ['<%= config.bin %> <%= command.id %> registry.example.com/store ./data.bin', 'tar c . | <%= config.bin %> <%= command.id %> registry.example.com/store -']
  static override enableJsonFlag = true
  static override args = {
    repo: Args.string({required: true, description: 'REGISTRY/REPO'}),
    file: Args.string({required: true, description: 'FILE, or - for stdin'}),
  }
  static override flags = {progress: flags.progress}

  async run(): Promise<{digest: string; size: number; uploaded: boolean}> {
    const {args, flags: f} = await this.parseCommand(BlobPush)
    const r = await this.withProgress(f.progress, 'uploading', (onEvent) =>
      ops.push(parseRepository(args.repo), args.file, process.stdin, {...this.remoteOptions(), onEvent}))
    this.log(r.digest)
    return r
  }
}
