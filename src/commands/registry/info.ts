import {Args, Flags} from '@oclif/core'
import {OcitoolCommand} from '../../lib/cli/command.js'
import {apiHostOf, parseRegistry} from '../../lib/name/reference.js'
import {type RegistryInfo, probeRegistry} from '../../lib/remote/probe.js'
import {withSession} from '../../lib/remote/session.js'

export default class RegistryInfoCommand extends OcitoolCommand {
  static override summary = "Ask a registry what it can do: referrers API, mount, chunked upload, tag delete, catalog, rate limits"
  static override description = `Read-only by default (API version, catalog, referrers API, rate-limit headers). --write also tries what needs writing, in a scratch repository (--repository, default ocitool-probe): a chunked upload and its session offset (GET on the session), OCI-Chunk-Min-Length, a cross-repository mount, and deleting a tag; what it made is deleted again where the registry allows.`
  static override examples = ['<%= config.bin %> <%= command.id %> registry.example.com', '<%= config.bin %> <%= command.id %> localhost:5000 --write --json']
  static override enableJsonFlag = true
  static override args = {registry: Args.string({required: true, description: 'host[:port]'})}
  static override flags = {
    write: Flags.boolean({description: 'also try uploads, mounts and tag deletes (in a scratch repository)'}),
    repository: Flags.string({description: 'the repository for repository-level questions', default: 'ocitool-probe'}),
  }

  async run(): Promise<RegistryInfo> {
    const {args, flags} = await this.parseCommand(RegistryInfoCommand)
    const registry = parseRegistry(args.registry)
    const info = await withSession(this.remoteOptions(), (s) => probeRegistry(s, registry, apiHostOf(registry), {repository: flags.repository, write: flags.write}))
    const row = (name: string, c: {supported?: boolean; detail: string}) => `${name.padEnd(16)} ${c.supported === undefined ? '?  ' : c.supported ? 'yes' : 'no '}  ${c.detail}`
    this.log([
      `registry         ${info.registry}${info.apiVersion ? ` (${info.apiVersion})` : ''}`,
      row('catalog', info.catalog),
      row('referrers API', info.referrers),
      row('chunked upload', info.chunkedUpload),
      `chunk min length ${info.chunkMinLength ?? '-'}`,
      row('mount', info.mount),
      row('tag delete', info.tagDelete),
      row('rate limits', info.rateLimit),
    ].join('\n'))
    return info
  }
}
