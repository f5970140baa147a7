import {writeFile} from 'node:fs/promises'
import {Args, Flags} from '@oclif/core'
import {isBatch} from '../lib/cli/batch.js'
import {OcitoolCommand} from '../lib/cli/command.js'
import * as flags from '../lib/cli/flags.js'
import {UsageError} from '../lib/errors.js'
import {fileLocation, parseLocation} from '../lib/stores/location.js'
import type {Platform} from '../lib/oci/types.js'
import * as ops from '../lib/ops/digest.js'
import {localDigest, looseDigest} from '../lib/ops/local-digest.js'

export default class Digest extends OcitoolCommand {
  static override summary = 'Print the digest of an image or index'
  static override description = `Asks the registry with HEAD (no manifest body moves) and falls back to GET.
Several images (or "-": one per line on stdin) are resolved concurrently on one connection pool, one token per registry and scope; each prints "IMAGE DIGEST" (or "IMAGE FULL-REF") in input order, or with --json one object per line. A failing image prints "Error: IMAGE: ..." on stderr and the others go on; the exit code is the worst of them.`
  static override examples = [
    '<%= config.bin %> <%= command.id %> registry.example.com/app:1.0',
    '<%= config.bin %> <%= command.id %> registry.example.com/app:1.0 --platform linux/amd64 --full-ref',
    '<%= config.bin %> <%= command.id %> --tarball app.tar --output-digest app.digest',
    'printf "%s\\n" registry.example.com/app:1.0 registry.example.com/app:1.1 | <%= config.bin %> <%= command.id %> -',
  ]
  static override strict = false
  static override usage = ['<%= command.id %> IMAGE [IMAGE...]', '<%= command.id %> -', '<%= command.id %> --tarball FILE']
  static override enableJsonFlag = true
  static override args = {image: Args.string({description: 'image: a registry reference, or oci:DIR[:REF], docker-archive:FILE[:REF], oci-archive:FILE[:REF], dir:DIR'})}
  static override flags = {
    stderrthreshold: flags.stderrThreshold(),
    platform: flags.platform(),
    'full-ref': flags.fullRef,
    tarball: Flags.string({description: 'compute the digest of a local image: a docker tarball, - (stdin), or a store name (docker-archive:FILE:REF, …)', exclusive: ['image']}),
    'output-digest': Flags.string({description: 'also write the digest to this file'}),
    config: Flags.string({description: "containerregistry's digester: the config file of an image given as loose files (with --layer, --digest, --manifest, --oci; --tarball is then the base)", exclusive: ['image']}),
    layer: Flags.string({description: 'a layer file, base first (repeatable)', multiple: true, multipleNonGreedy: true, dependsOn: ['config']}),
    digest: Flags.string({description: "a file holding a --layer's digest, in --layer order (checked; repeatable)", multiple: true, multipleNonGreedy: true, dependsOn: ['layer']}),
    manifest: Flags.string({description: 'the manifest file of the loose files', dependsOn: ['config']}),
    oci: Flags.boolean({description: 'with --config: OCI media types', dependsOn: ['config']}),
  }

  async run(): Promise<ops.DigestResult | undefined> {
    const {args, positional, flags} = await this.parseCommand(Digest)
    if (isBatch(positional)) return this.batch(positional, flags)
    if (flags.config !== undefined) {
      const result = await looseDigest({config: flags.config, layers: flags.layer ?? [], digests: flags.digest, manifest: flags.manifest, oci: flags.oci, base: flags.tarball})
      if (flags['output-digest']) await writeFile(flags['output-digest'], result.digest)
      this.log(result.digest)
      return result
    }
    if (!args.image && !flags.tarball) throw new UsageError('digest needs an IMAGE or --tarball FILE')
    const loc = flags.tarball !== undefined ? fileLocation(flags.tarball) : parseLocation(args.image!)
    const options = {...this.remoteOptions(), platform: flags.platform}
    const result = loc.kind === 'registry' ? await ops.digest(loc.ref, options) : await localDigest(loc, options)
    if (flags['output-digest']) await writeFile(flags['output-digest'], result.digest)
    this.log(flags['full-ref'] ? result.fullRef : result.digest)
    return result
  }

  private async batch(args: string[], flags: {platform?: Platform; 'full-ref'?: boolean; tarball?: string; 'output-digest'?: string}): Promise<undefined> {
    if (flags.tarball !== undefined || flags['output-digest'] !== undefined) throw new UsageError('--tarball and --output-digest take one image')
    const inputs = await this.batchInputs(args)
    await this.runBatch(
      inputs,
      16,
      (input, options) => {
        const loc = parseLocation(input)
        const o = {...options, platform: flags.platform}
        return loc.kind === 'registry' ? ops.digest(loc.ref, o) : localDigest(loc, o)
      },
      {text: (input, r) => `${input} ${flags['full-ref'] ? r.fullRef : r.digest}`, json: (_, r) => ({...r})},
    )
    return undefined
  }
}
