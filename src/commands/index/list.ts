import {Args} from '@oclif/core'
import {OcitoolCommand} from '../../lib/cli/command.js'
import type {Descriptor} from '../../lib/oci/types.js'
import * as ops from '../../lib/ops/index-image.js'
import {parseLocation} from '../../lib/stores/location.js'

export default class IndexList extends OcitoolCommand {
  static override summary = 'List the children of an index: digest, media type, platform, size'
  static override description = 'One line per child, in index order, fields separated by a space; "-" when a child names no platform. --json prints the descriptors as the index has them.'
  static override examples = ['<%= config.bin %> <%= command.id %> registry.example.com/app:1', '<%= config.bin %> <%= command.id %> oci:./layout:1 --json']
  static override enableJsonFlag = true
  static override args = {index: Args.string({required: true, description: 'index to list'})}

  async run(): Promise<Descriptor[]> {
    const {args} = await this.parseCommand(IndexList)
    const listing = await ops.indexList(parseLocation(args.index), this.remoteOptions())
    for (const d of listing.manifests) this.log(ops.formatChild(d))
    return listing.manifests
  }
}
