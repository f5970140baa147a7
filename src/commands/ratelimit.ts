import {Args} from '@oclif/core'
import {OcitoolCommand} from '../lib/cli/command.js'
import {parseReference} from '../lib/name/reference.js'
import * as ops from '../lib/ops/ratelimit.js'

export default class Ratelimit extends OcitoolCommand {
  static override summary = "Show a registry's pull rate limit (Docker Hub's ratelimit-limit and ratelimit-remaining)"
  static override description = 'Asks with a manifest HEAD, which Docker Hub does not count as a pull. A registry that sends no rate-limit headers is said to have none (exit 0; under --json the fields are null).'
  static override examples = ['<%= config.bin %> <%= command.id %> docker.io/library/alpine:latest', '<%= config.bin %> <%= command.id %> alpine --json']
  static override enableJsonFlag = true
  static override args = {image: Args.string({required: true, description: 'image reference (the limit is per registry and account; any image will do)'})}

  async run(): Promise<{limit: ops.RateLimit['limit'] | null; remaining: ops.RateLimit['remaining'] | null; source: string | null}> {
    const {args} = await this.parseCommand(Ratelimit)
    const ref = parseReference(args.image)
    const r = await ops.ratelimit(ref, this.remoteOptions())
    const per = (v?: {windowSeconds?: number}) => (v?.windowSeconds === undefined ? '' : ` per ${v.windowSeconds}s`)
    if (!r.limit && !r.remaining) this.log(`${ref.registry}: sends no rate-limit headers (no limit reported)`)
    else {
      if (r.limit) this.log(`limit: ${r.limit.count}${per(r.limit)}`)
      if (r.remaining) this.log(`remaining: ${r.remaining.count}${per(r.remaining)}`)
      if (r.source) this.log(`source: ${r.source}`)
    }
    return {limit: r.limit ?? null, remaining: r.remaining ?? null, source: r.source ?? null}
  }
}
