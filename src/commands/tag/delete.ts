import {Args} from '@oclif/core'
import {OcitoolCommand} from '../../lib/cli/command.js'
import {UsageError} from '../../lib/errors.js'
import {parseReference} from '../../lib/name/reference.js'
import * as ops from '../../lib/ops/tag-delete.js'

export default class TagDelete extends OcitoolCommand {
  static override summary = 'Remove a tag, keeping the image it names (reachable by digest)'
  static override description = `The registry's tag delete is used where it has one; elsewhere (distribution 2.x) a small placeholder manifest is pushed to the tag and deleted by digest, as regctl does, which removes the tag and nothing else. Prints REPO@DIGEST of the image the tag named, which stays.`
  static override examples = ['<%= config.bin %> <%= command.id %> registry.example.com/app:old']
  static override enableJsonFlag = true
  static override args = {image: Args.string({required: true, description: 'REGISTRY/REPO:TAG'})}

  async run(): Promise<ops.TagDeleteResult> {
    const {args} = await this.parseCommand(TagDelete)
    const ref = parseReference(args.image)
    if (ref.digest || !ref.tag || !(args.image.split('/').pop() ?? '').includes(':')) {
      throw new UsageError(`${args.image}: name a tag (REPO:TAG) to delete; to delete an image by digest use "${this.config.bin} delete"`)
    }
    const r = await ops.deleteTag(ref, this.remoteOptions())
    this.log(`${r.tag.replace(/:[^:/]+$/, '')}@${r.digest}`)
    return r
  }
}
