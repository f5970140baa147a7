import {Args, Flags} from '@oclif/core'
import {BlobStoreCommand, progressFlag} from '../../lib/cli/dxf.js'
import * as ops from '../../lib/ops/blobstore.js'

export default class BlobPull extends BlobStoreCommand {
  static override summary = 'Download blobs (by digest or @ALIAS), verified, to stdout or a file'
  static override description = `With --output the bytes go to a temporary file renamed into place only when they match their digest: nothing is written on a mismatch (exit 6).
Also as pull-blob (python-dxf); DXF_BLOB_INFO=1 writes "DIGEST SIZE" before each blob, DXF_PLATFORM picks a multi-platform alias's platform, DXF_CHUNK_SIZE=N hands each blob on in pieces of N bytes.`
  static override aliases = ['pull-blob']
  static override examples = ['<%= config.bin %> <%= command.id %> registry.example.com/store sha256:… --output data.bin', '<%= config.bin %> <%= command.id %> registry.example.com/store @dataset > all.bin']
  static override strict = false
  static override args = {
    repo: Args.string({required: true, description: 'REGISTRY/REPO (or REPO on DXF_HOST)'}),
    blob: Args.string({required: true, description: 'DIGEST or @ALIAS (several allowed)'}),
  }
  static override flags = {
    output: Flags.string({char: 'o', description: 'write to this file instead of stdout (- is stdout)'}),
    platform: Flags.string({description: 'the platform of a multi-platform alias (default DXF_PLATFORM)', helpValue: 'OS/ARCH[/VARIANT]'}),
    progress: progressFlag,
  }

  async run(): Promise<void> {
    const {args, flags: f, argv} = await this.parseCommand(BlobPull)
    const items = (argv as string[]).slice(1)
    const target = f.output && f.output !== '-' ? {file: f.output} : {out: process.stdout} // - is stdout
    await this.withProgress(this.dxfProgress(f.progress), 'downloading', (onEvent) =>
      ops.pull(this.repository(args.repo), items, target, {...this.storeOptions(), onEvent, platform: this.dxfPlatform(f.platform), blobInfo: this.dxfBlobInfo(), chunkSize: this.dxfChunkSize()}))
  }
}
