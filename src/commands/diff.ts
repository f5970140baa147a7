import {Args, Flags} from '@oclif/core'
import {OcitoolCommand} from '../lib/cli/command.js'
import * as flags from '../lib/cli/flags.js'
import * as ops from '../lib/ops/diff.js'
import {parseLocation} from '../lib/stores/location.js'

export default class Diff extends OcitoolCommand {
  static override summary = 'Show how two images differ: config, layers (by diff_id) and, with --files, paths'
  static override description = `Config fields are compared one by one (Env and Labels by name); layers by diff_id: the bottom layers both share, then each image's own. --files reads the layers each image does not share and lists the paths added (+), removed (-) and modified (~) in the applied filesystems (whiteouts applied; a modification is a change of type, mode, owner, size, content or link target, not of times). Either image may be any store (registry, oci:, oci-archive:, docker-archive:, dir:); an index gives its --platform image (default linux/amd64). Exit 0 whether or not they differ.`
  static override examples = [
    '<%= config.bin %> <%= command.id %> registry.example.com/app:1.0 registry.example.com/app:1.1',
    '<%= config.bin %> <%= command.id %> registry.example.com/app:1.0 oci:./build:latest --files --json',
  ]
  static override enableJsonFlag = true
  static override args = {
    a: Args.string({required: true, description: 'image A'}),
    b: Args.string({required: true, description: 'image B'}),
  }
  static override flags = {
    files: Flags.boolean({description: 'also compare the filesystems (reads the layers the images do not share)'}),
    platform: flags.platform(),
  }

  async run(): Promise<ops.DiffResult> {
    const {args, flags: f} = await this.parseCommand(Diff)
    const r = await ops.diff(parseLocation(args.a), parseLocation(args.b), {...this.remoteOptions(), platform: f.platform, files: f.files})
    const show = (v: unknown) => JSON.stringify(v)
    this.log(`A ${r.a.digest}`)
    this.log(`B ${r.b.digest}`)
    this.log(r.config.length === 0 ? 'config: same' : 'config:')
    for (const c of r.config) {
      if (!('a' in c)) this.log(`  + ${c.key}: ${show(c.b)}`)
      else if (!('b' in c)) this.log(`  - ${c.key}: ${show(c.a)}`)
      else this.log(`  ~ ${c.key}: ${show(c.a)} -> ${show(c.b)}`)
    }
    this.log(`layers: ${r.layers.common} in common${r.layers.onlyA.length + r.layers.onlyB.length === 0 ? ', no others' : ''}`)
    for (const l of r.layers.onlyA) this.log(`  - ${l.diffId} (A layer ${l.index})`)
    for (const l of r.layers.onlyB) this.log(`  + ${l.diffId} (B layer ${l.index})`)
    if (r.files) {
      const n = r.files.added.length + r.files.removed.length + r.files.modified.length
      this.log(n === 0 ? 'files: same' : 'files:')
      for (const p of r.files.removed) this.log(`  - ${p}`)
      for (const p of r.files.added) this.log(`  + ${p}`)
      for (const p of r.files.modified) this.log(`  ~ ${p}`)
    }
    return r
  }
}
