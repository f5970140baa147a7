import {Args} from '@oclif/core'
import {OcitoolCommand} from '../lib/cli/command.js'
import {UsageError} from '../lib/errors.js'
import {parseReference} from '../lib/name/reference.js'
import * as ops from '../lib/ops/tag.js'

export default class Tag extends OcitoolCommand {
  static override summary = 'Add a tag to an image in its repository, moving no layer'
  static override description = `Several tags (IMAGE TAG TAG...), or "-" with one "IMAGE TAG" pair per line on stdin, are set concurrently on one connection pool; each prints "IMAGE TAG REPO@DIGEST" in input order, or with --json one object per line. A failing pair prints "Error: IMAGE TAG: ..." on stderr and the others go on; the exit code is the worst of them.`
  static override examples = [
    '<%= config.bin %> <%= command.id %> registry.example.com/app:1.0 stable',
    '<%= config.bin %> <%= command.id %> registry.example.com/app:1.0 stable 1 latest',
    '<%= config.bin %> <%= command.id %> - < pairs.txt',
  ]
  static override enableJsonFlag = true
  static override strict = false
  static override usage = ['<%= command.id %> IMAGE TAG [TAG...]', '<%= command.id %> -']
  static override args = {
    image: Args.string({required: true, description: 'image reference, or - to read "IMAGE TAG" lines from stdin'}),
    tag: Args.string({description: 'the new tag (just the tag, in the same repository)'}),
  }

  async run(): Promise<ops.TagResult | undefined> {
    const {args, positional} = await this.parseCommand(Tag)
    if (positional.length > 2 || positional[0] === '-') {
      const inputs = positional[0] === '-' ? await this.batchInputs(positional) : positional.slice(1).map((t) => `${positional[0]} ${t}`)
      await this.runBatch(
        inputs,
        16,
        (input, options) => {
          const [image, tag, ...rest] = input.split(/\s+/)
          if (tag === undefined || rest.length > 0) throw new UsageError(`"${input}": a line is IMAGE TAG`)
          return ops.tag(parseReference(image), checkTag(tag), options)
        },
        {text: (input, r) => `${input} ${taggedDigest(r)}`, json: (_, r) => ({...r})},
      )
      return undefined
    }
    if (args.tag === undefined) throw new UsageError('tag needs an IMAGE and a TAG')
    const result = await ops.tag(parseReference(args.image), checkTag(args.tag), this.remoteOptions())
    this.log(taggedDigest(result))
    return result
  }
}

function checkTag(tag: string): string {
  if (!/^[\w][\w.-]{0,127}$/.test(tag)) throw new UsageError(`invalid tag "${tag}": tags are up to 128 letters, digits, _, . and -, not starting with . or -`)
  return tag
}

function taggedDigest(result: ops.TagResult): string {
  return `${result.tagged.replace(/:[^:/]+$/, '')}@${result.digest}`
}
