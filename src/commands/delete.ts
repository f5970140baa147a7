import {Args, Flags} from '@oclif/core'
import {OcitoolCommand} from '../lib/cli/command.js'
import {parseReference} from '../lib/name/reference.js'
import * as ops from '../lib/ops/tag.js'

export default class Delete extends OcitoolCommand {
  static override summary = 'Delete an image manifest from a registry'
  static override description = 'Registries delete by digest: a tag is resolved to its digest first, which also removes every other tag pointing at it.'
  static override examples = ['<%= config.bin %> <%= command.id %> registry.example.com/app@sha256:…']
  static override enableJsonFlag = true
  static override args = {image: Args.string({required: true, description: 'image reference'})}
  static override flags = {referrers: Flags.boolean({description: "delete the image's referrers (recursively) with it, and fix the fallback indexes"})}

  async run(): Promise<ops.DeleteResult & {deleted: string}> {
    const {args, flags: f} = await this.parseCommand(Delete)
    const ref = parseReference(args.image)
    const result = await ops.remove(ref, {...this.remoteOptions(), referrers: f.referrers})
    if (result.resolvedFrom) this.warnLine(`tag ${result.resolvedFrom} resolved to ${result.digest}; deleted that manifest (and every tag pointing at it)`)
    const deleted = `${ref.name}@${result.digest}`
    for (const d of result.referrers ?? []) this.log(`${ref.name}@${d}`)
    this.log(deleted)
    return {...result, deleted}
  }
}
