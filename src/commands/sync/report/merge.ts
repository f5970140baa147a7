import {Args} from '@oclif/core'
import * as fs from 'node:fs'
import {OcitoolCommand} from '../../../lib/cli/command.js'
import {renderReport} from '../../../lib/cli/sync-output.js'
import {UsageError} from '../../../lib/errors.js'
import {type SyncReport, checkReport, mergeReports} from '../../../lib/sync/report.js'

export default class SyncReportMerge extends OcitoolCommand {
  static override summary = 'Merge the --json reports of sync shards into one'
  static override description = 'Repositories side by side (a repository in two reports is an error: the shards overlapped), totals added again. The exit code is 1 when the merged report has failures.'
  static override examples = ['<%= config.bin %> <%= command.id %> shard-0.json shard-1.json shard-2.json --json > report.json']
  static override enableJsonFlag = true
  static override strict = false
  static override args = {files: Args.string({required: true, description: 'sync --json reports'})}

  async run(): Promise<SyncReport> {
    const {argv} = await this.parseCommand(SyncReportMerge)
    const reports = (argv as string[]).map((file) => {
      let text: string
      try {
        text = fs.readFileSync(file, 'utf8')
      } catch (e) {
        throw new UsageError(`${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`)
      }
      try {
        return checkReport(JSON.parse(text), file)
      } catch (e) {
        if (e instanceof SyntaxError) throw new UsageError(`${file}: not JSON (ocitool sync --json writes a report)`)
        throw e
      }
    })
    const merged = mergeReports(reports)
    if (!this.jsonEnabled()) this.log(renderReport(merged))
    if (!merged.ok) process.exitCode = 1
    return merged
  }
}
