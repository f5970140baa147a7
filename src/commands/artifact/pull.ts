import {Args, Flags} from '@oclif/core'
import {OcitoolCommand} from '../../lib/cli/command.js'
import * as flags from '../../lib/cli/flags.js'
import {parseReference} from '../../lib/name/reference.js'
import * as ops from '../../lib/ops/artifact.js'

export default class ArtifactPull extends OcitoolCommand {
  static override summary = "Write an artifact's files (oras pull): each layer by its org.opencontainers.image.title"
  static override description = `Every titled layer is downloaded, verified against its digest and written under --output (default: the current directory); layers without a title are skipped. A title that is absolute or climbs out with .. fails the pull (exit 6) before anything is written, and files appear only once every one of them was downloaded and verified. Prints the paths written.`
  static override examples = ['<%= config.bin %> <%= command.id %> registry.example.com/docs:v1 -o ./docs']
  static override enableJsonFlag = true
  static override args = {ref: Args.string({required: true, description: 'REGISTRY/REPO:TAG or @DIGEST'})}
  static override flags = {
    output: Flags.string({char: 'o', description: 'directory to write the files into', default: '.'}),
    platform: flags.platform(),
  }

  async run(): Promise<{files: ops.PulledFile[]}> {
    const {args, flags: f} = await this.parseCommand(ArtifactPull)
    const files = await ops.pullArtifact(parseReference(args.ref), f.output, {...this.remoteOptions(), platform: f.platform})
    for (const x of files) this.log(x.path)
    return {files}
  }
}
