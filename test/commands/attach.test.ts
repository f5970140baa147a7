// attach and refs against the real distribution registry (no referrers API: the fallback tag)
// and `registry serve` (the API): single images and indexes, concurrent attaches, filters and
// the bad inputs, each one line with the exit code of its class.
import assert from 'node:assert/strict'
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import {after, before, describe, it} from 'node:test'
import {startServer, type RunningServer} from '../../src/lib/serve/index.js'
import {runCli} from '../support/cli.js'
import {type PushedFixture, pushFixture} from '../support/fixtures.js'
import {type RunningRegistry, startRegistry} from '../support/registry.js'
import {startProxy} from '../support/proxy.js'
import {tmpDir, type TmpDir} from '../support/tmp.js'

/** a RunningRegistry-shaped view of the embedded registry, for the fixture helpers */
function asRegistry(s: RunningServer): RunningRegistry {
  return {host: s.host, url: s.url, flavour: 'plain', tls: false, users: {}} as unknown as RunningRegistry
}

async function listRefs(host: string, image: string, extra: string[] = []): Promise<{manifests: Array<{digest: string; artifactType?: string; annotations?: Record<string, string>; size: number}>}> {
  const r = await runCli(['refs', `${host}/${image}`, '--format', 'json', ...extra])
  assert.equal(r.code, 0, r.stderr)
  return JSON.parse(r.stdout)
}

describe('attach and refs', () => {
  let dist: RunningRegistry
  let serve: RunningServer
  let work: TmpDir
  const fx: Record<string, {single: PushedFixture; index: PushedFixture}> = {}
  let sbom: string
  let sig: string

  before(async () => {
    ;[dist, serve, work] = await Promise.all([startRegistry({flavour: 'plain'}), startServer({address: '127.0.0.1:0'}), tmpDir('attach')])
    sbom = path.join(work.path, 'sbom.json')
    sig = path.join(work.path, 'sig.txt')
    await fs.writeFile(sbom, '{"spdxVersion":"SPDX-2.3"}')
    await fs.writeFile(sig, 'signature bytes')
    for (const [name, reg] of [['dist', dist], ['serve', asRegistry(serve)]] as const) {
      fx[name] = {single: await pushFixture(reg, 'app/single:v1', 'oci', `attach-${name}`), index: await pushFixture(reg, 'app/index:v1', 'index', `attach-${name}-i`)}
    }
  })
  after(async () => {
    await dist?.stop()
    await serve?.close()
    await work?.remove()
  })

  for (const name of ['dist', 'serve'] as const) {
    const host = () => (name === 'dist' ? dist.host : serve.host)
    it(`${name}: attaches to a single image and lists it with annotations`, async () => {
      const r = await runCli(['attach', `${host()}/app/single:v1`, '-f', `${sbom}:application/spdx+json`, '--artifact-type', 'application/spdx+json', '-a', 'org.example.kind=sbom'])
      assert.equal(r.code, 0, r.stderr)
      assert.match(r.stdout, new RegExp(`^${host()}/app/single@sha256:[a-f0-9]{64}\\n$`))
      const digest = r.stdout.trim().split('@')[1]
      const index = await listRefs(host(), 'app/single:v1')
      const found = index.manifests.find((d) => d.digest === digest)
      assert.ok(found, JSON.stringify(index))
      assert.equal(found.artifactType, 'application/spdx+json')
      assert.equal(found.annotations?.['org.example.kind'], 'sbom')
      const table = await runCli(['refs', `${host()}/app/single:v1`, '--format', 'table'])
      assert.equal(table.code, 0, table.stderr)
      assert.match(table.stdout, new RegExp(`${digest}\\s+application/spdx\\+json\\s+\\d+\\s+org.example.kind=sbom`))
      const tags = await runCli(['ls', `${host()}/app/single`])
      assert.equal(tags.stdout.includes(`sha256-${fx[name].single.manifestDigest.slice(7)}`), name === 'dist', tags.stdout)
    })

    it(`${name}: attaches to an index, and to one platform of it with --platform, positional form too`, async () => {
      const r = await runCli(['attach', sig, 'text/plain', 'application/vnd.example.sig', `${host()}/app/index:v1`])
      assert.equal(r.code, 0, r.stderr)
      const onIndex = r.stdout.trim().split('@')[1]
      assert.ok((await listRefs(host(), 'app/index:v1')).manifests.some((d) => d.digest === onIndex))
      const p = await runCli(['attach', `${host()}/app/index:v1`, '--file', sig, '--artifact-type', 'application/vnd.example.sig', '--platform', 'linux/arm64'])
      assert.equal(p.code, 0, p.stderr)
      const onChild = p.stdout.trim().split('@')[1]
      const idx = JSON.parse(fx[name].index.manifestBytes.toString()) as {manifests: Array<{digest: string; platform: {architecture: string}}>}
      const child = idx.manifests.find((m) => m.platform.architecture === 'arm64')!
      assert.ok((await listRefs(host(), `app/index@${child.digest}`)).manifests.some((d) => d.digest === onChild))
      assert.ok(!(await listRefs(host(), 'app/index:v1')).manifests.some((d) => d.digest === onChild))
    })

    it(`${name}: three concurrent attaches are all listed`, async () => {
      const files = await Promise.all([1, 2, 3].map(async (i) => {
        const f = path.join(work.path, `${name}-c${i}.txt`)
        await fs.writeFile(f, `concurrent ${i}`)
        return f
      }))
      const runs = await Promise.all(files.map((f) => runCli(['attach', `${host()}/app/single:v1`, '-f', f, '--artifact-type', 'application/vnd.example.concurrent'])))
      for (const r of runs) assert.equal(r.code, 0, r.stderr)
      const listed = (await listRefs(host(), 'app/single:v1', ['--artifact-type', 'application/vnd.example.concurrent'])).manifests.map((d) => d.digest).sort()
      assert.deepEqual(listed, runs.map((r) => r.stdout.trim().split('@')[1]).sort())
    })

    it(`${name}: --artifact-type filters, and says who applied the filter`, async () => {
      const r = await runCli(['refs', `${host()}/app/single:v1`, '--artifact-type', 'application/spdx+json', '--format', 'json'])
      assert.equal(r.code, 0, r.stderr)
      const list = JSON.parse(r.stdout).manifests as Array<{artifactType: string}>
      assert.ok(list.length >= 1)
      assert.ok(list.every((d) => d.artifactType === 'application/spdx+json'))
      assert.match(r.stderr, name === 'serve' ? /applied by the registry/ : /applied by ocitool/)
    })

    it(`${name}: tree shows referrers of referrers`, async () => {
      const first = await runCli(['attach', `${host()}/app/single:v1`, '-f', sig, '--artifact-type', 'application/vnd.example.tree'])
      const d1 = first.stdout.trim().split('@')[1]
      const second = await runCli(['attach', `${host()}/app/single@${d1}`, '-f', sbom, '--artifact-type', 'application/vnd.example.tree2'])
      assert.equal(second.code, 0, second.stderr)
      const d2 = second.stdout.trim().split('@')[1]
      const t = await runCli(['refs', `${host()}/app/single:v1`, '--format', 'tree', '--depth', '2'])
      assert.equal(t.code, 0, t.stderr)
      assert.match(t.stdout, new RegExp(`── ${d1}[^\\n]*\\n[│ ]+└── ${d2}`))
    })
  }

  it('bad input: a missing subject (3), a missing file (3), a bad media type or artifact type (2)', async () => {
    const missing = await runCli(['attach', `${dist.host}/app/nothing:v1`, '-f', sig, '--artifact-type', 'text/plain'])
    assert.equal(missing.code, 3, missing.stderr)
    const noFile = await runCli(['attach', `${dist.host}/app/single:v1`, '-f', path.join(work.path, 'nope.txt'), '--artifact-type', 'text/plain'])
    assert.equal(noFile.code, 3, noFile.stderr)
    const badType = await runCli(['attach', `${dist.host}/app/single:v1`, '-f', `${sig}:notamediatype`, '--artifact-type', 'text/plain'])
    assert.equal(badType.code, 2, badType.stderr)
    // a plain word is kept with a warning (seed 003); whitespace is not a type at all
    const badArtifact = await runCli(['attach', `${dist.host}/app/single:v1`, '-f', sig, '--artifact-type', 'not a type'])
    assert.equal(badArtifact.code, 2, badArtifact.stderr)
    for (const r of [missing, noFile, badType, badArtifact]) assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
  })

  it('bad input: a fallback tag holding an image is left untouched, with a clear error', async () => {
    const other = await pushFixture(dist, 'app/occupied:v1', 'oci', 'attach-occupied')
    const tag = `sha256-${other.manifestDigest.slice(7)}`
    const tagged = await runCli(['tag', `${dist.host}/app/occupied:v1`, tag])
    assert.equal(tagged.code, 0, tagged.stderr)
    const r = await runCli(['attach', `${dist.host}/app/occupied:v1`, '-f', sig, '--artifact-type', 'text/plain'])
    assert.equal(r.code, 5, r.stderr)
    assert.match(r.stderr, /fallback tag holds .*not an index; left untouched/)
    assert.equal(r.stderr.trim().split('\n').length, 1)
    const d = await runCli(['digest', `${dist.host}/app/occupied:${tag}`])
    assert.equal(d.stdout.trim(), other.manifestDigest)
  })

  it('bad input: a referrers answer that is not JSON (exit 5)', async () => {
    const proxy = await startProxy({upstream: serve.url})
    try {
      proxy.addFault({match: {path: /\/referrers\//}, action: {kind: 'replace', body: 'this is not json'}})
      const r = await runCli(['refs', `${proxy.host}/app/single:v1`])
      assert.equal(r.code, 5, r.stderr)
      assert.match(r.stderr, /not JSON/)
      assert.equal(r.stderr.trim().split('\n').length, 1)
    } finally {
      await proxy.stop()
    }
  })
})
