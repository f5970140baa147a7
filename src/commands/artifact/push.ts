import {Args, Flags} from '@oclif/core'
import {OcitoolCommand} from '../../lib/cli/command.js'
import {parseReference} from '../../lib/name/reference.js'
import * as ops from '../../lib/ops/artifact.js'
import {parseAnnotations, parseFileArg} from '../../lib/ops/attach.js'

export default class ArtifactPush extends OcitoolCommand {
  static override summary = 'Push files as an OCI artifact (oras push): one layer per file, titled by its name'
  static override description = `Each FILE[:MEDIA_TYPE] becomes a layer (default media type ${ops.DEFAULT_FILE_TYPE}) annotated with org.opencontainers.image.title = its base name. The config is the empty descriptor (application/vnd.oci.empty.v1+json) unless --config is given; the artifact type is --artifact-type (default ${ops.UNKNOWN_ARTIFACT}). No subject: use attach for that. Prints REPO@DIGEST.`
  static override examples = [
    '<%= config.bin %> <%= command.id %> registry.example.com/docs:v1 README.md:text/markdown report.pdf --artifact-type application/vnd.example.docs',
  ]
  static override strict = false
  static override enableJsonFlag = true
  static override args = {
    ref: Args.string({required: true, description: 'REGISTRY/REPO:TAG'}),
    file: Args.string({required: true, description: 'FILE[:MEDIA_TYPE] (one or more)'}),
  }
  static override flags = {
    'artifact-type': Flags.string({description: 'the artifact type (type/subtype)'}),
    annotation: Flags.string({char: 'a', description: 'a manifest annotation KEY=VALUE (repeatable)', multiple: true, multipleNonGreedy: true}),
    config: Flags.string({description: 'a config blob FILE[:MEDIA_TYPE] instead of the empty config'}),
  }

  async run(): Promise<ops.ArtifactPushResult> {
    const {args, flags: f, argv} = await this.parseCommand(ArtifactPush)
    const ref = parseReference(args.ref)
    const files = await Promise.all((argv as string[]).slice(1).map((x) => parseFileArg(x, ops.DEFAULT_FILE_TYPE)))
    const config = f.config ? await parseFileArg(f.config, 'application/octet-stream') : undefined
    const r = await ops.pushArtifact(ref, {...this.remoteOptions(), files, artifactType: f['artifact-type'], annotations: parseAnnotations(f.annotation), config})
    this.log(r.reference)
    return r
  }
}
