import {Args} from '@oclif/core'
import {OcitoolCommand} from '../../lib/cli/command.js'
import {parseRepository} from '../../lib/name/reference.js'
import * as ops from '../../lib/ops/alias.js'

export default class AliasSet extends OcitoolCommand {
  static override summary = 'Name a set of blobs (digests, or files to push) with an alias tag'
  static override description = `Stored as an OCI artifact manifest (artifactType ${ops.ALIAS_ARTIFACT_TYPE}) under the tag NAME; prints its digest.`
  static override examples = ['<%= config.bin %> <%= command.id %> registry.example.com/store dataset sha256:… ./extra.bin']
  static override strict = false
  static override args = {
    repo: Args.string({required: true, description: 'REGISTRY/REPO'}),
    name: Args.string({required: true, description: 'the alias (a tag)'}),
    blob: Args.string({required: true, description: 'DIGEST or FILE (several allowed)'}),
  }

  async run(): Promise<void> {
    const {args, argv} = await this.parseCommand(AliasSet)
    const repo = parseRepository(args.repo)
    const r = await ops.set(repo, args.name, (argv as string[]).slice(2), this.remoteOptions())
    this.log(`${repo.name}@${r.digest}`)
  }
}
