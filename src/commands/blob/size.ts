import {Args} from '@oclif/core'
import {OcitoolCommand} from '../../lib/cli/command.js'
import {parseRepository} from '../../lib/name/reference.js'
import * as ops from '../../lib/ops/blobstore.js'

export default class BlobSize extends OcitoolCommand {
  static override summary = 'Print the size in bytes of blobs (by digest or @ALIAS)'
  static override examples = ['<%= config.bin %> <%= command.id %> registry.example.com/store sha256:…']
  static override strict = false
  static override enableJsonFlag = true
  static override args = {
    repo: Args.string({required: true, description: 'REGISTRY/REPO'}),
    blob: Args.string({required: true, description: 'DIGEST or @ALIAS (several allowed)'}),
  }

  async run(): Promise<Array<{digest: string; size: number}>> {
    const {args, argv} = await this.parseCommand(BlobSize)
    const items = (argv as string[]).filter((a) => !a.startsWith('--')).slice(1)
    const list = await ops.sizes(parseRepository(args.repo), items, this.remoteOptions())
    for (const b of list) this.log(list.length === 1 ? String(b.size) : `${b.digest} ${b.size}`)
    return list
  }
}
