import {Args, Flags} from '@oclif/core'
import {OcitoolCommand} from '../lib/cli/command.js'
import * as flags from '../lib/cli/flags.js'
import {UsageError} from '../lib/errors.js'
import * as ops from '../lib/ops/append.js'
import type {CopyResult} from '../lib/ops/copy.js'
import {type Location, parseLocation} from '../lib/stores/location.js'

export default class Append extends OcitoolCommand {
  static override summary = 'Append layers to an image and push the result (or write it to a tarball)'
  static override description = `A layer is a tar file, a gzip or zstd compressed tar (found by its bytes, not its name), a directory (packed reproducibly: sorted, --mtime or SOURCE_DATE_EPOCH, owner 0), or - for stdin.
When the new tag is in the base's registry, no base layer moves: they are found or mounted there. An index base gets the layers on every platform (or the --platform ones) and a new index.
appendlayer's positional forms work too, the layer read from stdin unless -f names one: append HOST REPO OLD_TAG NEW_TAG, append HOST OLD_REPO:TAG NEW_REPO:TAG, append OLD_IMAGE NEW_IMAGE.`
  static override examples = [
    'tar c app | <%= config.bin %> <%= command.id %> --base registry.example.com/base:1 --new-layer - --new-tag registry.example.com/app:2',
    '<%= config.bin %> <%= command.id %> -b registry.example.com/base:1 -f ./rootfs-overlay -t registry.example.com/app:2 --set-base-image-annotations',
    '<%= config.bin %> <%= command.id %> --src-image registry.example.com/app:1 --tarball app.tar --dst-image registry.example.com/app:2',
    'tar cf - test.txt | <%= config.bin %> <%= command.id %> registry.example.com app 1 2',
  ]
  static override strict = false
  static override args = {
    image: Args.string({ignoreStdin: true, description: 'appendlayer form: HOST REPO OLD_TAG NEW_TAG, HOST OLD_REPO:TAG NEW_REPO:TAG or OLD_IMAGE NEW_IMAGE'}),
  }
  static override enableJsonFlag = true
  static override flags = {
    stderrthreshold: flags.stderrThreshold(),
    base: Flags.string({char: 'b', aliases: ['src-image'], description: 'the image to append to (the empty image when omitted)'}),
    'new-layer': Flags.string({char: 'f', aliases: ['tarball'], description: 'layer to append: tar, tar.gz, tar.zst, a directory, or - for stdin (repeatable)', multiple: true, multipleNonGreedy: true}),
    'new-tag': Flags.string({char: 't', aliases: ['dst-image'], description: 'where to push the result'}),
    output: Flags.string({char: 'o', description: 'write a docker tarball to this file instead of pushing'}),
    'oci-empty-base': Flags.boolean({description: 'without --base, start from an empty OCI image (Docker media types otherwise)'}),
    'set-base-image-annotations': Flags.boolean({description: 'record the base in org.opencontainers.image.base.name/digest annotations'}),
    platform: flags.transferPlatformFlags.platform,
    compression: Flags.string({description: 'compression of new layers', options: ['gzip', 'zstd', 'none'], default: 'gzip'}),
    'compression-level': Flags.integer({description: 'compression level (gzip default 1: fastest)'}),
    mtime: Flags.integer({description: 'modification time (seconds) of files packed from a directory (default SOURCE_DATE_EPOCH, else 0)'}),
    created: Flags.string({description: 'created time of the new history entries (default SOURCE_DATE_EPOCH, else now)'}),
    jobs: flags.jobs,
    progress: flags.progress,
  }

  async run(): Promise<CopyResult> {
    const {flags: f, argv} = await this.parseCommand(Append)
    const words = positional(argv as string[])
    if (words && (f.base || f['new-tag'])) throw new UsageError('append: give either --base/--new-tag or the positional form, not both')
    const base = words ? words.base : f.base
    const newTag = words ? words.newTag : f['new-tag']
    if (!newTag) throw new UsageError('append: --new-tag is required (or: append OLD_IMAGE NEW_IMAGE)')
    const layers = f['new-layer'] ?? (words ? ['-'] : undefined)
    if (!layers) throw new UsageError('append: --new-layer is required (or pipe the layer into the positional form)')
    if (base && f['oci-empty-base']) throw new UsageError('--oci-empty-base is for appending without --base')
    const tag = parseLocation(newTag)
    if (tag.kind !== 'registry') throw new UsageError(`--new-tag ${newTag}: a registry reference (use --output for a tarball)`)
    const dst: Location = f.output ? {kind: 'docker-archive', path: f.output, ref: tag.ref.toString()} : tag
    const result = await this.withProgress(f.progress, 'appending', (onEvent) =>
      ops.append(base ? parseLocation(base) : undefined, layers, dst, {
        ...this.remoteOptions(),
        ociEmptyBase: f['oci-empty-base'],
        setBaseImageAnnotations: f['set-base-image-annotations'],
        platforms: flags.platformsFrom(f),
        compression: f.compression as 'gzip' | 'zstd' | 'none',
        level: f['compression-level'],
        mtime: f.mtime,
        created: f.created,
        jobs: f.jobs,
        onEvent,
      }))
    for (const im of result.images) this.log(im.reference)
    return result
  }
}

/**
 * positional reads appendlayer's argument forms: HOST REPO OLD_TAG NEW_TAG,
 * HOST OLD_REPO:TAG NEW_REPO:TAG and OLD_IMAGE NEW_IMAGE (undefined without words).
 */
function positional(words: string[]): {base: string; newTag: string} | undefined {
  switch (words.length) {
    case 0:
      return undefined
    case 2:
      return {base: words[0], newTag: words[1]}
    case 3:
      return {base: `${words[0]}/${words[1]}`, newTag: `${words[0]}/${words[2]}`}
    case 4:
      return {base: `${words[0]}/${words[1]}:${words[2]}`, newTag: `${words[0]}/${words[1]}:${words[3]}`}
    default:
      throw new UsageError('append: give HOST REPO OLD_TAG NEW_TAG, HOST OLD_REPO:TAG NEW_REPO:TAG, or OLD_IMAGE NEW_IMAGE')
  }
}
