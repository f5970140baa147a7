import {Args, Flags} from '@oclif/core'
import {BlobStoreCommand} from '../../lib/cli/dxf.js'
import * as ops from '../../lib/ops/blobstore.js'

export default class BlobDelete extends BlobStoreCommand {
  static override summary = 'Delete blobs from a repository (by digest, or every blob of an @ALIAS; the alias stays)'
  static override description = 'Also as del-blob (python-dxf). Prints each deleted digest.'
  static override aliases = ['del-blob']
  static override examples = ['<%= config.bin %> <%= command.id %> registry.example.com/store sha256:…', '<%= config.bin %> <%= command.id %> registry.example.com/store @dataset']
  static override strict = false
  static override args = {
    repo: Args.string({required: true, description: 'REGISTRY/REPO (or REPO on DXF_HOST)'}),
    blob: Args.string({required: true, description: 'DIGEST or @ALIAS (several allowed)'}),
  }
  static override flags = {
    platform: Flags.string({description: 'the platform of a multi-platform alias (default DXF_PLATFORM)', helpValue: 'OS/ARCH[/VARIANT]'}),
  }

  async run(): Promise<void> {
    const {args, argv, flags: f} = await this.parseCommand(BlobDelete)
    const repo = this.repository(args.repo)
    const deleted = await ops.remove(repo, (argv as string[]).slice(1), {...this.storeOptions(), platform: this.dxfPlatform(f.platform)})
    for (const d of deleted) this.log(d)
  }
}
