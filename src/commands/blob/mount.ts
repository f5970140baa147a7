import {Args} from '@oclif/core'
import {BlobStoreCommand} from '../../lib/cli/dxf.js'
import * as ops from '../../lib/ops/blobstore.js'

export default class BlobMount extends BlobStoreCommand {
  static override summary = 'Link a blob from another repository of the same registry, without moving its bytes; @ALIAS names it too'
  static override description = 'Also as mount-blob (python-dxf: mount-blob REPO FROM_REPO DIGEST [@ALIAS], the repositories bare on DXF_HOST).'
  static override aliases = ['mount-blob']
  static override examples = ['<%= config.bin %> <%= command.id %> registry.example.com/store registry.example.com/other sha256:…']
  static override args = {
    repo: Args.string({required: true, description: 'REGISTRY/REPO to mount into'}),
    from: Args.string({required: true, description: 'REGISTRY/REPO that has the blob'}),
    digest: Args.string({required: true, description: 'the blob digest'}),
    alias: Args.string({ignoreStdin: true, description: '@ALIAS to give the blob'}),
  }

  async run(): Promise<void> {
    const {args} = await this.parseCommand(BlobMount)
    const repo = this.repository(args.repo)
    await ops.mount(repo, this.repository(args.from), args.digest, {...this.storeOptions(), alias: ops.aliasArg(args.alias)})
    this.log(args.digest)
  }
}
