// export and flatten against crane, in one run, on loopback distribution registries:
// export of the 384 MiB image (8 × 48 MiB incompressible layers) to a tar; flatten of an image of
// 40 small layers and of the 384 MiB image, each pushed into a fresh, empty registry. skopeo
// has neither, so crane is the only peer. Targets (issue 14): export ≤ 1.00× crane, flatten of
// 40 small layers ≤ 1.50× (≤ 1.00× on the 384 MiB image); peak RSS < 150 MiB.
// BENCH_ONLY=export,flatten-small,flatten-big picks cases; BENCH_ROUNDS (3) rounds after a warm-up.
import {mkdir, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {startRegistry} from '../test/support/registry.js'
import {bigLayer, fresh, makeImage, pushDir, smallLayers} from './images.js'
import {Results, crane, craneNote, inTurn, timed} from './lib.js'

const rounds = Number(process.env.BENCH_ROUNDS ?? 3)
const only = new Set((process.env.BENCH_ONLY ?? 'export,flatten-small,flatten-big').split(','))
const layers = Number(process.env.BENCH_LAYERS ?? 8)
const layerMiB = Number(process.env.BENCH_LAYER_MIB ?? 48)
const bin = fileURLToPath(new URL('../bin/run.js', import.meta.url))
const work = join(tmpdir(), `ocitool-bench-image-${process.pid}`)
const oc = (...args: string[]) => timed(bin, [...args])

await mkdir(work, {recursive: true})
const src = await startRegistry({flavour: 'plain'})
try {
  console.log(`making an image of ${layers} × ${layerMiB} MiB incompressible layers and one of 40 small layers…`)
  await pushDir(src, (await makeImage(work, 'big', Array.from({length: layers}, () => bigLayer(layerMiB)))).dir, 'bench/big:v1')
  await pushDir(src, (await makeImage(work, 'small', await smallLayers())).dir, 'bench/small:v1')
  await rm(join(work, 'big'), {recursive: true, force: true})
  const results = new Results()
  const c = crane
  const names = {export: `export ${layers * layerMiB} MiB image → tar`, small: 'flatten 40 small layers', big: `flatten ${layers * layerMiB} MiB image`}
  for (let round = -1; round < rounds; round++) {
    if (round === 0) results.clear()
    if (only.has('export')) {
      const out = join(work, 'fs.tar')
      const run = async (tool: 'ocitool' | 'crane', r: () => Promise<import('./lib.js').Run>) => {
        await rm(out, {force: true})
        results.add(names.export, tool, await r())
        await rm(out, {force: true})
      }
      await inTurn(round, [
        () => run('ocitool', () => oc('export', `${src.host}/bench/big:v1`, out)),
        c && (() => run('crane', () => timed(c, ['export', '--insecure', `${src.host}/bench/big:v1`, out]))),
      ])
    }
    for (const [key, img] of [['small', 'small'], ['big', 'big']] as const) {
      if (!only.has(`flatten-${key}`)) continue
      const k = names[key]
      await inTurn(round, [
        async () => results.add(k, 'ocitool', await fresh((d) => oc('flatten', `${src.host}/bench/${img}:v1`, '--tag', `${d.host}/flat/${img}:v1`))),
        c && (async () => results.add(k, 'crane', await fresh((d) => timed(c, ['flatten', '--insecure', `${src.host}/bench/${img}:v1`, '-t', `${d.host}/flat/${img}:v1`])))),
      ])
    }
    process.stdout.write(round < 0 ? 'warm-up round done\n' : `round ${round + 1}/${rounds} done\n`)
  }
  console.log(`\nexport/flatten bench: ${rounds} rounds after a warm-up (medians; ÷ = median of the per-round ratio), node ${process.version}; ${craneNote}\n`)
  console.log(results.table({[names.export]: '≤ 1.00', [names.small]: '≤ 1.50', [names.big]: '≤ 1.00'}))
  console.log('\nevery run, in order (wall s / CPU-s):')
  console.log(results.detail())
} finally {
  await src.stop()
  await rm(work, {recursive: true, force: true})
}
