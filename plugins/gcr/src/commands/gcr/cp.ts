import {Args, Flags} from '@oclif/core'
import {name as names, ops, withSession} from 'ocitool'
import {OcitoolCommand} from 'ocitool/cli'
import {walk} from '../../lib/gcr.js'

/**
 * `ocitool gcr cp SRC DST`: every tag of SRC (and with -r of every repository below it, at the
 * same relative path under DST), with the core's transfer engine (ops.copy --all-tags), so
 * digests are kept and blobs are mounted or skipped when DST has them.
 */
export default class Cp extends OcitoolCommand {
  static override summary = 'Copy the tagged images of a GCR repository, recursively with -r, to another registry'
  static override examples = ['<%= config.bin %> <%= command.id %> gcr.io/old-project/team europe-docker.pkg.dev/new-project/repo/team -r -j 8']
  static override enableJsonFlag = true
  static override args = {
    src: Args.string({required: true, description: 'source repository (REGISTRY/REPO), listed with GCR\'s tags/list extension'}),
    dst: Args.string({required: true, description: 'destination repository (REGISTRY/REPO)'}),
  }
  static override flags = {
    recursive: Flags.boolean({char: 'r', description: 'also copy every child repository, recursively'}),
    jobs: Flags.integer({char: 'j', description: 'parallel blob transfers per repository', default: 4, min: 1}),
  }

  async run(): Promise<{copied: {src: string; dst: string; tags: string[]}[]}> {
    const {args, flags} = await this.parseCommand(Cp)
    const src = names.parseRepository(args.src).name
    const dst = names.parseRepository(args.dst).name
    const options = this.remoteOptions()
    const listings = await withSession(options, (s) => walk(s, src, flags.recursive))
    const copied: {src: string; dst: string; tags: string[]}[] = []
    for (const l of listings) {
      if (l.tags.length === 0) continue
      const target = dst + l.repository.slice(src.length)
      await ops.copy({kind: 'registry', ref: names.parseReference(`${l.repository}:${l.tags[0]}`)}, {kind: 'registry', ref: names.parseReference(target)}, {...options, allTags: true, jobs: flags.jobs})
      this.log(`${l.repository} → ${target} (${l.tags.length} tag${l.tags.length === 1 ? '' : 's'})`)
      copied.push({src: l.repository, dst: target, tags: l.tags})
    }
    return {copied}
  }
}
