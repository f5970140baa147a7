import {writeFile} from 'node:fs/promises'
import {Args, Flags} from '@oclif/core'
import {OcitoolCommand} from '../lib/cli/command.js'
import * as flags from '../lib/cli/flags.js'
import {UsageError} from '../lib/errors.js'
import {fileLocation, parseLocation} from '../lib/stores/location.js'
import * as ops from '../lib/ops/digest.js'

export default class Digest extends OcitoolCommand {
  static override summary = 'Print the digest of an image or index'
  static override description = 'Asks the registry with HEAD (no manifest body moves) and falls back to GET.'
  static override examples = [
    '<%= config.bin %> <%= command.id %> registry.example.com/app:1.0',
    '<%= config.bin %> <%= command.id %> registry.example.com/app:1.0 --platform linux/amd64 --full-ref',
    '<%= config.bin %> <%= command.id %> --tarball app.tar --output-digest app.digest',
  ]
  static override enableJsonFlag = true
  static override args = {image: Args.string({description: 'image: a registry reference, or oci:DIR[:REF], docker-archive:FILE[:REF], oci-archive:FILE[:REF], dir:DIR'})}
  static override flags = {
    platform: flags.platform(),
    'full-ref': flags.fullRef,
    tarball: Flags.string({description: 'compute the digest of a local image: a docker tarball, - (stdin), or a store name (docker-archive:FILE:REF, …)', exclusive: ['image']}),
    'output-digest': Flags.string({description: 'also write the digest to this file'}),
  }

  async run(): Promise<ops.DigestResult> {
    const {args, flags} = await this.parseCommand(Digest)
    if (!args.image && !flags.tarball) throw new UsageError('digest needs an IMAGE or --tarball FILE')
    const loc = flags.tarball !== undefined ? fileLocation(flags.tarball) : parseLocation(args.image!)
    const options = {...this.remoteOptions(), platform: flags.platform}
    const result = loc.kind === 'registry' ? await ops.digest(loc.ref, options) : await ops.localDigest(loc, options)
    if (flags['output-digest']) await writeFile(flags['output-digest'], result.digest)
    this.log(flags['full-ref'] ? result.fullRef : result.digest)
    return result
  }
}
