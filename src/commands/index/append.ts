import {Args, Flags} from '@oclif/core'
import {OcitoolCommand} from '../../lib/cli/command.js'
import * as flags from '../../lib/cli/flags.js'
import type {CopyResult} from '../../lib/ops/copy.js'
import * as ops from '../../lib/ops/index-image.js'
import {parseLocation} from '../../lib/stores/location.js'

export default class IndexAppend extends OcitoolCommand {
  static override summary = 'Push a new index: the children of a base index plus more images'
  static override description = `Each --manifest is an image, or an index whose children are each added. An added image's platform is the one its config declares (os, architecture, variant, os.version); children of an index keep their descriptors. A digest already in the index is not added twice.
Without BASE the index starts empty: an OCI image index, or a Docker manifest list with --docker-empty-base. Every child manifest and its blobs reach --tag's repository before the index (mounted within a registry).`
  static override examples = [
    '<%= config.bin %> <%= command.id %> --manifest registry.example.com/app:1-amd64 --manifest registry.example.com/app:1-arm64 --tag registry.example.com/app:1',
    '<%= config.bin %> <%= command.id %> registry.example.com/app:1 --manifest registry.example.com/app:1-windows --tag registry.example.com/app:1-all',
  ]
  static override enableJsonFlag = true
  static override args = {base: Args.string({description: 'index whose children come first (default: an empty index)'})}
  static override flags = {
    manifest: Flags.string({char: 'm', description: 'image or index to add (repeatable)', multiple: true, multipleNonGreedy: true, required: true}),
    tag: Flags.string({char: 't', description: 'where to push the new index', required: true}),
    'docker-empty-base': Flags.boolean({description: 'without BASE, make a Docker manifest list (an OCI image index otherwise)'}),
    jobs: flags.jobs,
    progress: flags.progress,
  }

  async run(): Promise<CopyResult> {
    const {args, flags: f} = await this.parseCommand(IndexAppend)
    const result = await this.withProgress(f.progress, 'pushing index', (onEvent) =>
      ops.indexAppend(args.base === undefined ? undefined : parseLocation(args.base), f.manifest.map(parseLocation), parseLocation(f.tag), {
        ...this.remoteOptions(),
        dockerEmptyBase: f['docker-empty-base'],
        jobs: f.jobs,
        onEvent,
      }),
    )
    for (const im of result.images) this.log(im.reference)
    return result
  }
}
