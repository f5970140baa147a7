import {Args, Flags} from '@oclif/core'
import {OcitoolError, isOcitoolError, name as names, withSession} from 'ocitool'
import {OcitoolCommand} from 'ocitool/cli'
import {type Garbage, parseDuration, plan} from '../../lib/gc.js'
import {walk} from '../../lib/gcr.js'

/**
 * `ocitool gcr gc REPO`: untagged manifests that nothing kept needs. Prints them; deletes them
 * only with --delete (and not with --dry-run), stopping at the first refusal.
 */
export default class Gc extends OcitoolCommand {
  static override summary = 'List (or with --delete, delete) the untagged manifests of a GCR repository'
  static override description =
    'Never lists a child of a kept (e.g. tagged) index, the subject of a kept referrer or a referrer of a kept manifest. Deletes an index before its children and a referrer before its subject, and child repositories before their parents; the first failed deletion stops the run.'
  static override examples = ['<%= config.bin %> <%= command.id %> gcr.io/my-project/app --older-than 30d --keep 5', '<%= config.bin %> <%= command.id %> gcr.io/my-project -r --delete']
  static override enableJsonFlag = true
  static override args = {repository: Args.string({required: true, description: 'repository (REGISTRY/REPO)'})}
  static override flags = {
    recursive: Flags.boolean({char: 'r', description: 'also every child repository, recursively'}),
    'older-than': Flags.string({description: 'only manifests uploaded at least this long ago (e.g. 30d, 12h, 1d12h)'}),
    keep: Flags.integer({description: 'keep the N most recently uploaded untagged manifests of each repository', min: 0}),
    delete: Flags.boolean({description: 'delete what is listed'}),
    'dry-run': Flags.boolean({description: 'only print, even with --delete'}),
  }

  async run(): Promise<{garbage: Garbage[]; deleted: string[]}> {
    const {args, flags} = await this.parseCommand(Gc)
    let olderThanMs: number | undefined
    try {
      olderThanMs = flags['older-than'] === undefined ? undefined : parseDuration(flags['older-than'])
    } catch (e) {
      this.error((e as Error).message, {exit: 2})
    }
    const doDelete = flags.delete && !flags['dry-run']
    const deleted: string[] = []
    const garbage: Garbage[] = []
    await withSession(this.remoteOptions(), async (s) => {
      const listings = await walk(s, args.repository, flags.recursive)
      // child repositories before their parents
      for (const l of listings.reverse()) {
        const g = await plan(s, l, {olderThanMs, keep: flags.keep})
        garbage.push(...g)
        for (const x of g) {
          const ref = `${x.repository}@${x.digest}`
          if (!doDelete) {
            this.log(ref)
            continue
          }
          try {
            await s.repository(names.parseRepository(x.repository)).deleteManifest(x.digest)
          } catch (e) {
            const message = `deleting ${ref}: ${(e as Error).message}; stopped there, nothing else deleted (${deleted.length} deleted before)`
            throw new OcitoolError(message, isOcitoolError(e) ? {cause: e, code: e.code, exitCode: e.exitCode} : {cause: e})
          }
          deleted.push(ref)
          this.log(`deleted ${ref}`)
        }
      }
    })
    return {garbage, deleted}
  }
}
