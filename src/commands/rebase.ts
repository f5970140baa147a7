import {Args, Flags} from '@oclif/core'
import {OcitoolCommand} from '../lib/cli/command.js'
import * as flags from '../lib/cli/flags.js'
import type {CopyResult} from '../lib/ops/copy.js'
import * as ops from '../lib/ops/rebase.js'
import {parseLocation} from '../lib/stores/location.js'

export default class Rebase extends OcitoolCommand {
  static override summary = "Replace an image's base layers with those of a new base, and push the result"
  static override description = `The old base's layers must be the first layers of IMAGE (else nothing is pushed, exit 2). They are replaced by the new base's; IMAGE's own layers, config (os, architecture, env, ...) and their history stay. Without --old-base and --new-base, IMAGE's org.opencontainers.image.base.name and base.digest annotations name them: the old base is name@digest, the new base what name is now.
An index is rebased per platform (each on the bases' image for that platform), or only the --platform ones. The new base's layers are mounted within a registry, never downloaded.`
  static override examples = [
    '<%= config.bin %> <%= command.id %> registry.example.com/app:1 --old-base registry.example.com/base@sha256:… --new-base registry.example.com/base:latest --tag registry.example.com/app:1-rebased',
    '<%= config.bin %> <%= command.id %> registry.example.com/app:1 --tag registry.example.com/app:1',
  ]
  static override enableJsonFlag = true
  static override args = {image: Args.string({required: true, description: 'image (or index) to rebase'})}
  static override flags = {
    'old-base': Flags.string({aliases: ['old_base'], description: 'the base IMAGE was built on', dependsOn: ['new-base']}),
    'new-base': Flags.string({aliases: ['new_base'], description: 'the base to put IMAGE on', dependsOn: ['old-base']}),
    tag: Flags.string({char: 't', description: 'where to push the result', required: true}),
    platform: Flags.string({description: 'rebase only these platforms of an index (the others are kept): os/arch[/variant], a comma list, or "all"', helpValue: 'P[,P...]|all'}),
    jobs: flags.jobs,
    progress: flags.progress,
  }

  async run(): Promise<CopyResult> {
    const {args, flags: f} = await this.parseCommand(Rebase)
    const result = await this.withProgress(f.progress, 'rebasing', (onEvent) =>
      ops.rebase(parseLocation(args.image), parseLocation(f.tag), {
        ...this.remoteOptions(),
        oldBase: f['old-base'] === undefined ? undefined : parseLocation(f['old-base']),
        newBase: f['new-base'] === undefined ? undefined : parseLocation(f['new-base']),
        platforms: flags.platformsFrom(f),
        jobs: f.jobs,
        onEvent,
      }))
    for (const im of result.images) this.log(im.reference)
    return result
  }
}
