// sync between real distribution registries: every tag of a repository, a prefix of the
// catalog, tag filters (regex, semver, newest N by semver and by created), an OCI layout
// destination, one failing image among good ones, and a second run that moves nothing.
import assert from 'node:assert/strict'
import * as fsp from 'node:fs/promises'
import * as path from 'node:path'
import {after, before, describe, it} from 'node:test'
import {runCli} from '../support/cli.js'
import {type RunningRegistry, startRegistry} from '../support/registry.js'
import {blobRequests, digestAt, pushImages, uploadsAndMounts} from '../support/sync-images.js'
import {tmpDir} from '../support/tmp.js'

const DIGEST_TAG = `sha256-${'ab'.repeat(32)}`

describe('sync', () => {
  let a: RunningRegistry
  let b: RunningRegistry
  let src: Record<string, string>
  before(async () => {
    ;[a, b] = await Promise.all([startRegistry({flavour: 'plain'}), startRegistry({flavour: 'plain'})])
    src = await pushImages(a, {
      'team/app:1.0.0': {layers: ['base', 'app-1.0.0'], created: '2020-01-01T00:00:00Z'},
      'team/app:1.1.0': {layers: ['base', 'app-1.1.0'], created: '2021-01-01T00:00:00Z'},
      'team/app:2.0.0-rc.1': {layers: ['base', 'app-2rc'], created: '2023-01-01T00:00:00Z'},
      'team/app:2.0.0': {layers: ['base', 'app-2.0.0'], created: '2022-01-01T00:00:00Z'},
      'team/app:latest': {layers: ['base', 'app-2.0.0'], created: '2022-01-01T00:00:00Z'},
      [`team/app:${DIGEST_TAG}`]: {layers: ['sig']},
      'team/web:v1': {layers: ['base', 'web-1']},
      'team/web:v2': {layers: ['base', 'web-2']},
      'other/db:5': {layers: ['db-5']},
    })
  })
  after(async () => {
    await a?.stop()
    await b?.stop()
  })

  async function json(args: string[], code = 0) {
    const r = await runCli([...args, '--json'])
    assert.equal(r.code, code, r.stderr + r.stdout)
    return JSON.parse(r.stdout)
  }

  function tagsOf(report: {repositories: Array<{tags: Array<{tag: string; status: string}>}>}) {
    return report.repositories.flatMap((r) => r.tags.map((t) => `${t.tag}=${t.status}`)).sort()
  }

  it('copies every tag of a repository with exact digests, then a second run moves nothing', async () => {
    const r = await json(['sync', `${a.host}/team/app`, `${b.host}/m1/app`])
    assert.equal(r.ok, true)
    assert.equal(r.totals.copied, 6)
    for (const tag of ['1.0.0', '1.1.0', '2.0.0-rc.1', '2.0.0', 'latest', DIGEST_TAG]) assert.equal(await digestAt(b, `m1/app:${tag}`), src[`team/app:${tag}`], tag)
    // the shared base layer went up once
    const moved = uploadsAndMounts(b)
    assert.equal(new Set(moved.uploads).size, moved.uploads.length, 'no blob uploaded twice')
    const mark = b.requests().length
    const again = await json(['sync', `${a.host}/team/app`, `${b.host}/m1/app`])
    assert.equal(again.totals.current, 6)
    assert.equal(again.totals.copied, 0)
    assert.deepEqual(blobRequests(b, mark), [], 'no blob request on the destination')
    assert.ok(b.requests().slice(mark).every((q) => q.method === 'HEAD' || q.path === '/v2/'), 'only manifest HEADs')
  })

  it('filters tags by regex, semver, newest N and digest tags', async () => {
    const cases: Array<[string[], string[]]> = [
      [['--include', '1\\..*'], ['1.0.0', '1.1.0']],
      [['--exclude', '.*-rc.*', '--no-digest-tags'], ['1.0.0', '1.1.0', '2.0.0', 'latest']],
      [['--semver', '>=1.1.0 <3'], ['1.1.0', '2.0.0']],
      [['--semver', '>=1.0.0', '--newest', '2'], ['1.1.0', '2.0.0']],
      [['--newest', '1', '--newest-by', 'created', '--no-digest-tags'], ['2.0.0-rc.1']],
    ]
    for (const [i, [flags, want]] of cases.entries()) {
      const r = await json(['sync', `${a.host}/team/app`, `${b.host}/f${i}/app`, '--dry-run', ...flags])
      assert.deepEqual(r.repositories[0].tags.map((t: {tag: string}) => t.tag).sort(), want.sort(), flags.join(' '))
    }
    const bad = await runCli(['sync', `${a.host}/team/app`, `${b.host}/x/app`, '--include', '('])
    assert.equal(bad.code, 2)
    assert.match(bad.stderr, /^Error: invalid include pattern "\("/)
  })

  it('mirrors every repository under a prefix; shared layers go up once and are mounted elsewhere', async () => {
    const mark = b.requests().length
    const r = await json(['sync', `${a.host}/team/`, `${b.host}/mirror/`, '--no-digest-tags'])
    assert.deepEqual(r.repositories.map((x: {source: string; destination: string}) => `${x.source} ${x.destination}`), [
      `${a.host}/team/app ${b.host}/mirror/app`,
      `${a.host}/team/web ${b.host}/mirror/web`,
    ])
    assert.equal(r.totals.copied, 7)
    assert.equal(await digestAt(b, 'mirror/web:v2'), src['team/web:v2'])
    const moved = uploadsAndMounts(b, mark)
    assert.equal(new Set(moved.uploads).size, moved.uploads.length, 'no blob uploaded twice')
    assert.equal(moved.uploads.length, r.totals.blobs.copied)
    assert.equal(moved.mounts.length, r.totals.blobs.mounted)
    assert.ok(moved.mounts.length >= 1, 'the base layer was mounted into the second repository')
  })

  it('writes an OCI layout destination', async () => {
    const dir = await tmpDir('sync-oci')
    try {
      const r = await json(['sync', `${a.host}/team/web`, `oci:${dir.path}/web`])
      assert.equal(r.totals.copied, 2)
      const index = JSON.parse(await fsp.readFile(path.join(dir.path, 'web', 'index.json'), 'utf8'))
      const names = Object.fromEntries(index.manifests.map((m: {digest: string; annotations: Record<string, string>}) => [m.annotations['org.opencontainers.image.ref.name'], m.digest]))
      assert.deepEqual(names, {v1: src['team/web:v1'], v2: src['team/web:v2']})
      const again = await json(['sync', `${a.host}/team/web`, `oci:${dir.path}/web`])
      assert.equal(again.totals.current, 2)
    } finally {
      await dir.remove()
    }
  })

  it('one failing image does not stop the others; the exit code says something failed', async () => {
    await pushImages(a, {'broken/app:good': {layers: ['good']}, 'broken/app:bad': {layers: ['bad-layer']}})
    // the bad image loses its layer at the source
    const {buildSeedImage} = await import('../support/sync-images.js')
    const layer = [...buildSeedImage({layers: ['bad-layer']}).blobs.keys()][0]
    const del = await fetch(`${a.url}/v2/broken/app/blobs/${layer}`, {method: 'DELETE'})
    assert.equal(del.status, 202)
    const r = await runCli(['sync', `${a.host}/broken/app`, `${b.host}/broken/app`, '--json'])
    assert.equal(r.code, 3, r.stderr)
    const report = JSON.parse(r.stdout)
    assert.deepEqual(tagsOf(report), ['bad=failed', 'good=copied'])
    assert.match(report.repositories[0].tags.find((t: {tag: string}) => t.tag === 'bad').reason, /blob|not found|unknown/i)
    const text = await runCli(['sync', `${a.host}/broken/app`, `${b.host}/broken/app`])
    assert.notEqual(text.code, 0)
    assert.match(text.stdout, /^failed {3}.*broken\/app:bad: /m)
    assert.match(text.stdout, /^current {2}.*broken\/app:good sha256:/m)
  })

  it('a source that cannot be read fails the run: one line on stderr, the report says why, the exit code is the failure\'s', async () => {
    // nothing listens on port 1: the repository, and a catalog prefix, cannot be read (exit 5, network)
    for (const [source, dest] of [['127.0.0.1:1/team/app', `${b.host}/never/app`], ['127.0.0.1:1/team/', `${b.host}/never/`]]) {
      const r = await runCli(['sync', source, dest])
      assert.equal(r.code, 5, r.stderr + r.stdout)
      const lines = r.stderr.split('\n').filter((l) => l !== '')
      assert.equal(lines.length, 1, r.stderr)
      assert.match(lines[0], /^Error: sync: 1 failed; the first: 127\.0\.0\.1:1\/.*connection refused/)
      assert.match(r.stdout, /^failed +127\.0\.0\.1:1\//m)
      assert.match(r.stdout, /0 copied, 0 current, 1 failed in 1 repositories/)
    }
    const report = await json(['sync', '127.0.0.1:1/team/app', `${b.host}/never/app`], 5)
    assert.equal(report.ok, false)
    assert.equal(report.totals.failed, 1)
    assert.equal(report.repositories[0].exitCode, 5)
    assert.match(report.repositories[0].error, /connection refused/)
    // a repository the registry does not know: exit 3 (not found)
    const missing = await runCli(['sync', `${a.host}/team/nothing`, `${b.host}/never/nothing`])
    assert.equal(missing.code, 3, missing.stderr + missing.stdout)
    assert.match(missing.stderr, /^Error: sync: 1 failed; the first: .*team\/nothing.*not found/)
    assert.equal(await digestAt(b, 'never/nothing:1'), undefined)
    // a registry that wants credentials we do not have (401): exit 4, for a repository and for a catalog prefix
    const locked = await startRegistry({flavour: 'basic'})
    try {
      for (const source of [`${locked.host}/team/app`, `${locked.host}/team/`]) {
        const r = await runCli(['sync', source, `${b.host}/never/locked/`.replace(/\/$/, source.endsWith('/') ? '/' : ''), '--json'])
        assert.equal(r.code, 4, r.stderr + r.stdout)
        const report = JSON.parse(r.stdout)
        assert.equal(report.ok, false)
        assert.equal(report.totals.failed, 1)
        assert.equal(report.totals.copied, 0)
        assert.equal(report.repositories[0].exitCode, 4)
        assert.match(report.repositories[0].error, /401|unauthori[sz]ed|authenticat|credentials/i)
      }
    } finally {
      await locked.stop()
    }
  })

  it('--dry-run numbers equal what the real run then moves, counted on the destination log', async () => {
    await pushImages(a, {
      'plan/one:1': {layers: ['p-base', 'p-one-1'], layerBytes: 5000},
      'plan/one:2': {layers: ['p-base', 'p-one-2']},
      'plan/two:1': {layers: ['p-base', 'p-two-1']},
      'plan/three:1': {layers: ['p-three-1', 'p-one-1'], layerBytes: 5000},
    })
    // the destination has one image already, and one layer of another
    await pushImages(b, {'pm/one:1': {layers: ['p-base', 'p-one-1'], layerBytes: 5000}, 'pm/three:old': {layers: ['p-three-1'], layerBytes: 5000}})
    const mark = b.requests().length
    const plan = await json(['sync', `${a.host}/plan/`, `${b.host}/pm/`, '--dry-run'])
    assert.equal(plan.dryRun, true)
    assert.ok(b.requests().slice(mark).every((q) => q.method === 'HEAD' || q.method === 'GET'), 'a dry run writes nothing')
    assert.deepEqual(tagsOf(plan), ['1=copy', '1=copy', '1=current', '2=copy'])
    assert.deepEqual({copy: plan.totals.copy, current: plan.totals.current}, {copy: 3, current: 1})
    const text = await runCli(['sync', `${a.host}/plan/`, `${b.host}/pm/`, '--dry-run'])
    assert.match(text.stdout, /^plan: 3 to copy, 1 current, 0 failed in 3 repositories; blobs: \d+ to upload/m)

    const before = b.requests().length
    const real = await json(['sync', `${a.host}/plan/`, `${b.host}/pm/`])
    assert.equal(real.totals.copied, 3)
    const moved = uploadsAndMounts(b, before)
    assert.equal(moved.uploads.length, plan.totals.blobs.copied, 'uploads')
    assert.equal(moved.mounts.length, plan.totals.blobs.mounted, 'mounts')
    assert.ok(plan.totals.blobs.mounted >= 1 && plan.totals.blobs.copied >= 1)
    // bytes: the sizes of the blobs the log shows uploaded
    let bytes = 0
    for (const d of moved.uploads) {
      const res = await fetch(`${b.url}/v2/pm/one/blobs/${d}`, {method: 'HEAD'})
      const other = res.status === 200 ? res : await fetch(`${b.url}/v2/pm/two/blobs/${d}`, {method: 'HEAD'})
      const last = other.status === 200 ? other : await fetch(`${b.url}/v2/pm/three/blobs/${d}`, {method: 'HEAD'})
      bytes += Number(last.headers.get('content-length'))
    }
    assert.equal(bytes, plan.totals.bytes)
    assert.equal(real.totals.bytes, plan.totals.bytes)
  })

  it('--config: many sources with their own filters, per-registry settings; a typo is an error', async () => {
    const dir = await tmpDir('sync-config')
    try {
      const file = path.join(dir.path, 'sync.yaml')
      await fsp.writeFile(file, [
        'registries:',
        `  "${b.host}": {concurrency: 2, requests-per-second: 200}`,
        `  "${a.host}": {insecure: true}`,
        'defaults: {digest-tags: false}',
        'sources:',
        `  - {src: "${a.host}/team/app", dst: "${b.host}/cfg/app", semver: ">=2", include: ['.*']}`,
        `  - src: "${a.host}/other/"`,
        `    dst: "${b.host}/cfg/other/"`,
        '',
      ].join('\n'))
      const r = await json(['sync', '--config', file])
      assert.deepEqual(r.repositories.map((x: {destination: string}) => x.destination), [`${b.host}/cfg/app`, `${b.host}/cfg/other/db`])
      assert.deepEqual(tagsOf(r), ['2.0.0=copied', '5=copied'])
      assert.equal(await digestAt(b, 'cfg/other/db:5'), src['other/db:5'])
      await fsp.writeFile(file, `sources:\n  - {src: "${a.host}/team/app", dst: "${b.host}/x/app", inclde: ["v1"]}\n`)
      const bad = await runCli(['sync', '--config', file])
      assert.equal(bad.code, 2)
      assert.match(bad.stderr, /^Error: config .*sources\[0\]: unknown key "inclde"/)
      const both = await runCli(['sync', '--config', file, '--include', 'x'])
      assert.equal(both.code, 2)
    } finally {
      await dir.remove()
    }
  })

  it('README: sync is in the command table, and its example config runs as written (hosts swapped for the test registries)', async () => {
    const readme = await fsp.readFile(new URL('../../README.md', import.meta.url), 'utf8')
    assert.match(readme, /^\| `sync SRC DST` \| mirror every tag of a repository/m)
    const example = /`sync --config mirror\.yaml`[^\n]*\n+```yaml\n([\s\S]*?)```/.exec(readme)
    assert.ok(example, 'the README has an example sync config')
    await pushImages(a, {'tools/cli:1': {layers: ['cli-1']}})
    const dir = (await tmpDir('sync-readme')).path
    const file = path.join(dir, 'mirror.yaml')
    await fsp.writeFile(file, example[1].replaceAll('registry.example.com', a.host).replaceAll('mirror.internal:5000', b.host))
    const plan = await json(['sync', '--config', file, '--dry-run'])
    assert.equal(plan.dryRun, true)
    const planned = plan.repositories.flatMap((r: {source: string; tags: Array<{tag: string; status: string}>}) => r.tags.map((t) => `${r.source.slice(a.host.length + 1)}:${t.tag}=${t.status}`)).sort()
    // team/: semver >=1.0 (no pre-release, no latest; v1 and v2 are versions), the newest 5, no digest tags; tools/cli: its one tag
    assert.deepEqual(planned, ['team/app:1.0.0=copy', 'team/app:1.1.0=copy', 'team/app:2.0.0=copy', 'team/web:v1=copy', 'team/web:v2=copy', 'tools/cli:1=copy'])
  })

  it('--progress json: the plan, each image started and done, then done', async () => {
    const r = await runCli(['sync', `${a.host}/team/web`, `${b.host}/prog/web`, '--progress', 'json'])
    assert.equal(r.code, 0, r.stderr)
    const events = r.stderr.trim().split('\n').map((l) => JSON.parse(l))
    assert.deepEqual(events[0].event, 'sync-plan')
    assert.deepEqual({images: events[0].images, copy: events[0].copy}, {images: 2, copy: 2})
    assert.deepEqual(events.filter((e) => e.event === 'image-done').map((e) => `${e.tag}=${e.status}`).sort(), ['v1=copied', 'v2=copied'])
    const done = events.at(-1)
    assert.deepEqual({event: done.event, ok: done.ok, copied: done.copied}, {event: 'done', ok: true, copied: 2})
    assert.match(r.stdout, /^2 copied, 0 current, 0 failed in 1 repositories/m)
  })
})
