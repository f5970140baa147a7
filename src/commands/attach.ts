import {Args, Flags} from '@oclif/core'
import {OcitoolCommand} from '../lib/cli/command.js'
import {UsageError} from '../lib/errors.js'
import {parseReference} from '../lib/name/reference.js'
import {parsePlatform} from '../lib/oci/platform.js'
import * as ops from '../lib/ops/attach.js'

export default class Attach extends OcitoolCommand {
  static override summary = 'Attach files to an image as an OCI artifact that refers to it (its subject)'
  static override description = `The artifact is an OCI image manifest with artifactType, the files as layers and the empty config (or --config). Registries with the referrers API index it themselves; on others ocitool adds it to the fallback tag sha256-<hex>, safely against concurrent attaches.
Positional form (oras-like): attach FILE MEDIA_TYPE ARTIFACT_TYPE IMAGE.`
  static override examples = [
    '<%= config.bin %> <%= command.id %> registry.example.com/app:1.0 --file sbom.json:application/spdx+json --artifact-type application/spdx+json',
    '<%= config.bin %> <%= command.id %> sbom.json application/spdx+json application/spdx+json registry.example.com/app:1.0',
  ]
  static override strict = false
  static override enableJsonFlag = true
  static override args = {image: Args.string({required: true, description: 'image reference (or FILE in the positional form)'})}
  static override flags = {
    file: Flags.string({char: 'f', description: 'a file to attach, PATH[:MEDIA_TYPE] (repeatable)', multiple: true, multipleNonGreedy: true}),
    'artifact-type': Flags.string({description: 'the artifact type (type/subtype)'}),
    annotation: Flags.string({char: 'a', description: 'a manifest annotation KEY=VALUE (repeatable)', multiple: true, multipleNonGreedy: true}),
    config: Flags.string({description: 'a config blob FILE[:MEDIA_TYPE] instead of the empty config'}),
    platform: Flags.string({description: 'for an index: attach to the manifest of this platform (os/arch[/variant]) instead of the index', helpValue: 'OS/ARCH[/VARIANT]'}),
  }

  async run(): Promise<ops.AttachResult> {
    const {args, flags: f, argv} = await this.parseCommand(Attach)
    const words = argv as string[]
    let image: string
    let files: ops.AttachFile[]
    let artifactType = f['artifact-type']
    if (words.length === 4) {
      const [file, mediaType, type, img] = words
      image = img
      artifactType = type
      files = [{...(await ops.parseFileArg(file)), mediaType: ops.checkMediaType(mediaType, file)}]
    } else if (words.length === 1) {
      image = args.image
      files = await Promise.all((f.file ?? []).map((x) => ops.parseFileArg(x)))
    } else {
      throw new UsageError('attach: give IMAGE with --file and --artifact-type, or FILE MEDIA_TYPE ARTIFACT_TYPE IMAGE')
    }
    if (!artifactType) throw new UsageError('attach: --artifact-type is required')
    const config = f.config ? await ops.parseFileArg(f.config, 'application/octet-stream') : undefined
    const result = await ops.attach(parseReference(image), {
      ...this.remoteOptions(),
      files,
      artifactType,
      annotations: ops.parseAnnotations(f.annotation),
      config,
      platform: f.platform ? parsePlatform(f.platform) : undefined,
    })
    this.log(result.reference)
    return result
  }
}
