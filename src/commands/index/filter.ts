import {Args, Flags} from '@oclif/core'
import {OcitoolCommand} from '../../lib/cli/command.js'
import * as flags from '../../lib/cli/flags.js'
import {progressRenderer, type ProgressMode} from '../../lib/cli/progress.js'
import {UsageError} from '../../lib/errors.js'
import type {CopyResult} from '../../lib/ops/copy.js'
import * as ops from '../../lib/ops/index-image.js'
import {parseLocation} from '../../lib/stores/location.js'

export default class IndexFilter extends OcitoolCommand {
  static override summary = 'Push a new index holding only some platforms of an index'
  static override description = `The result is an index even when one platform is left, with the original index's other fields. BuildKit attestations of a kept image are kept with it. Nothing but the new index is uploaded: the children are there already (or mounted within a registry).`
  static override examples = ['<%= config.bin %> <%= command.id %> registry.example.com/app:1 --platform linux/amd64,linux/arm64 --tag registry.example.com/app:1-linux']
  static override enableJsonFlag = true
  static override args = {index: Args.string({required: true, description: 'index to filter'})}
  static override flags = {
    platform: Flags.string({description: 'platform(s) to keep: os/arch[/variant][:os.version], a comma list (repeatable)', helpValue: 'P[,P...]', multiple: true, multipleNonGreedy: true, required: true}),
    tag: Flags.string({char: 't', description: 'where to push the new index', required: true}),
    jobs: flags.jobs,
    progress: flags.progress,
  }

  async run(): Promise<CopyResult> {
    const {args, flags: f} = await this.parseCommand(IndexFilter)
    const platforms = flags.platformsFrom({platform: f.platform.join(',')})
    if (platforms === 'all' || platforms === undefined) throw new UsageError('--platform all keeps every platform; name the ones to keep')
    const progress = await progressRenderer((this.jsonEnabled() ? 'none' : f.progress) as ProgressMode, 'pushing index')
    let ok = false
    try {
      const result = await ops.indexFilter(parseLocation(args.index), platforms, parseLocation(f.tag), {...this.remoteOptions(), jobs: f.jobs, onEvent: progress.onEvent})
      ok = true
      for (const im of result.images) this.log(im.reference)
      return result
    } finally {
      progress.stop(ok)
    }
  }
}
