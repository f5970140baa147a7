import {Args, Flags} from '@oclif/core'
import {OcitoolCommand} from '../lib/cli/command.js'
import * as flags from '../lib/cli/flags.js'
import {compileTemplate} from '../lib/cli/go-template.js'
import * as ops from '../lib/ops/inspect.js'
import {parseLocation} from '../lib/stores/location.js'

export default class Inspect extends OcitoolCommand {
  static override summary = "Show an image's digest, tags, platform, labels, env and layers, as skopeo inspect does"
  static override description = `IMAGE is a registry reference (or docker://…), oci:DIR[:TAG], oci-archive:FILE[:TAG], docker-archive:FILE[:REF] or dir:DIR. The output is skopeo's JSON document (Name, Digest, RepoTags, Created, DockerVersion, Labels, Architecture, Os, Layers, LayersData, Env); Digest is the manifest the name points at (an index stays the index's digest), the rest comes from the image for --platform (default linux/amd64). A registry's tags are listed unless --no-tags.
--format takes a Go template as skopeo does: {{.Digest}}, {{.Labels.KEY}}, {{json .Env}}, {{index .Labels "a.b"}}, {{join .RepoTags ","}}, {{range .Layers}}{{.}} {{end}}.`
  static override examples = [
    '<%= config.bin %> <%= command.id %> registry.example.com/app:1.0',
    "<%= config.bin %> <%= command.id %> --format '{{.Digest}} {{json .Env}}' oci:./layout:v1",
    '<%= config.bin %> <%= command.id %> --config registry.example.com/app:1.0',
    '<%= config.bin %> <%= command.id %> --raw registry.example.com/app:1.0',
  ]
  static override args = {image: Args.string({required: true, description: 'image: a registry reference or a store name (oci:, oci-archive:, docker-archive:, dir:)'})}
  static override flags = {
    platform: flags.platform(),
    raw: Flags.boolean({description: 'print the manifest exactly as stored (an index stays an index)'}),
    config: Flags.boolean({description: "print the image's config (with --raw: exactly as stored)"}),
    format: Flags.string({char: 'f', description: 'render with a Go template instead of JSON', exclusive: ['raw', 'config']}),
    'no-tags': Flags.boolean({char: 'n', description: "don't list the repository's tags (skopeo's -n)"}),
    json: Flags.boolean({description: 'JSON output (the default; accepted for symmetry with other commands)', exclusive: ['format']}),
  }

  async run(): Promise<void> {
    const {args, flags: f} = await this.parseCommand(Inspect)
    const loc = parseLocation(args.image)
    const template = f.format === undefined ? undefined : compileTemplate(f.format)
    const options = {...this.remoteOptions(), platform: f.platform}
    if (f.config) {
      const bytes = await ops.inspectConfig(loc, options)
      await this.writeOut(f.raw ? bytes : `${JSON.stringify(JSON.parse(bytes.toString('utf8')), null, 4)}\n`)
      return
    }
    if (f.raw) {
      await this.writeOut(await ops.inspectRaw(loc, options))
      return
    }
    const out = await ops.inspect(loc, {...options, tags: !f['no-tags']})
    if (template) {
      const text = template({Name: '', ...out})
      await this.writeOut(text.endsWith('\n') ? text : `${text}\n`)
      return
    }
    await this.writeOut(`${JSON.stringify(out, null, 4)}\n`)
  }
}
