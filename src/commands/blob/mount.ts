import {Args} from '@oclif/core'
import {OcitoolCommand} from '../../lib/cli/command.js'
import {parseRepository} from '../../lib/name/reference.js'
import * as ops from '../../lib/ops/blobstore.js'

export default class BlobMount extends OcitoolCommand {
  static override summary = 'Link a blob from another repository of the same registry, without moving its bytes'
  static override examples = ['<%= config.bin %> <%= command.id %> registry.example.com/store registry.example.com/other sha256:…']
  static override args = {
    repo: Args.string({required: true, description: 'REGISTRY/REPO to mount into'}),
    from: Args.string({required: true, description: 'REGISTRY/REPO that has the blob'}),
    digest: Args.string({required: true, description: 'the blob digest'}),
  }

  async run(): Promise<void> {
    const {args} = await this.parseCommand(BlobMount)
    const repo = parseRepository(args.repo)
    await ops.mount(repo, parseRepository(args.from), args.digest, this.remoteOptions())
    this.log(`${repo.name}@${args.digest}`)
  }
}
