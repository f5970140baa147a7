// Mirroring many repositories: `ocitool sync` against `skopeo sync`, in the same run, on loopback
// distribution registries. Source: BENCH_SYNC_REPOS (50) repositories × BENCH_SYNC_TAGS (3)
// tags, each image a shared base layer and two of its own of BENCH_SYNC_LAYER_KIB (256) KiB.
// skopeo gets its best form: one `skopeo sync --src yaml` process naming every repository (all
// tags), as a mirror job runs it (BENCH_SYNC_SKOPEO=per-repo: one run per repository instead);
// its blob-info cache is removed before each run, so it cannot skip what an earlier run moved.
// Each measured run writes into a fresh, empty registry. Then ocitool runs again with nothing
// new: with its --state journal (no request at the destination at all) and without one (one
// manifest HEAD per tag); target: under 10 % of its first run. Target (issue 15): ocitool faster.
import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {homedir, loadavg, tmpdir} from 'node:os'
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
const perRepo = process.env.BENCH_SYNC_SKOPEO === 'per-repo'
const bin = fileURLToPath(new URL('../bin/run.js', import.meta.url))
const name = (i: number) => `svc-${String(i).padStart(3, '0')}`
// skopeo's blob-info cache: root's, else the user's
const blobInfoCaches = ['/var/lib/containers/cache/blob-info-cache-v1.boltdb', join(homedir(), '.local/share/containers/cache/blob-info-cache-v1.boltdb')]

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
  const yaml = join(work, 'skopeo-sync.yaml')
  await writeFile(yaml, `${src.host}:\n  tls-verify: false\n  images:\n${Array.from({length: repos}, (_, r) => `    bench/${name(r)}: []\n`).join('')}`)
  const results = new Results()
  const againState: number[] = []
  const againHead: number[] = []
  const againSeconds: number[] = []
  const k = `sync ${repos} repositories × ${tags} tags`
  for (let round = -1; round < rounds; round++) {
    if (round === 0) {
      results.clear()
      againState.length = 0
      againHead.length = 0
      againSeconds.length = 0
    }
    await inTurn(round, [
      async () => {
        const state = join(work, `state-${round}.jsonl`)
        await fresh(async (d) => {
          const args = ['sync', `${src.host}/bench/`, `${d.host}/mirror/`, '--progress', 'none']
          const first = await timed(bin, [...args, '--state', state])
          results.add(k, 'ocitool', first)
          const withState = await timed(bin, [...args, '--state', state])
          const withHeads = await timed(bin, args)
          againState.push(withState.seconds / first.seconds)
          againHead.push(withHeads.seconds / first.seconds)
          againSeconds.push(withState.seconds)
        })
      },
      async () =>
        results.add(k, 'skopeo', await fresh(async (d) => {
          for (const f of blobInfoCaches) await rm(f, {force: true})
          if (!perRepo) return timed('skopeo', ['--insecure-policy', 'sync', '--src', 'yaml', '--dest', 'docker', '--dest-tls-verify=false', yaml, `${d.host}/mirror`])
          const cmds = Array.from({length: repos}, (_, r) => `skopeo --insecure-policy sync --src docker --dest docker --src-tls-verify=false --dest-tls-verify=false ${src.host}/bench/${name(r)} ${d.host}/mirror >/dev/null`)
          return timed('sh', ['-ec', cmds.join('\n')])
        })),
    ])
  }
  console.log(`skopeo: ${perRepo ? 'one skopeo sync --src docker per repository' : 'one skopeo sync --src yaml for all repositories'}`)
  console.log(results.table({[k]: 'faster than skopeo'}))
  console.log(table([
    {case: 'no-change re-run ÷ first run (ocitool --state: journal, no destination request)', median: median(againState).toFixed(3), seconds: median(againSeconds).toFixed(2), target: '< 0.10'},
    {case: 'no-change re-run ÷ first run (ocitool without --state: one HEAD per tag)', median: median(againHead).toFixed(3), seconds: '', target: '< 0.10'},
  ]))
  console.log(results.detail())
  // the two figures issue 15 asks for, on lines of their own (a script greps them)
  const verdict = (ratio: number) => (ratio < 0.1 ? 'met' : 'MISSED')
  const state = median(againState)
  const heads = median(againHead)
  const load = loadavg()[0].toFixed(2)
  console.log(`re-run ratio (--state): ${state.toFixed(3)} of the first run (${median(againSeconds).toFixed(2)} s), target < 0.10: ${verdict(state)}`)
  console.log(`re-run ratio (no state): ${heads.toFixed(3)} of the first run, target < 0.10: ${verdict(heads)}`)
  console.log(`load average (1 min) at the end: ${load}`)
} finally {
  await src.stop()
  await rm(work, {recursive: true, force: true})
}
