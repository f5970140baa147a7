import {Args, Flags} from '@oclif/core'
import {BlobStoreCommand} from '../../lib/cli/dxf.js'
import * as ops from '../../lib/ops/blobstore.js'

export default class BlobSize extends BlobStoreCommand {
  static override summary = 'Print the size in bytes of blobs: one line per argument, the sum of its blobs for an @ALIAS'
  static override description = 'As python-dxf\'s blob-size (also accepted as that name); --json gives every blob\'s size.'
  static override aliases = ['blob-size']
  static override examples = ['<%= config.bin %> <%= command.id %> registry.example.com/store sha256:…', '<%= config.bin %> <%= command.id %> registry.example.com/store @dataset']
  static override strict = false
  static override enableJsonFlag = true
  static override args = {
    repo: Args.string({required: true, description: 'REGISTRY/REPO (or REPO on DXF_HOST)'}),
    blob: Args.string({required: true, description: 'DIGEST or @ALIAS (several allowed)'}),
  }
  static override flags = {
    platform: Flags.string({description: 'the platform of a multi-platform alias (default DXF_PLATFORM)', helpValue: 'OS/ARCH[/VARIANT]'}),
  }

  async run(): Promise<Array<{name: string; size: number; blobs: Array<{digest: string; size: number}>}>> {
    const {args, argv, flags: f} = await this.parseCommand(BlobSize)
    const items = (argv as string[]).slice(1)
    const list = await ops.sizes(this.repository(args.repo), items, {...this.storeOptions(), platform: this.dxfPlatform(f.platform)})
    for (const b of list) this.log(String(b.size))
    return list
  }
}
