// sync into a directory of files, one per repository and tag: docker-archive:DIR/ and
// oci-archive:DIR/ (DIR/<repository>/<tag>.tar), and dir:DIR as skopeo sync --dest dir writes it
// (DIR/<repository>:<tag>/). skopeo and umoci read what was written; a re-run rewrites nothing;
// a tag that moved is replaced by rename, leaving no temporary file.
import assert from 'node:assert/strict'
import * as fsp from 'node:fs/promises'
import * as path from 'node:path'
import {after, before, describe, it} from 'node:test'
import {runCli} from '../support/cli.js'
import {run} from '../support/exec.js'
import {sha256, skopeo} from '../support/fixtures.js'
import {type RunningRegistry, startRegistry} from '../support/registry.js'
import {blobRequests, buildSeedImage, pushImages} from '../support/sync-images.js'
import {type TmpDir, tmpDir} from '../support/tmp.js'

const IMAGES = {
  'team/app:1.0': {layers: ['base', 'app-1']},
  'team/app:2.0': {layers: ['base', 'app-2']},
  'team/sub/web:v1': {layers: ['base', 'web-1']},
}

describe('sync into a directory of archives', () => {
  let a: RunningRegistry
  let src: Record<string, string>
  let dir: TmpDir
  before(async () => {
    ;[a, dir] = await Promise.all([startRegistry({flavour: 'plain'}), tmpDir('sync-archives')])
    src = await pushImages(a, IMAGES)
  })
  after(async () => {
    await a?.stop()
    await dir?.remove()
  })

  async function json(args: string[], code = 0) {
    const r = await runCli([...args, '--json', '--progress', 'none'])
    assert.equal(r.code, code, r.stderr + r.stdout)
    return JSON.parse(r.stdout)
  }

  const files = async (root: string) => (await fsp.readdir(root, {recursive: true})).map(String).sort()
  const stamp = async (f: string) => {
    const s = await fsp.stat(f)
    return `${s.ino}/${s.mtimeMs}`
  }

  it('docker-archive:DIR/ — one docker save tarball per tag that skopeo reads; a re-run rewrites nothing', async () => {
    const root = path.join(dir.path, 'da')
    const plan = await json(['sync', `${a.host}/team/`, `docker-archive:${root}/`, '--dry-run'])
    assert.equal(plan.totals.copy, 3)
    await assert.rejects(fsp.access(root), 'a dry run writes nothing')
    const r = await json(['sync', `${a.host}/team/`, `docker-archive:${root}/`])
    assert.equal(r.totals.copied, 3)
    assert.deepEqual(await files(root), ['app', 'app/1.0.tar', 'app/2.0.tar', 'sub', 'sub/web', 'sub/web/v1.tar'])
    assert.deepEqual(r.repositories.flatMap((x: {tags: Array<{file: string}>}) => x.tags.map((t) => t.file)).sort(), ['app/1.0.tar', 'app/2.0.tar', 'sub/web/v1.tar'].map((f) => path.join(root, f)))
    for (const [repoTag, file] of [['team/app:1.0', 'app/1.0.tar'], ['team/sub/web:v1', 'sub/web/v1.tar']]) {
      const want = buildSeedImage(IMAGES[repoTag as keyof typeof IMAGES])
      const wantManifest = JSON.parse(want.manifest.toString())
      const raw = await skopeo(['inspect', '--raw', `docker-archive:${path.join(root, file)}`])
      assert.equal(raw.code, 0, raw.stderr)
      const m = JSON.parse(raw.stdout)
      assert.equal(m.config.digest, wantManifest.config.digest, repoTag)
      assert.deepEqual(m.layers.map((l: {digest: string}) => l.digest), wantManifest.layers.map((l: {digest: string}) => l.digest))
      // the name docker load gives it is the source's
      const tar = await run('tar', ['-xOf', path.join(root, file), 'manifest.json'])
      assert.deepEqual(JSON.parse(tar.stdout)[0].RepoTags, [`${a.host}/${repoTag}`])
    }
    const before = await Promise.all(r.repositories.flatMap((x: {tags: Array<{file: string}>}) => x.tags.map((t) => stamp(t.file))))
    const mark = a.requests().length
    const again = await json(['sync', `${a.host}/team/`, `docker-archive:${root}/`])
    assert.equal(again.totals.current, 3)
    assert.equal(again.totals.copied, 0)
    assert.deepEqual(await Promise.all(again.repositories.flatMap((x: {tags: Array<{file: string}>}) => x.tags.map((t) => stamp(t.file)))), before, 'not rewritten')
    assert.deepEqual(blobRequests(a, mark), [], 'no blob read at the source')
  })

  it('oci-archive:DIR/ — exact manifests that skopeo and umoci read; a moved tag is replaced atomically', async () => {
    const root = path.join(dir.path, 'oa')
    const r = await json(['sync', `${a.host}/team/app`, `oci-archive:${root}/`])
    assert.equal(r.totals.copied, 2)
    assert.deepEqual(await files(root), ['app', 'app/1.0.tar', 'app/2.0.tar'])
    for (const tag of ['1.0', '2.0']) {
      const file = path.join(root, 'app', `${tag}.tar`)
      const raw = await skopeo(['inspect', '--raw', `oci-archive:${file}:${tag}`])
      assert.equal(raw.code, 0, raw.stderr)
      assert.equal(sha256(raw.stdoutBytes), src[`team/app:${tag}`])
      const unpacked = path.join(dir.path, `oa-${tag}`)
      await fsp.mkdir(unpacked)
      assert.equal((await run('tar', ['-xf', file, '-C', unpacked])).code, 0)
      const ls = await run('umoci', ['ls', '--layout', unpacked])
      assert.equal(ls.code, 0, ls.stderr)
      assert.deepEqual(ls.stdout.trim().split('\n'), [tag])
      const stat = await run('umoci', ['stat', '--image', `${unpacked}:${tag}`, '--json'])
      assert.equal(stat.code, 0, stat.stderr)
    }
    // 1.0 moves at the source: only that file is written again (a new inode: renamed into place)
    const keep = await stamp(path.join(root, 'app', '2.0.tar'))
    const old = await stamp(path.join(root, 'app', '1.0.tar'))
    const moved = await pushImages(a, {'team/app:1.0': {layers: ['base', 'app-1b']}})
    const again = await json(['sync', `${a.host}/team/app`, `oci-archive:${root}/`])
    assert.deepEqual(again.repositories[0].tags.map((t: {tag: string; status: string}) => `${t.tag}=${t.status}`), ['1.0=copied', '2.0=current'])
    assert.equal(await stamp(path.join(root, 'app', '2.0.tar')), keep)
    assert.notEqual(await stamp(path.join(root, 'app', '1.0.tar')), old)
    const raw = await skopeo(['inspect', '--raw', `oci-archive:${path.join(root, 'app', '1.0.tar')}:1.0`])
    assert.equal(sha256(raw.stdoutBytes), moved['team/app:1.0'])
    assert.deepEqual(await files(root), ['app', 'app/1.0.tar', 'app/2.0.tar'], 'no temporary file left')
    await pushImages(a, {'team/app:1.0': IMAGES['team/app:1.0']})
  })

  it('dir:DIR — the same directories skopeo sync --dest dir writes, byte for byte', async () => {
    const ours = path.join(dir.path, 'd-ocitool')
    const theirs = path.join(dir.path, 'd-skopeo')
    const r = await json(['sync', `${a.host}/team/app`, `dir:${ours}`])
    assert.equal(r.totals.copied, 2)
    const sk = await skopeo(['sync', '--src', 'docker', '--dest', 'dir', '--src-tls-verify=false', `${a.host}/team/app`, theirs])
    assert.equal(sk.code, 0, sk.stderr)
    assert.deepEqual(await files(ours), await files(theirs))
    for (const tag of ['1.0', '2.0']) {
      const m = await fsp.readFile(path.join(ours, `app:${tag}`, 'manifest.json'))
      assert.equal(sha256(m), src[`team/app:${tag}`])
      assert.deepEqual(m, await fsp.readFile(path.join(theirs, `app:${tag}`, 'manifest.json')))
    }
    const again = await json(['sync', `${a.host}/team/app`, `dir:${ours}`])
    assert.equal(again.totals.current, 2)
  })

  it('an archive destination that is not a directory is a usage error', async () => {
    const r = await runCli(['sync', `${a.host}/team/app`, `docker-archive:${dir.path}/one.tar`])
    assert.equal(r.code, 2)
    assert.match(r.stderr, /^Error: invalid destination ".*one\.tar": sync writes one archive per repository and tag; name a directory ending in "\/"/)
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
  })
})
