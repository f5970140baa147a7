// Transfer speed and memory against crane and skopeo, in one run, on loopback distribution
// registries. Image: BENCH_LAYERS (8) incompressible layers of BENCH_LAYER_MIB (48) MiB, plus an
// image of 40 small layers. Each measured run that writes to a registry gets a fresh, empty one,
// so nothing is skipped or mounted; the tools of a case take turns going first; ratios are the
// median of each round's own ocitool/peer ratio. Node's floor for a copy is measured too
// (node-floor.mjs: bare node:http GET piped into PUT per blob, 4 at a time, nothing hashed, into a
// fresh registry; for a pull, the blobs written to files): the `floor` columns; `floor ÷crane` near or above a target means node:http
// alone does not leave room to reach it.
// BENCH_BIG=1 adds a 2 GiB single-layer copy and pull (peak RSS < 150 MiB, time linear in size).
// Targets (issue 14, against crane): copy ≤ 0.90, 40 small layers ≤ 1.00, pull ≤ 0.90,
// push ≤ 0.80; peak RSS < 150 MiB.
import {mkdir, readdir, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {basename, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {type RunningRegistry, startRegistry} from '../test/support/registry.js'
import {bigLayer, fresh, hugeLayer, makeImage, pushDir, smallLayers} from './images.js'
import {Results, crane, craneNote, inTurn, timed} from './lib.js'

const rounds = Number(process.env.BENCH_ROUNDS ?? 5)
/** BENCH_ONLY=copy,pull,push,small,big runs just those cases (pull runs when push does: it makes the tarball) */
const only = new Set((process.env.BENCH_ONLY ?? `copy,pull,push,small${process.env.BENCH_BIG ? ',big' : ''}`).split(','))
if (only.has('push')) only.add('pull')
const layers = Number(process.env.BENCH_LAYERS ?? 8)
const layerMiB = Number(process.env.BENCH_LAYER_MIB ?? 48)
const bigMiB = Number(process.env.BENCH_BIG_MIB ?? 2048)
const bin = fileURLToPath(new URL('../bin/run.js', import.meta.url))
const work = join(tmpdir(), `ocitool-bench-${process.pid}`)
const oc = (...args: string[]) => timed(bin, [...args])

/** Node's own floor for a copy: bare node:http GET → PUT per blob, 4 at a time (node-floor.mjs) */
const nodeFloor = (from: RunningRegistry, to: RunningRegistry, files: string[]) =>
  timed(process.execPath, [fileURLToPath(new URL('node-floor.mjs', import.meta.url)), from.url, 'bench/big', to.url, 'floor/big', ...files.map((f) => `sha256:${basename(f)}`)])

await mkdir(work, {recursive: true})
const src = await startRegistry({flavour: 'plain'})
try {
  console.log(`making an image of ${layers} × ${layerMiB} MiB incompressible layers and one of 40 small layers…`)
  const big = await makeImage(work, 'big', Array.from({length: layers}, () => bigLayer(layerMiB)))
  const small = await makeImage(work, 'small', await smallLayers())
  await pushDir(src, big.dir, 'bench/big:v1')
  await pushDir(src, small.dir, 'bench/small:v1')
  if (only.has('big')) {
    console.log(`making an image of one ${bigMiB} MiB layer…`)
    const huge = await makeImage(work, 'huge', [await hugeLayer(work, bigMiB)])
    await pushDir(src, huge.dir, 'bench/huge:v1')
    await rm(huge.dir, {recursive: true, force: true})
  }
  const tarball = join(work, 'big.tar')
  const s = {src: ['--src-tls-verify=false'], dst: ['--dest-tls-verify=false']}
  const results = new Results()
  const c = crane
  // a first round warms up and is not counted: the fresh source registry's first answers and a new
  // build's first run (before its compiled-code cache exists) are slower than every later one
  for (let round = -1; round < rounds; round++) {
    if (round === 0) results.clear()
    if (only.has('copy')) {
      const k = `copy registry → registry, ${layers} × ${layerMiB} MiB`
      await inTurn(round, [
        async () => results.add(k, 'ocitool', await fresh((d) => oc('copy', `${src.host}/bench/big:v1`, `${d.host}/dst/big:v1`))),
        c && (async () => results.add(k, 'crane', await fresh((d) => timed(c, ['copy', '--insecure', `${src.host}/bench/big:v1`, `${d.host}/dst/big:v1`])))),
        async () => results.add(k, 'skopeo', await fresh((d) => timed('skopeo', ['copy', ...s.src, ...s.dst, `docker://${src.host}/bench/big:v1`, `docker://${d.host}/dst/big:v1`]))),
        async () => results.add(k, 'floor', await fresh((d) => nodeFloor(src, d, big.blobs))),
      ])
    }
    if (only.has('small')) {
      const k = 'copy 40 small layers'
      await inTurn(round, [
        async () => results.add(k, 'ocitool', await fresh((d) => oc('copy', `${src.host}/bench/small:v1`, `${d.host}/dst/small:v1`))),
        c && (async () => results.add(k, 'crane', await fresh((d) => timed(c, ['copy', '--insecure', `${src.host}/bench/small:v1`, `${d.host}/dst/small:v1`])))),
        async () => results.add(k, 'skopeo', await fresh((d) => timed('skopeo', ['copy', ...s.src, ...s.dst, `docker://${src.host}/bench/small:v1`, `docker://${d.host}/dst/small:v1`]))),
      ])
    }
    if (only.has('pull')) {
      const k = `pull → docker tarball, ${layers * layerMiB} MiB`
      const peerTar = join(work, 'peer.tar')
      const pull = async (tool: 'ocitool' | 'crane' | 'skopeo', run: () => Promise<import('./lib.js').Run>) => {
        await rm(tool === 'ocitool' ? tarball : peerTar, {force: true})
        results.add(k, tool, await run())
      }
      await inTurn(round, [
        () => pull('ocitool', () => oc('pull', `${src.host}/bench/big:v1`, tarball)),
        c && (() => pull('crane', () => timed(c, ['pull', '--insecure', `${src.host}/bench/big:v1`, peerTar]))),
        () => pull('skopeo', () => timed('skopeo', ['copy', ...s.src, `docker://${src.host}/bench/big:v1`, `docker-archive:${peerTar}:bench/big:v1`])),
        async () => {
          const dir = join(work, 'floor-pull')
          await mkdir(dir, {recursive: true})
          results.add(k, 'floor', await timed(process.execPath, [fileURLToPath(new URL('node-floor.mjs', import.meta.url)), src.url, 'bench/big', `file:${dir}`, '-', ...big.blobs.map((f) => `sha256:${basename(f)}`)]))
          await rm(dir, {recursive: true, force: true})
        },
      ])
      await rm(peerTar, {force: true})
    }
    if (only.has('push')) {
      const k = 'push docker tarball → registry'
      await inTurn(round, [
        async () => results.add(k, 'ocitool', await fresh((d) => oc('push', tarball, `${d.host}/pushed/big:v1`))),
        c && (async () => results.add(k, 'crane', await fresh((d) => timed(c, ['push', '--insecure', tarball, `${d.host}/pushed/big:v1`])))),
        async () => results.add(k, 'skopeo', await fresh((d) => timed('skopeo', ['copy', ...s.dst, `docker-archive:${tarball}`, `docker://${d.host}/pushed/big:v1`]))),
      ])
    }
    if (only.has('big') && round >= 0 && round < 1) {
      // one round only: 2 GiB is slow to move, and the point is memory and linear time
      const kc = `copy ${bigMiB} MiB single layer`
      const kp = `pull ${bigMiB} MiB single layer`
      const out = join(work, 'huge.tar')
      results.add(kc, 'ocitool', await fresh((d) => oc('copy', `${src.host}/bench/huge:v1`, `${d.host}/dst/huge:v1`)))
      if (c) results.add(kc, 'crane', await fresh((d) => timed(c, ['copy', '--insecure', `${src.host}/bench/huge:v1`, `${d.host}/dst/huge:v1`])))
      results.add(kp, 'ocitool', await oc('pull', `${src.host}/bench/huge:v1`, out))
      await rm(out, {force: true})
      if (c) results.add(kp, 'crane', await timed(c, ['pull', '--insecure', `${src.host}/bench/huge:v1`, out]))
      await rm(out, {force: true})
    }
    process.stdout.write(round < 0 ? 'warm-up round done\n' : `round ${round + 1}/${rounds} done\n`)
  }
  const targets: Record<string, string> = {
    [`copy registry → registry, ${layers} × ${layerMiB} MiB`]: '≤ 0.90',
    'copy 40 small layers': '≤ 1.00',
    [`pull → docker tarball, ${layers * layerMiB} MiB`]: '≤ 0.90',
    'push docker tarball → registry': '≤ 0.80',
    [`copy ${bigMiB} MiB single layer`]: 'RSS < 150',
    [`pull ${bigMiB} MiB single layer`]: 'RSS < 150',
  }
  console.log(`\ntransfer bench: ${rounds} rounds after a warm-up (medians; ÷ = median of the per-round ratio), node ${process.version}, ${(await readdir(work)).length} work files; ${craneNote}\n`)
  console.log(results.table(targets))
  console.log('\nevery run, in order (wall s / CPU-s):')
  console.log(results.detail())
} finally {
  await src.stop()
  await rm(work, {recursive: true, force: true})
}
