import {Args, Flags} from '@oclif/core'
import {OcitoolCommand} from '../lib/cli/command.js'
import * as flags from '../lib/cli/flags.js'
import * as ops from '../lib/ops/copy.js'
import {parseLocation} from '../lib/stores/location.js'

export default class Copy extends OcitoolCommand {
  static override aliases = ['cp']
  static override summary = 'Copy an image or index from SRC to DST, keeping its digest'
  static override description = `SRC and DST are registry references or oci:DIR[:REF], oci-archive:FILE[:REF], docker-archive:FILE[:REF], dir:DIR (as skopeo: PATH ends at its first colon, REF may hold colons, a colon in PATH is written \\:).
Each blob moves once, concurrently and verified; blobs the destination has are skipped, and within one registry they are mounted. Manifests keep their exact bytes (and digests), except where --platform picks a subset of an index (a new index) or the destination format cannot hold the original (docker archives store single images).`
  static override examples = [
    '<%= config.bin %> <%= command.id %> ghcr.io/example/app:1.0 registry.example.com/app:1.0',
    '<%= config.bin %> <%= command.id %> registry.example.com/app registry.example.com/mirror/app --all-tags --jobs 8',
    '<%= config.bin %> <%= command.id %> registry.example.com/app:1.0 oci:./layout:1.0 --platform linux/amd64,linux/arm64 --as-index',
  ]
  static override enableJsonFlag = true
  static override args = {
    src: Args.string({required: true, description: 'source image'}),
    dst: Args.string({required: true, description: 'destination'}),
  }
  static override flags = {
    'all-tags': Flags.boolean({char: 'a', description: 'copy every tag of the source repository (tags concurrently)'}),
    jobs: flags.jobs,
    'no-clobber': Flags.boolean({char: 'n', description: 'fail instead of moving a tag that exists at the destination'}),
    ...flags.transferPlatformFlags,
    'allow-nondistributable-artifacts': Flags.boolean({description: 'copy foreign (non-distributable) layers too'}),
    'chunk-size': Flags.integer({description: 'upload blobs in PATCH chunks of this many bytes', min: 1}),
    referrers: Flags.boolean({description: "copy each manifest's referrers too (signatures, SBOMs), recursively; registries only"}),
    progress: flags.progress,
  }

  async run(): Promise<ops.CopyResult> {
    const {args, flags: f} = await this.parseCommand(Copy)
    const result = await this.withProgress(f.progress, 'copying', (onEvent) =>
      ops.copy(parseLocation(args.src), parseLocation(args.dst), {
        ...this.remoteOptions(),
        allTags: f['all-tags'],
        jobs: f.jobs,
        noClobber: f['no-clobber'],
        platforms: flags.platformsFrom(f),
        asIndex: f['as-index'],
        allowNondistributable: f['allow-nondistributable-artifacts'],
        chunkSize: f['chunk-size'],
        referrers: f.referrers,
        onEvent,
      }))
    if (result.foreignLayers > 0) this.warnLine(`${result.foreignLayers} foreign layer(s) left where they are (--allow-nondistributable-artifacts copies them)`)
    for (const im of result.images) this.log(im.reference)
    return result
  }
}
