// sync --shard: three shard processes at once on a 30-repository source split the work with no
// coordinator: together they copy exactly the plan, no image is copied by two of them, and
// `sync report merge` adds their reports up.
import assert from 'node:assert/strict'
import * as fsp from 'node:fs/promises'
import * as path from 'node:path'
import {after, before, describe, it} from 'node:test'
import {runCli} from '../support/cli.js'
import {type RunningRegistry, startRegistry} from '../support/registry.js'
import {digestAt, pushImages} from '../support/sync-images.js'
import {type TmpDir, tmpDir} from '../support/tmp.js'

describe('sync --shard', () => {
  let a: RunningRegistry
  let b: RunningRegistry
  let tmp: TmpDir
  let src: Record<string, string>
  before(async () => {
    ;[a, b, tmp] = await Promise.all([startRegistry({flavour: 'plain'}), startRegistry({flavour: 'plain'}), tmpDir('sync-shards')])
    const images: Record<string, {layers: string[]; layerBytes: number}> = {}
    for (let i = 0; i < 30; i++) images[`fleet/svc-${String(i).padStart(2, '0')}:1.0`] = {layers: ['fleet-base', `fleet-${i}`], layerBytes: 512}
    src = await pushImages(a, images)
  })
  after(async () => {
    await a?.stop()
    await b?.stop()
    await tmp?.remove()
  })

  it('3 shards at once: union = plan, no image copied twice, the merged report adds up', async () => {
    const args = ['sync', `${a.host}/fleet/`, `${b.host}/copy/`, '--json']
    const plan = await runCli([...args, '--dry-run'])
    assert.equal(plan.code, 0, plan.stderr)
    const planned = JSON.parse(plan.stdout).repositories.flatMap((r: {destination: string; tags: Array<{tag: string; status: string}>}) => r.tags.filter((t) => t.status === 'copy').map((t) => `${r.destination}:${t.tag}`)).sort()
    assert.equal(planned.length, 30)
    const mark = b.requests().length
    // two shards by flag, the third as a Kubernetes Indexed Job pod gets it
    const runs = await Promise.all([
      runCli([...args, '--shard', '0/3']),
      runCli([...args, '--shard', '1/3']),
      runCli(args, {env: {JOB_COMPLETION_INDEX: '2', OCITOOL_SHARDS: '3'}}),
    ])
    const files: string[] = []
    const copied: string[] = []
    for (const [i, r] of runs.entries()) {
      assert.equal(r.code, 0, r.stderr)
      const report = JSON.parse(r.stdout)
      assert.equal(report.shard, `${i}/3`)
      assert.ok(report.totals.copied > 0, `shard ${i} had work`)
      for (const repo of report.repositories) for (const t of repo.tags) if (t.status === 'copied') copied.push(`${repo.destination}:${t.tag}`)
      files.push(path.join(tmp.path, `shard-${i}.json`))
      await fsp.writeFile(files[i], r.stdout)
    }
    assert.deepEqual(copied.sort(), planned, 'the union of what the shards copied is the plan, each once')
    const tagPuts = b.requests().slice(mark).filter((q) => q.method === 'PUT' && /\/manifests\/1\.0$/.test(q.path)).map((q) => q.path)
    assert.equal(new Set(tagPuts).size, tagPuts.length, 'no image written by two shards')
    assert.equal(tagPuts.length, 30)
    for (let i = 0; i < 30; i += 7) assert.equal(await digestAt(b, `copy/svc-${String(i).padStart(2, '0')}:1.0`), src[`fleet/svc-${String(i).padStart(2, '0')}:1.0`])

    const merged = await runCli(['sync', 'report', 'merge', ...files, '--json'])
    assert.equal(merged.code, 0, merged.stderr)
    const m = JSON.parse(merged.stdout)
    assert.equal(m.totals.copied, 30)
    assert.equal(m.totals.repositories, 30)
    assert.equal(m.totals.bytes, runs.reduce((n, r) => n + JSON.parse(r.stdout).totals.bytes, 0))
    const text = await runCli(['sync', 'report', 'merge', ...files])
    assert.match(text.stdout, /^30 copied, 0 current, 0 failed in 30 repositories/m)
    const overlap = await runCli(['sync', 'report', 'merge', files[0], files[0]])
    assert.equal(overlap.code, 2)
    assert.match(overlap.stderr, /^Error: reports overlap: /)
  })
})
