import {Args} from '@oclif/core'
import {OcitoolCommand} from '../../lib/cli/command.js'
import {parseRepository} from '../../lib/name/reference.js'
import * as ops from '../../lib/ops/blobstore.js'

export default class BlobDelete extends OcitoolCommand {
  static override summary = 'Delete a blob from a repository'
  static override examples = ['<%= config.bin %> <%= command.id %> registry.example.com/store sha256:…']
  static override args = {
    repo: Args.string({required: true, description: 'REGISTRY/REPO'}),
    digest: Args.string({required: true, description: 'the blob digest'}),
  }

  async run(): Promise<void> {
    const {args} = await this.parseCommand(BlobDelete)
    const repo = parseRepository(args.repo)
    await ops.remove(repo, args.digest, this.remoteOptions())
    this.log(`${repo.name}@${args.digest}`)
  }
}
