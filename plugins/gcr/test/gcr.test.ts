// The gcr plugin against a fake GCR (test/support/gcr-server.ts) in front of a real distribution
// registry, linked into a throw-away oclif data dir and run through bin/run.js.
import assert from 'node:assert/strict'
import * as path from 'node:path'
import {after, before, describe, it} from 'node:test'
import {repoRoot, runCli} from '../../../test/support/cli.js'
import {pushFixture, type PushedFixture} from '../../../test/support/fixtures.js'
import {startRegistry, type RunningRegistry} from '../../../test/support/registry.js'
import {linkPlugins, pluginEnv} from '../../../test/support/plugins.js'
import {tmpDir, type TmpDir} from '../../../test/support/tmp.js'
import {startFakeGcr, type FakeGcr} from './support/gcr-server.js'

describe('plugins/gcr', () => {
  let registry: RunningRegistry
  let gcr: FakeGcr
  let tmp: TmpDir
  let env: Record<string, string>
  let app: PushedFixture
  let multi: PushedFixture
  let gone: PushedFixture
  let app0: PushedFixture

  before(async () => {
    tmp = await tmpDir('gcr-plugin')
    registry = await startRegistry({flavour: 'plain'})
    app = await pushFixture(registry, 'proj/app:1.0', 'oci', 'app-1')
    app0 = await pushFixture(registry, 'proj/app:old', 'oci', 'app-0')
    multi = await pushFixture(registry, 'proj/multi:latest', 'index', 'multi')
    await pushFixture(registry, 'proj/app/sub:v1', 'docker', 'sub')
    // untagged manifests: app-0 loses its tag `old`; the index `gone:x` (and so its children) loses `x`
    await pushFixture(registry, 'proj/app:old', 'oci', 'app-2')
    gone = await pushFixture(registry, 'proj/gone:x', 'index', 'gone')
    await pushFixture(registry, 'proj/gone:x', 'oci', 'gone-image')
    gcr = await startFakeGcr(registry)
    env = pluginEnv(tmp.path)
    await linkPlugins(env, 'gcr')
  })
  after(async () => {
    await gcr?.stop()
    await registry?.stop()
    await tmp?.remove()
  })

  it('ls lists every manifest with tags, sizes and times; -r walks child repositories', async () => {
    const r = await runCli(['gcr', 'ls', `${gcr.host}/proj/app`, '--json'], {env})
    assert.equal(r.code, 0, r.stderr)
    const doc = JSON.parse(r.stdout) as {repositories: {repository: string; manifests: Record<string, {tag: string[]; imageSizeBytes: number; timeUploadedMs: number}>; children: string[]}[]}
    assert.equal(doc.repositories.length, 1)
    const [repo] = doc.repositories
    assert.equal(repo.repository, `${gcr.host}/proj/app`)
    assert.deepEqual(repo.children, [`${gcr.host}/proj/app/sub`])
    assert.deepEqual(repo.manifests[app.manifestDigest].tag, ['1.0'])
    assert.ok(repo.manifests[app.manifestDigest].imageSizeBytes > 0)
    assert.ok(repo.manifests[app.manifestDigest].timeUploadedMs > 0)
    assert.equal(Object.keys(repo.manifests).length, 3)
    assert.deepEqual(repo.manifests[app0.manifestDigest].tag, [])

    const rec = await runCli(['gcr', 'ls', `${gcr.host}/proj`, '-r', '--json'], {env})
    assert.equal(rec.code, 0, rec.stderr)
    assert.deepEqual(JSON.parse(rec.stdout).repositories.map((x: {repository: string}) => x.repository), [`${gcr.host}/proj`, `${gcr.host}/proj/app`, `${gcr.host}/proj/app/sub`, `${gcr.host}/proj/gone`, `${gcr.host}/proj/multi`])

    const table = await runCli(['gcr', 'ls', `${gcr.host}/proj`, '-r'], {env})
    assert.equal(table.code, 0, table.stderr)
    const lines = table.stdout.trim().split('\n')
    assert.match(lines[0], /^REPOSITORY\s+DIGEST\s+TAGS\s+CREATED\s+UPLOADED\s+SIZE\s+MEDIA TYPE$/)
    // 3 in app, 1 in sub, two images and an index with 3 children in gone, an index with 3 children in multi
    assert.equal(lines.length, 1 + 3 + 1 + 5 + 4)
    assert.ok(lines.some((l) => l.includes(`${gcr.host}/proj/multi`) && l.includes('latest') && l.includes('image.index')))
  })

  it('gc lists untagged manifests, never the children of a tagged index; an untagged index before its children', async () => {
    const r = await runCli(['gcr', 'gc', `${gcr.host}/proj`, '-r'], {env})
    assert.equal(r.code, 0, r.stderr)
    const lines = r.stdout.trim().split('\n')
    const goneIndex = `${gcr.host}/proj/gone@${gone.manifestDigest}`
    const goneChildren = gone.images.map((i) => `${gcr.host}/proj/gone@${i.manifestDigest}`)
    assert.deepEqual(new Set(lines), new Set([`${gcr.host}/proj/app@${app0.manifestDigest}`, goneIndex, ...goneChildren]))
    for (const c of goneChildren) assert.ok(lines.indexOf(goneIndex) < lines.indexOf(c), 'index before its children')
    for (const i of multi.images) assert.ok(!r.stdout.includes(i.manifestDigest), 'a child of the tagged index is not garbage')
    // child repositories before their parents: proj/gone and proj/app/sub before proj/app
    assert.ok(lines.indexOf(goneIndex) < lines.indexOf(`${gcr.host}/proj/app@${app0.manifestDigest}`))

    const keep = await runCli(['gcr', 'gc', `${gcr.host}/proj/app`, '--keep', '1'], {env})
    assert.equal(keep.stdout, '')
    const young = await runCli(['gcr', 'gc', `${gcr.host}/proj/app`, '--older-than', '1d'], {env})
    assert.equal(young.stdout, '')
    const bad = await runCli(['gcr', 'gc', `${gcr.host}/proj/app`, '--older-than', 'soon'], {env})
    assert.equal(bad.code, 2)
    assert.match(bad.stderr, /invalid duration "soon"/)
    const dry = await runCli(['gcr', 'gc', `${gcr.host}/proj/app`, '--delete', '--dry-run'], {env})
    assert.equal(dry.stdout.trim(), `${gcr.host}/proj/app@${app0.manifestDigest}`)
    assert.equal(gcr.deletes.length, 0)
  })

  it('gc --delete without permission stops at the first refusal with a clear error, deleting nothing else', async () => {
    gcr.denyDelete = true
    try {
      const r = await runCli(['gcr', 'gc', `${gcr.host}/proj`, '-r', '--delete'], {env})
      assert.notEqual(r.code, 0)
      assert.match(r.stderr, new RegExp(`Error: deleting ${gcr.host}/proj/gone@${gone.manifestDigest}: .*stopped there, nothing else deleted`))
      assert.equal(gcr.deletes.length, 1)
    } finally {
      gcr.denyDelete = false
    }
    const ls = await runCli(['gcr', 'gc', `${gcr.host}/proj`, '-r'], {env})
    assert.equal(ls.stdout.trim().split('\n').length, 5, 'all garbage still there')
  })

  it('gc --delete deletes the garbage and leaves every tagged image whole', async () => {
    gcr.deletes.length = 0
    const r = await runCli(['gcr', 'gc', `${gcr.host}/proj`, '-r', '--delete'], {env})
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout.trim().split('\n').length, 5)
    assert.equal(gcr.deletes.length, 5)
    const again = await runCli(['gcr', 'gc', `${gcr.host}/proj`, '-r'], {env})
    assert.equal(again.stdout, '')
    const d = await runCli(['copy', `${gcr.host}/proj/multi:latest`, `oci:${path.join(tmp.path, 'multi-layout')}`], {env})
    assert.equal(d.code, 0, d.stderr)
  })

  it('cp -r copies every tagged image of the tree, digests kept, to the same relative paths', async () => {
    const dst = await startRegistry({flavour: 'plain'})
    try {
      const r = await runCli(['gcr', 'cp', `${gcr.host}/proj`, `${dst.host}/mirror`, '-r', '-j', '2', '--json'], {env})
      assert.equal(r.code, 0, r.stderr)
      const {copied} = JSON.parse(r.stdout) as {copied: {dst: string; tags: string[]}[]}
      assert.deepEqual(copied.map((c) => [c.dst, [...c.tags].sort()]), [
        [`${dst.host}/mirror/app`, ['1.0', 'old']],
        [`${dst.host}/mirror/app/sub`, ['v1']],
        [`${dst.host}/mirror/gone`, ['x']],
        [`${dst.host}/mirror/multi`, ['latest']],
      ])
      for (const [ref, digest] of [[`${dst.host}/mirror/multi:latest`, multi.manifestDigest], [`${dst.host}/mirror/app:1.0`, app.manifestDigest]]) {
        const d = await runCli(['digest', ref], {env})
        assert.equal(d.stdout.trim(), digest)
      }
    } finally {
      await dst.stop()
    }
  })
})
