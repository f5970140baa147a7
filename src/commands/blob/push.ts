import {Args} from '@oclif/core'
import {BlobStoreCommand, progressFlag} from '../../lib/cli/dxf.js'
import * as ops from '../../lib/ops/blobstore.js'

export default class BlobPush extends BlobStoreCommand {
  static override summary = 'Upload a file (or stdin) as a blob and print its digest; @ALIAS names it too'
  static override description = `A file is hashed first and not uploaded when the repository has it; stdin (-) is hashed while it streams and the digest is given at the end of the upload.
python-dxf's form: blob push REPO FILE @ALIAS (also as push-blob); a bare REPO is on DXF_HOST.`
  static override aliases = ['push-blob']
  static override examples = [
    '<%= config.bin %> <%= command.id %> registry.example.com/store ./data.bin',
    'tar c . | <%= config.bin %> <%= command.id %> registry.example.com/store -',
    'DXF_HOST=registry.example.com <%= config.bin %> push-blob fred/datalogger logger.dat @may15-readings',
  ]
  static override enableJsonFlag = true
  static override args = {
    repo: Args.string({required: true, description: 'REGISTRY/REPO (or REPO on DXF_HOST)'}),
    file: Args.string({required: true, description: 'FILE, or - for stdin'}),
    alias: Args.string({ignoreStdin: true, description: '@ALIAS to give the blob'}),
  }
  static override flags = {progress: progressFlag}

  async run(): Promise<{digest: string; size: number; uploaded: boolean}> {
    const {args, flags: f} = await this.parseCommand(BlobPush)
    const alias = ops.aliasArg(args.alias)
    const r = await this.withProgress(this.dxfProgress(f.progress), 'uploading', (onEvent) =>
      ops.push(this.repository(args.repo), args.file, process.stdin, {...this.storeOptions(), onEvent, alias}))
    this.log(r.digest)
    return r
  }
}
