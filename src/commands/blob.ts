import {Args} from '@oclif/core'
import {OcitoolCommand} from '../lib/cli/command.js'
import {parseReference} from '../lib/name/reference.js'
import * as ops from '../lib/ops/blob.js'

export default class Blob extends OcitoolCommand {
  static override summary = 'Write a blob to stdout, verified against its digest'
  static override description = 'The bytes are hashed as they stream; a mismatch fails with exit code 6.'
  static override examples = ['<%= config.bin %> <%= command.id %> registry.example.com/app@sha256:… > layer.tar.gz']
  static override args = {blob: Args.string({required: true, description: 'REGISTRY/REPO@DIGEST'})}

  async run(): Promise<void> {
    const {args} = await this.parseCommand(Blob)
    await ops.blob(parseReference(args.blob), process.stdout, this.remoteOptions())
  }
}
