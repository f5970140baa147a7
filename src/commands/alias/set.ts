import {Args} from '@oclif/core'
import {BlobStoreCommand} from '../../lib/cli/dxf.js'
import * as ops from '../../lib/ops/alias.js'

export default class AliasSet extends BlobStoreCommand {
  static override aliases = ['set-alias']
  static override summary = 'Name a set of blobs (digests, or files to push) with an alias tag'
  static override description = 'Stored as python-dxf stores aliases (a Docker schema 2 manifest under the tag NAME: the blobs as layers, the first one as config), so dxf reads it; prints its digest. Also as set-alias.'
  static override examples = ['<%= config.bin %> <%= command.id %> registry.example.com/store dataset sha256:… ./extra.bin']
  static override strict = false
  static override args = {
    repo: Args.string({required: true, description: 'REGISTRY/REPO (or REPO on DXF_HOST)'}),
    name: Args.string({required: true, description: 'the alias (a tag)'}),
    blob: Args.string({required: true, description: 'DIGEST or FILE (several allowed)'}),
  }

  async run(): Promise<void> {
    const {args, argv} = await this.parseCommand(AliasSet)
    const repo = this.repository(args.repo)
    const r = await ops.set(repo, args.name, (argv as string[]).slice(2), this.storeOptions())
    this.log(`${repo.name}@${r.digest}`)
  }
}
