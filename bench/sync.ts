// Mirroring many repositories: `ocitool sync` against `skopeo sync --src docker --dest docker`
// (one skopeo run per repository, as that mode takes one source repository each), in the same
// run, on loopback distribution registries. Source: BENCH_SYNC_REPOS (50) repositories ×
// BENCH_SYNC_TAGS (3) tags, each image a shared base layer and two of its own of
// BENCH_SYNC_LAYER_KIB (256) KiB. Each measured run writes into a fresh, empty registry; then
// ocitool runs again with nothing new (target: under 10 % of its first run; with --state the
// journal spares even the manifest HEADs). Targets (issue 15): ocitool faster than skopeo.
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {startRegistry} from '../test/support/registry.js'
import {pushImages, type SeedImage} from '../test/support/sync-images.js'
import {fresh} from './images.js'
import {Results, inTurn, median, table, timed} from './lib.js'

const repos = Number(process.env.BENCH_SYNC_REPOS ?? 50)
const tags = Number(process.env.BENCH_SYNC_TAGS ?? 3)
const layerKiB = Number(process.env.BENCH_SYNC_LAYER_KIB ?? 256)
const rounds = Number(process.env.BENCH_ROUNDS ?? 3)
const bin = fileURLToPath(new URL('../bin/run.js', import.meta.url))
const name = (i: number) => `svc-${String(i).padStart(3, '0')}`

const src = await startRegistry({flavour: 'plain'})
const work = await mkdtemp(join(tmpdir(), 'ocitool-bench-sync-'))
try {
  console.log(`pushing ${repos} repositories × ${tags} tags (3 layers of ${layerKiB} KiB, one shared)…`)
  const images: Record<string, SeedImage> = {}
  for (let r = 0; r < repos; r++) {
    for (let t = 0; t < tags; t++) images[`bench/${name(r)}:1.${t}.0`] = {layers: ['bench-base', `bench-${r}`, `bench-${r}-${t}`], layerBytes: layerKiB * 1024}
  }
  const list = Object.entries(images)
  for (let i = 0; i < list.length; i += 50) await pushImages(src, Object.fromEntries(list.slice(i, i + 50)))
  const results = new Results()
  const again: number[] = []
  const k = `sync ${repos} repositories × ${tags} tags`
  for (let round = -1; round < rounds; round++) {
    if (round === 0) {
      results.clear()
      again.length = 0
    }
    await inTurn(round, [
      async () => {
        const state = join(work, `state-${round}.jsonl`)
        await fresh(async (d) => {
          const args = [bin, 'sync', `${src.host}/bench/`, `${d.host}/mirror/`, '--progress', 'none', '--state', state]
          const first = await timed(process.execPath, args)
          results.add(k, 'ocitool', first)
          const second = await timed(process.execPath, args)
          again.push(second.seconds / first.seconds)
        })
      },
      async () =>
        results.add(k, 'skopeo', await fresh(async (d) => {
          // one skopeo sync per repository, all in one timed shell
          const cmds = Array.from({length: repos}, (_, r) => `skopeo --insecure-policy sync --src docker --dest docker --src-tls-verify=false --dest-tls-verify=false ${src.host}/bench/${name(r)} ${d.host}/mirror`)
          return timed('sh', ['-ec', cmds.map((c) => `${c} >/dev/null`).join('\n')])
        })),
    ])
  }
  console.log(results.table({[k]: 'faster than skopeo'}))
  console.log(table([{case: 'no-change re-run ÷ first run (ocitool, --state)', median: median(again).toFixed(3), target: '< 0.10'}]))
  console.log(results.detail())
} finally {
  await src.stop()
  await rm(work, {recursive: true, force: true})
}
