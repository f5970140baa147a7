import {Args, Flags} from '@oclif/core'
import {withSession} from 'ocitool'
import {OcitoolCommand} from 'ocitool/cli'
import {walk, type GcrListing} from '../../lib/gcr.js'

/** `ocitool gcr ls REPO`: every manifest of a GCR repository (and below it with -r), tagged or not. */
export default class Ls extends OcitoolCommand {
  static override summary = "List a GCR repository's manifests with GCR's tags/list extension (tags, sizes, times)"
  static override examples = ['<%= config.bin %> <%= command.id %> gcr.io/my-project/app', '<%= config.bin %> <%= command.id %> gcr.io/my-project -r --json']
  static override enableJsonFlag = true
  static override args = {repository: Args.string({required: true, description: 'repository (REGISTRY/REPO)'})}
  static override flags = {recursive: Flags.boolean({char: 'r', description: 'also list every child repository, recursively'})}

  async run(): Promise<{repositories: GcrListing[]}> {
    const {args, flags} = await this.parseCommand(Ls)
    const repositories = await withSession(this.remoteOptions(), (s) => walk(s, args.repository, flags.recursive))
    const rows = [['REPOSITORY', 'DIGEST', 'TAGS', 'CREATED', 'UPLOADED', 'SIZE', 'MEDIA TYPE']]
    for (const r of repositories) {
      const entries = Object.entries(r.manifests).sort(([, a], [, b]) => b.timeUploadedMs - a.timeUploadedMs)
      for (const [digest, m] of entries) {
        rows.push([r.repository, digest.slice(0, 19), m.tag.join(',') || '-', time(m.timeCreatedMs), time(m.timeUploadedMs), String(m.imageSizeBytes), m.mediaType])
      }
    }
    const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)))
    for (const r of rows) this.log(r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  '))
    return {repositories}
  }
}

function time(ms: number): string {
  return ms > 0 ? new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z') : '-'
}
