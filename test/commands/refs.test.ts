// copy --referrers between the real distribution registry (fallback tags) and `registry serve`
// (the referrers API), both directions, recursively; and delete --referrers on both.
import assert from 'node:assert/strict'
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import {after, before, describe, it} from 'node:test'
import {startServer, type RunningServer} from '../../src/lib/serve/index.js'
import {runCli} from '../support/cli.js'
import {pushFixture} from '../support/fixtures.js'
import {type RunningRegistry, startRegistry} from '../support/registry.js'
import {tmpDir, type TmpDir} from '../support/tmp.js'

/** a RunningRegistry-shaped view of the embedded registry, for the fixture helpers */
function asRegistry(s: RunningServer): RunningRegistry {
  return {host: s.host, url: s.url, flavour: 'plain', tls: false, users: {}} as unknown as RunningRegistry
}

async function listRefs(host: string, image: string): Promise<{manifests: Array<{digest: string}>}> {
  const r = await runCli(['refs', `${host}/${image}`, '--format', 'json'])
  assert.equal(r.code, 0, r.stderr)
  return JSON.parse(r.stdout)
}

async function attach(image: string, file: string, type: string): Promise<string> {
  const r = await runCli(['attach', image, '-f', file, '--artifact-type', type])
  assert.equal(r.code, 0, r.stderr)
  return r.stdout.trim().split('@')[1]
}

describe('copy and delete with --referrers', () => {
  let dist: RunningRegistry
  let serve: RunningServer
  let work: TmpDir
  let file: string

  before(async () => {
    ;[dist, serve, work] = await Promise.all([startRegistry({flavour: 'plain'}), startServer({address: '127.0.0.1:0'}), tmpDir('refs')])
    file = path.join(work.path, 'note.txt')
    await fs.writeFile(file, 'a note')
  })
  after(async () => {
    await dist?.stop()
    await serve?.close()
    await work?.remove()
  })

  for (const [from, to] of [['dist', 'serve'], ['serve', 'dist']] as const) {
    it(`${from} → ${to}: the image, its referrers and theirs, listed at the destination`, async () => {
      const src = from === 'dist' ? dist.host : serve.host
      const dst = to === 'dist' ? dist.host : serve.host
      const fx = await pushFixture(from === 'dist' ? dist : asRegistry(serve), `copy/${from}:v1`, 'oci', `refs-${from}`)
      const a = await attach(`${src}/copy/${from}:v1`, file, 'application/vnd.example.a')
      const b = await attach(`${src}/copy/${from}:v1`, file, 'application/vnd.example.b')
      const c = await attach(`${src}/copy/${from}@${a}`, file, 'application/vnd.example.c')
      const r = await runCli(['copy', '--referrers', `${src}/copy/${from}:v1`, `${dst}/copied/${from}:v1`])
      assert.equal(r.code, 0, r.stderr)
      assert.equal(r.stdout, `${dst}/copied/${from}@${fx.manifestDigest}\n`)
      const top = (await listRefs(dst, `copied/${from}:v1`)).manifests.map((d) => d.digest).sort()
      assert.deepEqual(top, [a, b].sort())
      assert.deepEqual((await listRefs(dst, `copied/${from}@${a}`)).manifests.map((d) => d.digest), [c])
      const tags = await runCli(['ls', `${dst}/copied/${from}`])
      assert.equal(tags.stdout.includes('sha256-'), to === 'dist', tags.stdout)
    })
  }

  for (const name of ['dist', 'serve'] as const) {
    it(`${name}: delete --referrers deletes the referrers and fixes the fallback index`, async () => {
      const host = name === 'dist' ? dist.host : serve.host
      const fx = await pushFixture(name === 'dist' ? dist : asRegistry(serve), `del/${name}:v1`, 'oci', `refs-del-${name}`)
      const a = await attach(`${host}/del/${name}:v1`, file, 'application/vnd.example.a')
      const b = await attach(`${host}/del/${name}@${a}`, file, 'application/vnd.example.b')
      const keep = await attach(`${host}/del/${name}:v1`, file, 'application/vnd.example.keep')
      // deleting one referrer (with its own referrers) takes it out of its subject's index
      const one = await runCli(['delete', '--referrers', `${host}/del/${name}@${a}`])
      assert.equal(one.code, 0, one.stderr)
      assert.deepEqual(one.stdout.trim().split('\n'), [`${host}/del/${name}@${b}`, `${host}/del/${name}@${a}`])
      assert.deepEqual((await listRefs(host, `del/${name}:v1`)).manifests.map((d) => d.digest), [keep])
      const all = await runCli(['delete', '--referrers', `${host}/del/${name}@${fx.manifestDigest}`])
      assert.equal(all.code, 0, all.stderr)
      for (const d of [keep, fx.manifestDigest]) {
        const gone = await runCli(['manifest', `${host}/del/${name}@${d}`])
        assert.equal(gone.code, 3, gone.stderr)
      }
      const tags = await runCli(['ls', `${host}/del/${name}`])
      assert.ok(!tags.stdout.includes('sha256-'), tags.stdout)
    })
  }
})
