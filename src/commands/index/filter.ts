import {Args, Flags} from '@oclif/core'
import {OcitoolCommand} from '../../lib/cli/command.js'
import * as flags from '../../lib/cli/flags.js'
import {progressRenderer, type ProgressMode} from '../../lib/cli/progress.js'
import {UsageError} from '../../lib/errors.js'
import type {CopyResult} from '../../lib/ops/copy.js'
import * as ops from '../../lib/ops/index-image.js'
import {byDigestIn, parseLocation} from '../../lib/stores/location.js'

export default class IndexFilter extends OcitoolCommand {
  static override summary = 'Push a new index holding only some platforms of an index'
  static override description = `The result is an index even when one platform is left, with the original index's other fields. BuildKit attestations of a kept image are kept with it. Nothing but the new index is uploaded: the children are there already (or mounted within a registry).`
  static override examples = ['<%= config.bin %> <%= command.id %> registry.example.com/app:1 --platform linux/amd64,linux/arm64 --tag registry.example.com/app:1-linux']
  static override enableJsonFlag = true
  static override args = {index: Args.string({required: true, description: 'index to filter'})}
  static override flags = {
    platform: Flags.string({description: 'platform(s) to keep: os/arch[/variant][:os.version], a comma list (repeatable)', helpValue: 'P[,P...]', multiple: true, multipleNonGreedy: true, required: true}),
    tag: Flags.string({char: 't', description: 'where to push the new index (default: the index\'s repository, by digest; prints repo@digest)'}),
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
      const src = parseLocation(args.index)
      // without --tag, as crane does: pushed by digest to the index's own repository
      const dst = f.tag === undefined ? byDigestIn(src, 'index filter') : parseLocation(f.tag)
      const result = await ops.indexFilter(src, platforms, dst, {...this.remoteOptions(), jobs: f.jobs, byDigest: f.tag === undefined, onEvent: progress.onEvent})
      ok = true
      for (const im of result.images) this.log(im.reference)
      return result
    } finally {
      progress.stop(ok)
    }
  }
}
