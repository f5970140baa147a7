// Transfer speed and memory against skopeo, in one run, on loopback distribution registries.
// Image: BENCH_LAYERS (8) incompressible layers of BENCH_LAYER_MIB (48) MiB, plus an image of 40
// small layers. Each measured run gets a fresh, empty destination registry, so nothing is
// skipped or mounted. The physical floor of a copy is measured too: curl uploading the same
// blobs monolithically, 4 at a time, into a fresh registry.
// Targets (issue 3): copy ≤ 0.9× skopeo; pull ≤ 1.0×; push ≤ 1.0×; 40 small layers ≤ 1.0×;
// peak RSS < 150 MiB.
import {execFile} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {mkdir, readdir, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {gzipSync} from 'node:zlib'
import {makeLayerTar, sha256, skopeo} from '../test/support/fixtures.js'
import {type RunningRegistry, startRegistry} from '../test/support/registry.js'
import {median, table} from './lib.js'

const rounds = Number(process.env.BENCH_ROUNDS ?? 3)
/** BENCH_ONLY=copy,pull,push,small runs just those cases (pull runs when push does: it makes the tarball) */
const only = new Set((process.env.BENCH_ONLY ?? 'copy,pull,push,small').split(','))
if (only.has('push')) only.add('pull')
const layers = Number(process.env.BENCH_LAYERS ?? 8)
const layerMiB = Number(process.env.BENCH_LAYER_MIB ?? 48)
const bin = fileURLToPath(new URL('../bin/run.js', import.meta.url))
const work = join(tmpdir(), `ocitool-bench-${process.pid}`)

interface Run {
  seconds: number
  rssMiB: number
}

/**
 * timed runs a command under GNU time, for wall time and peak RSS. The disk first takes what
 * earlier runs left to write (sync, untimed), so no run pays for the one before it.
 */
async function timed(cmd: string, args: string[]): Promise<Run> {
  await new Promise((resolve) => execFile('sync', resolve))
  return new Promise((resolve, reject) => {
    execFile('/usr/bin/time', ['-f', '%e %M', cmd, ...args], {maxBuffer: 64 * 1024 * 1024}, (err, _out, stderr) => {
      const m = /([\d.]+) (\d+)\s*$/.exec(stderr)
      if (err || !m) reject(new Error(`${cmd} ${args.join(' ')} failed: ${stderr.slice(-2000)}`))
      else resolve({seconds: Number(m[1]), rssMiB: Number(m[2]) / 1024})
    })
  })
}

interface Layer {
  blob: Buffer
  diffId: string
}

/** a tar holding one file of random bytes, gzip-stored (incompressible, quick to make) */
function bigLayer(mib: number): Layer {
  const data = randomBytes(mib * 1024 * 1024)
  const header = Buffer.alloc(512)
  header.write('data.bin', 0)
  header.write('0000644\0', 100)
  header.write('0000000\0', 108)
  header.write('0000000\0', 116)
  header.write(`${data.length.toString(8).padStart(11, '0')}\0`, 124)
  header.write('00000000000\0', 136)
  header.write('        ', 148)
  header.write('0', 156)
  header.write('ustar\0', 257)
  header.write('00', 263)
  let sum = 0
  for (const b of header) sum += b
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148)
  const pad = Buffer.alloc((512 - (data.length % 512)) % 512)
  const tar = Buffer.concat([header, data, pad, Buffer.alloc(1024)])
  return {blob: gzipSync(tar, {level: 0}), diffId: sha256(tar)}
}

/** writes a skopeo dir: image with the given layers and returns its path and blob files */
async function makeImage(name: string, layerList: Layer[]): Promise<{dir: string; blobs: string[]}> {
  const dir = join(work, name)
  await mkdir(dir, {recursive: true})
  const layerBlobs = layerList.map((l) => l.blob)
  const diffIds = layerList.map((l) => l.diffId)
  const config = Buffer.from(JSON.stringify({architecture: 'amd64', os: 'linux', rootfs: {type: 'layers', diff_ids: diffIds}, config: {}}))
  const blobs: string[] = []
  for (const b of [config, ...layerBlobs]) {
    const file = join(dir, sha256(b).slice(7))
    await writeFile(file, b)
    blobs.push(file)
  }
  const manifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
    config: {mediaType: 'application/vnd.docker.container.image.v1+json', size: config.length, digest: sha256(config)},
    layers: layerBlobs.map((b) => ({mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', size: b.length, digest: sha256(b)})),
  }
  await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest))
  await writeFile(join(dir, 'version'), 'Directory Transport Version: 1.1\n')
  return {dir, blobs}
}

async function fresh<T>(fn: (reg: RunningRegistry) => Promise<T>): Promise<T> {
  const reg = await startRegistry({flavour: 'plain'})
  try {
    return await fn(reg)
  } finally {
    await reg.stop()
  }
}

const curlUpload = (reg: RunningRegistry, files: string[]) =>
  timed('sh', ['-c', `printf '%s\\n' ${files.map((f) => `'${f}'`).join(' ')} | xargs -P 4 -I{} sh -c 'loc=$(curl -s -o /dev/null -w "%{redirect_url}" -X POST ${reg.url}/v2/floor/blobs/uploads/ -D - | tr -d "\\r" | sed -n "s/^Location: //p"); d=sha256:$(basename {}); case "$loc" in *\\?*) u="$loc&digest=$d";; *) u="$loc?digest=$d";; esac; curl -sf -o /dev/null -X PUT -H "Content-Type: application/octet-stream" --data-binary @{} "$u"'`])

await mkdir(work, {recursive: true})
const src = await startRegistry({flavour: 'plain'})
try {
  console.log(`making an image of ${layers} × ${layerMiB} MiB incompressible layers and one of 40 small layers…`)
  const big = await makeImage('big', Array.from({length: layers}, () => bigLayer(layerMiB)))
  const small = await makeImage(
    'small',
    await Promise.all(
      Array.from({length: 40}, async (_, i) => {
        const tar = await makeLayerTar(`small-${i}`)
        return {blob: gzipSync(tar), diffId: sha256(tar)}
      }),
    ),
  )
  for (const [img, ref] of [[big, 'bench/big:v1'], [small, 'bench/small:v1']] as const) {
    const r = await skopeo(['copy', '--dest-tls-verify=false', `dir:${img.dir}`, `docker://${src.host}/${ref}`])
    if (r.code !== 0) throw new Error(r.stderr)
  }
  const tarball = join(work, 'big.tar')
  const s = {src: ['--src-tls-verify=false'], dst: ['--dest-tls-verify=false']}
  const results: Record<string, {ocitool: Run[]; skopeo: Run[]; floor?: Run[]}> = {}
  const add = (k: string, who: 'ocitool' | 'skopeo' | 'floor', r: Run) => ((results[k] ??= {ocitool: [], skopeo: []})[who] ??= []).push(r)
  // the tools of a case take turns going first, so neither always meets a registry (or a disk)
  // just left busy by the other
  const inTurn = async (round: number, runs: Array<() => Promise<void>>) => {
    for (const run of Math.abs(round) % 2 ? [...runs].reverse() : runs) await run()
  }
  // a first round warms up and is not counted: the fresh source registry's first answers and a new
  // build's first run (before its compiled-code cache exists) are slower than every later one
  for (let round = -1; round < rounds; round++) {
    if (round === 0) for (const k of Object.keys(results)) delete results[k]
    if (only.has('copy')) {
      const k = 'copy registry → registry'
      await inTurn(round, [
        async () => add(k, 'ocitool', await fresh((d) => timed(process.execPath, [bin, 'copy', `${src.host}/bench/big:v1`, `${d.host}/dst/big:v1`]))),
        async () => add(k, 'skopeo', await fresh((d) => timed('skopeo', ['copy', ...s.src, ...s.dst, `docker://${src.host}/bench/big:v1`, `docker://${d.host}/dst/big:v1`]))),
        async () => add(k, 'floor', await fresh((d) => curlUpload(d, big.blobs))),
      ])
    }
    if (only.has('pull')) {
      const k = 'pull → docker tarball'
      const skopeoTar = join(work, 'skopeo.tar')
      await rm(tarball, {force: true})
      await rm(skopeoTar, {force: true})
      await inTurn(round, [
        async () => add(k, 'ocitool', await timed(process.execPath, [bin, 'pull', `${src.host}/bench/big:v1`, tarball])),
        async () => add(k, 'skopeo', await timed('skopeo', ['copy', ...s.src, `docker://${src.host}/bench/big:v1`, `docker-archive:${skopeoTar}:bench/big:v1`])),
      ])
    }
    if (only.has('push')) {
      const k = 'push tarball → new repository'
      await inTurn(round, [
        async () => add(k, 'ocitool', await fresh((d) => timed(process.execPath, [bin, 'push', tarball, `${d.host}/pushed/big:v1`]))),
        async () => add(k, 'skopeo', await fresh((d) => timed('skopeo', ['copy', ...s.dst, `docker-archive:${tarball}`, `docker://${d.host}/pushed/big:v1`]))),
      ])
    }
    if (only.has('small')) {
      const k = 'copy 40 small layers'
      await inTurn(round, [
        async () => add(k, 'ocitool', await fresh((d) => timed(process.execPath, [bin, 'copy', `${src.host}/bench/small:v1`, `${d.host}/dst/small:v1`]))),
        async () => add(k, 'skopeo', await fresh((d) => timed('skopeo', ['copy', ...s.src, ...s.dst, `docker://${src.host}/bench/small:v1`, `docker://${d.host}/dst/small:v1`]))),
      ])
    }
    process.stdout.write(round < 0 ? 'warm-up round done\n' : `round ${round + 1}/${rounds} done\n`)
  }
  const targets: Record<string, string> = {'copy registry → registry': '≤ 0.90', 'pull → docker tarball': '≤ 1.00', 'push tarball → new repository': '≤ 1.00', 'copy 40 small layers': '≤ 1.00'}
  const rows = Object.entries(results).map(([what, r]) => {
    const o = median(r.ocitool.map((x) => x.seconds))
    const k = median(r.skopeo.map((x) => x.seconds))
    const f = r.floor ? median(r.floor.map((x) => x.seconds)) : undefined
    return {
      what,
      'ocitool s': o.toFixed(2),
      'skopeo s': k.toFixed(2),
      'ratio': (o / k).toFixed(2),
      // the machine's speed drifts between rounds; a round's two runs meet the same drift
      'ratio in a round': median(r.ocitool.map((x, i) => x.seconds / r.skopeo[i].seconds)).toFixed(2),
      target: targets[what],
      'floor s (curl)': f ? f.toFixed(2) : '',
      'floor/skopeo': f ? (f / k).toFixed(2) : '',
      'ocitool peak RSS MiB': Math.max(...r.ocitool.map((x) => x.rssMiB)).toFixed(0),
      'skopeo peak RSS MiB': Math.max(...r.skopeo.map((x) => x.rssMiB)).toFixed(0),
    }
  })
  console.log(`\ntransfer bench: ${rounds} rounds after a warm-up (medians), ${layers} × ${layerMiB} MiB layers, node ${process.version}, ${(await readdir(work)).length} work files\n`)
  console.log(table(rows))
  console.log('\nevery run, in order (s):')
  for (const [what, r] of Object.entries(results)) {
    for (const [who, runs] of Object.entries(r)) console.log(`  ${what} · ${who}: ${(runs ?? []).map((x) => x.seconds.toFixed(2)).join(' ')}`)
  }
} finally {
  await src.stop()
  await rm(work, {recursive: true, force: true})
}
