// Many references in one run, against crane, on a loopback distribution registry:
// - batch: 200 tags resolved by one `ocitool digest -` against a shell loop of 200 `crane digest`
//   (target ≤ 0.50×);
// - ls of a repository with BENCH_LS_TAGS (10,000) tags, `ocitool ls` against `crane ls` (≤ 1.00×);
// - copy -a of the 200 tags into a fresh, empty registry, against `crane copy -a` (≤ 1.00×).
// BENCH_ONLY=batch,ls,copy-all picks cases; BENCH_ROUNDS (5) rounds after a warm-up.
import {execFile} from 'node:child_process'
import {mkdir, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {pushFixture} from '../test/support/fixtures.js'
import {startRegistry} from '../test/support/registry.js'
import {fresh} from './images.js'
import {Results, crane, craneNote, inTurn, timed} from './lib.js'

const rounds = Number(process.env.BENCH_ROUNDS ?? 5)
const only = new Set((process.env.BENCH_ONLY ?? 'batch,ls,copy-all').split(','))
const tags = 200
const lsTags = Number(process.env.BENCH_LS_TAGS ?? 10_000)
const bin = fileURLToPath(new URL('../bin/run.js', import.meta.url))
const work = join(tmpdir(), `ocitool-bench-batch-${process.pid}`)

/**
 * tagMany gives `repo` tags t0…t(n-1) with batch `ocitool tag -` runs; the registry's storage
 * answers an occasional 500 under thousands of concurrent tag writes, so the pairs that failed
 * (named on stderr) are tried again, up to 4 runs.
 */
async function tagMany(host: string, repo: string, n: number): Promise<void> {
  const file = join(work, `tags-${repo.replace(/\W/g, '_')}`)
  let pairs = Array.from({length: n}, (_, i) => `${host}/${repo}:v1 t${i}`)
  for (let run = 0; run < 4 && pairs.length > 0; run++) {
    await writeFile(file, pairs.join('\n'))
    const stderr = await new Promise<string>((resolve) => {
      execFile('sh', ['-c', '"$0" tag - < "$1"', bin, file], {maxBuffer: 1 << 26}, (_e, _o, err) => resolve(String(err)))
    })
    const failed = new Set([...stderr.matchAll(/^Error: (\S+ t\d+): /gm)].map((m) => m[1]))
    pairs = pairs.filter((p) => failed.has(p))
  }
  if (pairs.length > 0) throw new Error(`tagging ${repo}: ${pairs.length} tags still failing`)
}

await mkdir(work, {recursive: true})
const reg = await startRegistry({flavour: 'plain'})
try {
  await pushFixture(reg, 'bench/tags:v1', 'oci', 'bench-batch')
  await tagMany(reg.host, 'bench/tags', tags)
  const refs = join(work, 'refs.txt')
  await writeFile(refs, `${Array.from({length: tags}, (_, i) => `${reg.host}/bench/tags:t${i}`).join('\n')}\n`)
  if (only.has('ls')) {
    console.log(`tagging ${lsTags} tags…`)
    await pushFixture(reg, 'bench/many:v1', 'oci', 'bench-many')
    await tagMany(reg.host, 'bench/many', lsTags)
  }
  const results = new Results()
  const c = crane
  const names = {batch: `digest of ${tags} tags (one batch run vs a loop)`, ls: `ls of ${lsTags} tags`, copyAll: `copy -a of ${tags} tags`}
  for (let round = -1; round < rounds; round++) {
    if (round === 0) results.clear()
    if (only.has('batch')) {
      await inTurn(round, [
        async () => results.add(names.batch, 'ocitool', await timed(bin, ['digest', '-'], {stdinFile: refs})),
        c && (async () => results.add(names.batch, 'crane', await timed('sh', ['-c', `while read -r r; do "${c}" digest --insecure "$r" >/dev/null || exit 1; done < '${refs}'`]))),
      ])
    }
    if (only.has('ls')) {
      await inTurn(round, [
        async () => results.add(names.ls, 'ocitool', await timed(bin, ['ls', `${reg.host}/bench/many`])),
        c && (async () => results.add(names.ls, 'crane', await timed(c, ['ls', '--insecure', `${reg.host}/bench/many`]))),
      ])
    }
    if (only.has('copy-all')) {
      await inTurn(round, [
        async () => results.add(names.copyAll, 'ocitool', await fresh((d) => timed(bin, ['copy', '--all-tags', `${reg.host}/bench/tags`, `${d.host}/dst/tags`]))),
        c && (async () => results.add(names.copyAll, 'crane', await fresh((d) => timed(c, ['copy', '--insecure', '--all-tags', `${reg.host}/bench/tags`, `${d.host}/dst/tags`])))),
      ])
    }
    process.stdout.write(round < 0 ? 'warm-up round done\n' : `round ${round + 1}/${rounds} done\n`)
  }
  console.log(`\nbatch bench: ${rounds} rounds after a warm-up (medians; ÷ = median of the per-round ratio), node ${process.version}; ${craneNote}\n`)
  console.log(results.table({[names.batch]: '≤ 0.50', [names.ls]: '≤ 1.00', [names.copyAll]: '≤ 1.00'}))
  console.log('\nevery run, in order (wall s / CPU-s):')
  console.log(results.detail())
} finally {
  await reg.stop()
  await rm(work, {recursive: true, force: true})
}
