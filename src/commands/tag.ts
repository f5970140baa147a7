import {Args} from '@oclif/core'
import {OcitoolCommand} from '../lib/cli/command.js'
import {UsageError} from '../lib/errors.js'
import {parseReference} from '../lib/name/reference.js'
import * as ops from '../lib/ops/tag.js'

export default class Tag extends OcitoolCommand {
  static override summary = 'Add a tag to an image in its repository, moving no layer'
  static override examples = ['<%= config.bin %> <%= command.id %> registry.example.com/app:1.0 stable']
  static override enableJsonFlag = true
  static override args = {
    image: Args.string({required: true, description: 'image reference'}),
    tag: Args.string({required: true, description: 'the new tag (just the tag, in the same repository)'}),
  }

  async run(): Promise<ops.TagResult> {
    const {args} = await this.parseCommand(Tag)
    if (!/^[\w][\w.-]{0,127}$/.test(args.tag)) throw new UsageError(`invalid tag "${args.tag}": tags are up to 128 letters, digits, _, . and -, not starting with . or -`)
    const result = await ops.tag(parseReference(args.image), args.tag, this.remoteOptions())
    this.log(`${result.tagged.replace(/:[^:/]+$/, '')}@${result.digest}`)
    return result
  }
}
