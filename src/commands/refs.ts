import {Args, Flags} from '@oclif/core'
import {OcitoolCommand} from '../lib/cli/command.js'
import {parseReference} from '../lib/name/reference.js'
import * as ops from '../lib/ops/refs.js'

export default class Refs extends OcitoolCommand {
  static override summary = 'List the referrers of an image (signatures, SBOMs, attached artifacts)'
  static override description = 'Through the referrers API where the registry has it, else the fallback tag sha256-<hex>; the output is the same either way. By default the referrers as an OCI index in JSON (as crane prints them); --format table or tree for people.'
  static override examples = [
    '<%= config.bin %> <%= command.id %> registry.example.com/app:1.0 | jq',
    '<%= config.bin %> <%= command.id %> registry.example.com/app:1.0 --format table',
    '<%= config.bin %> <%= command.id %> registry.example.com/app:1.0 --artifact-type application/spdx+json --format json',
    '<%= config.bin %> <%= command.id %> registry.example.com/app:1.0 --format tree --depth 3',
  ]
  static override enableJsonFlag = true
  static override args = {image: Args.string({required: true, description: 'image reference'})}
  static override flags = {
    'artifact-type': Flags.string({description: 'only referrers of this artifact type'}),
    format: Flags.string({description: 'output format', options: ['json', 'table', 'tree'], default: 'json'}),
    depth: Flags.integer({description: 'levels of referrers of referrers (tree)', min: 1, default: 1}),
  }

  async run(): Promise<unknown> {
    const {args, flags: f} = await this.parseCommand(Refs)
    const depth = f.format === 'tree' ? f.depth : 1
    const result = await ops.refs(parseReference(args.image), {...this.remoteOptions(), artifactType: f['artifact-type'], depth})
    // --json: the same OCI index as --format json, printed by oclif
    if (this.jsonEnabled()) return ops.asIndex(result)
    if (f['artifact-type']) {
      process.stderr.write(`filter artifactType applied by ${result.serverFiltered ? 'the registry (OCI-Filters-Applied)' : 'ocitool'}\n`)
    }
    if (f.format === 'json') await this.writeOut(`${JSON.stringify(ops.asIndex(result), null, 2)}\n`)
    else if (f.format === 'tree') await this.writeOut(ops.tree(result))
    else await this.writeOut(ops.table(result))
    return undefined
  }
}
