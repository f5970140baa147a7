import {Args, Flags} from '@oclif/core'
import {OcitoolCommand} from '../lib/cli/command.js'
import * as flags from '../lib/cli/flags.js'
import {UsageError} from '../lib/errors.js'
import * as ops from '../lib/ops/validate.js'
import {fileLocation, parseLocation} from '../lib/stores/location.js'

export default class Validate extends OcitoolCommand {
  static override summary = 'Check that every blob of an image is present, of the right size and hashes to its digest'
  static override description = 'Exit 0 when the image is whole; 6 when a blob is missing, short or corrupt; 3 when the image is not found. Every image of a multi-image tarball is checked (one PASS line each).'
  static override examples = [
    '<%= config.bin %> <%= command.id %> --remote registry.example.com/app:1.0',
    '<%= config.bin %> <%= command.id %> --tarball app.tar --fast',
    '<%= config.bin %> <%= command.id %> oci:./layout:1.0',
  ]
  static override enableJsonFlag = true
  static override args = {image: Args.string({ignoreStdin: true, description: 'image (any location); or use --remote/--tarball'})}
  static override flags = {
    remote: Flags.string({description: 'a registry image', exclusive: ['tarball']}),
    tarball: Flags.string({description: 'a docker tarball, - (stdin), or a store name (oci-archive:FILE:REF, …)'}),
    fast: Flags.boolean({description: 'check presence and sizes only, without hashing'}),
    platform: flags.transferPlatformFlags.platform,
    jobs: flags.jobs,
  }

  async run(): Promise<ops.ValidateResult> {
    const {args, flags: f} = await this.parseCommand(Validate)
    const given = [args.image, f.remote, f.tarball].filter((x) => x !== undefined)
    if (given.length !== 1) throw new UsageError('validate needs one image: IMAGE, --remote IMAGE or --tarball FILE')
    const loc = f.tarball !== undefined ? fileLocation(f.tarball) : parseLocation((f.remote ?? args.image)!)
    const result = await ops.validate(loc, {...this.remoteOptions(), fast: f.fast, jobs: f.jobs, platforms: flags.platformsFrom(f)})
    const what = `${result.manifests} manifest(s), ${result.blobs} blob(s), ${result.bytes} bytes${result.hashed ? ' hashed' : ', sizes only'}`
    if (result.images.length === 1) this.log(`PASS: ${given[0]} ${result.digest} (${what})`)
    else {
      for (const im of result.images) this.log(`PASS: ${given[0]} ${im.digest}${im.names.length > 0 ? ` ${im.names.join(' ')}` : ''}`)
      this.log(`PASS: ${given[0]}: ${result.images.length} images (${what})`)
    }
    return result
  }
}
