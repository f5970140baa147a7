// `ocitool registry serve` against software nobody here wrote: skopeo pushes fixture images
// into the embedded registry and pulls them back with the same digests, then the built CLI
// is run as users run it (URL on stdout, SIGTERM, restart on the same --disk).

import assert from 'node:assert/strict'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {after, before, describe, it} from 'node:test'
import {startServer, type RunningServer} from '../../src/lib/serve/index.js'
import {repoRoot} from '../support/cli.js'
import {sha256, skopeo, writeImageDir, writeOciLayout, type BuiltImage} from '../support/fixtures.js'
import {tmpDir, type TmpDir} from '../support/tmp.js'
import {serveCli} from '../support/serve-cli.js'

const work: TmpDir[] = []
async function scratch(prefix: string): Promise<string> {
  const d = await tmpDir(prefix)
  work.push(d)
  return d.path
}
after(async () => {
  for (const d of work) await d.remove()
})

async function ok(args: string[]): Promise<Buffer> {
  const r = await skopeo(args)
  assert.equal(r.code, 0, `skopeo ${args.join(' ')}: ${r.stderr}`)
  return r.stdoutBytes
}

const tlsOff = (side: 'src' | 'dest' | '') => [side === '' ? '--tls-verify=false' : `--${side}-tls-verify=false`]

describe('registry serve with skopeo', () => {
  let s: RunningServer
  const requests: string[] = []
  before(async () => {
    s = await startServer({address: '127.0.0.1:0', log: (line) => requests.push(line)})
  })
  after(() => s.close())

  for (const kind of ['docker', 'oci'] as const) {
    it(`skopeo pushes a ${kind} image and pulls it back with the same digests`, async () => {
      const src = await scratch('serve-src')
      const image: BuiltImage = await writeImageDir(src, {layers: 2, seed: `serve-${kind}`, mediaTypes: kind})
      const ref = `docker://${s.host}/skopeo/${kind}:v1`
      await ok(['copy', '--quiet', ...tlsOff('dest'), `dir:${src}`, ref])
      const raw = await ok(['inspect', '--raw', ...tlsOff(''), ref])
      assert.equal(sha256(raw), image.manifestDigest)
      const dest = await scratch('serve-dest')
      await ok(['copy', '--quiet', ...tlsOff('src'), ref, `dir:${dest}`])
      assert.ok(fs.readFileSync(path.join(dest, 'manifest.json')).equals(image.manifestBytes))
      for (const [digest, bytes] of image.blobs) assert.ok(fs.readFileSync(path.join(dest, digest.slice(7))).equals(bytes), digest)
      const tags = JSON.parse((await ok(['list-tags', ...tlsOff(''), `docker://${s.host}/skopeo/${kind}`])).toString())
      assert.deepEqual(tags.Tags, ['v1'])
    })
  }

  it('skopeo copy --all pushes a three-platform OCI index', async () => {
    const src = await scratch('serve-layout')
    const index = await writeOciLayout(src, {seed: 'serve-index', tag: 'multi'})
    const ref = `docker://${s.host}/skopeo/index:multi`
    await ok(['copy', '--quiet', '--all', ...tlsOff('dest'), `oci:${src}:multi`, ref])
    assert.equal(sha256(await ok(['inspect', '--raw', ...tlsOff(''), ref])), index.manifestDigest)
    for (const im of index.images) {
      const child = await ok(['inspect', '--raw', ...tlsOff(''), `docker://${s.host}/skopeo/index@${im.manifestDigest}`])
      assert.equal(sha256(child), im.manifestDigest)
    }
  })

  it('skopeo copies between repositories of the registry (mounting blobs) and deletes', async () => {
    const src = await scratch('serve-mount')
    const image = await writeImageDir(src, {layers: 1, seed: 'serve-mount', mediaTypes: 'oci'})
    await ok(['copy', '--quiet', ...tlsOff('dest'), `dir:${src}`, `docker://${s.host}/mount/a:v1`])
    requests.length = 0
    await ok(['copy', '--quiet', ...tlsOff('src'), ...tlsOff('dest'), `docker://${s.host}/mount/a:v1`, `docker://${s.host}/mount/b:v1`])
    // skopeo mounts layers it knows are in the registry (it uploads the config again itself)
    const layer = image.layerDigests[0]
    const mounted = requests.filter((l) => l.includes('"POST /v2/mount/b/blobs/uploads/?') && l.includes(encodeURIComponent(layer)) && / 201 /.test(l))
    assert.equal(mounted.length, 1, `layer mounted:\n${requests.join('\n')}`)
    assert.ok(!requests.some((l) => l.includes(`PUT /v2/mount/b/blobs/uploads/`) && l.includes(encodeURIComponent(layer))), 'layer not uploaded')
    assert.equal(sha256(await ok(['inspect', '--raw', ...tlsOff(''), `docker://${s.host}/mount/b:v1`])), image.manifestDigest)
    await ok(['delete', ...tlsOff(''), `docker://${s.host}/mount/b:v1`])
    const gone = await skopeo(['inspect', '--raw', ...tlsOff(''), `docker://${s.host}/mount/b:v1`])
    assert.notEqual(gone.code, 0)
    assert.equal(sha256(await ok(['inspect', '--raw', ...tlsOff(''), `docker://${s.host}/mount/a:v1`])), image.manifestDigest)
  })
})

describe('ocitool registry serve (built CLI)', () => {
  before(() => {
    assert.ok(fs.existsSync(path.join(repoRoot, 'dist', 'commands', 'registry', 'serve.cjs')), 'build first: npm run build')
  })

  it('prints its URL, serves skopeo, exits 0 on SIGTERM, and keeps the tag across a restart on --disk', async () => {
    const disk = await scratch('serve-cli')
    const first = await serveCli(['--disk', disk])
    assert.match(first.url, /^http:\/\/127\.0\.0\.1:\d+$/)
    const host = first.url.slice('http://'.length)
    const src = await scratch('serve-cli-src')
    const image = await writeImageDir(src, {layers: 2, seed: 'serve-cli', mediaTypes: 'oci'})
    await ok(['copy', '--quiet', ...tlsOff('dest'), `dir:${src}`, `docker://${host}/cli/app:kept`])
    assert.match(first.stderr(), new RegExp(`serving on ${first.url}`))
    assert.match(first.stderr(), /"PUT \/v2\/cli\/app\/manifests\/kept HTTP\/1\.1" 201/)
    first.child.kill('SIGTERM')
    assert.equal(await first.exit, 0)

    const second = await serveCli(['--disk', disk, '--quiet'])
    try {
      const host2 = second.url.slice('http://'.length)
      assert.equal(sha256(await ok(['inspect', '--raw', ...tlsOff(''), `docker://${host2}/cli/app:kept`])), image.manifestDigest)
      assert.doesNotMatch(second.stderr(), /HTTP\/1\.1/, '--quiet logs no requests')
    } finally {
      second.child.kill('SIGINT')
    }
    assert.equal(await second.exit, 0)
    assert.ok(fs.existsSync(path.join(disk, 'blobs', 'sha256', image.manifestDigest.slice(7))))
  })

  it('without --disk, removes its temporary storage on exit', async () => {
    // a private TMPDIR: other tests running at the same time make temporary registries too
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'serve-tmpdir-'))
    try {
      const s = await serveCli([], {...process.env, TMPDIR: tmp})
      const mine = fs.readdirSync(tmp).filter((n) => n.startsWith('ocitool-registry-'))
      assert.equal(mine.length, 1, 'a temporary storage directory while serving')
      s.child.kill('SIGTERM')
      assert.equal(await s.exit, 0)
      assert.deepEqual(fs.readdirSync(tmp), [])
    } finally {
      fs.rmSync(tmp, {recursive: true, force: true})
    }
  })
})
