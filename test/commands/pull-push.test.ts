// pull and push against the real registry, with skopeo and umoci (software nobody here wrote)
// reading what ocitool writes and writing what it reads. Digests are compared everywhere.
import assert from 'node:assert/strict'
import {readFile, readdir, stat, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {gzipSync} from 'node:zlib'
import {runCli} from '../support/cli.js'
import {type PushedFixture, buildImage, makeLayerTar, pushFixture, sha256, skopeo, writeImageDir} from '../support/fixtures.js'
import {run} from '../support/exec.js'
import {type RunningRegistry, startRegistry} from '../support/registry.js'
import {type TmpDir, tmpDir} from '../support/tmp.js'

async function rawDigest(reg: RunningRegistry, ref: string): Promise<string> {
  const r = await skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/${ref}`])
  assert.equal(r.code, 0, r.stderr)
  return sha256(Buffer.from(r.stdout))
}

describe('pull and push', () => {
  let reg: RunningRegistry
  let tmp: TmpDir
  let oci: PushedFixture
  let docker: PushedFixture
  let index: PushedFixture
  before(async () => {
    reg = await startRegistry({flavour: 'plain'})
    tmp = await tmpDir('pull-push')
    ;[oci, docker, index] = await Promise.all([
      pushFixture(reg, 'pp/oci:v1', 'oci', 'pp-oci'),
      pushFixture(reg, 'pp/docker:v1', 'docker', 'pp-docker'),
      pushFixture(reg, 'pp/index:v1', 'index', 'pp-index'),
    ])
  })
  after(async () => {
    await reg?.stop()
    await tmp?.remove()
  })

  it('pull writes a docker tarball that skopeo reads, with the same config and layer digests', async () => {
    const file = join(tmp.path, 'docker.tar')
    const r = await runCli(['pull', `${reg.host}/pp/docker:v1`, file])
    assert.equal(r.code, 0, r.stderr)
    const out = join(tmp.path, 'skopeo-dir')
    const s = await skopeo(['copy', `docker-archive:${file}`, `dir:${out}`])
    assert.equal(s.code, 0, s.stderr)
    const m = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8'))
    assert.equal(m.config.digest, docker.images[0].configDigest)
    // skopeo hands docker-archive layers out uncompressed: their digests are the diff ids
    assert.deepEqual(m.layers.map((l: {digest: string}) => l.digest), docker.images[0].diffIds)
    const names = (await run('tar', ['-tf', file])).stdout.split('\n').filter(Boolean)
    assert.ok(names.includes('manifest.json'))
    assert.ok(names.includes(docker.images[0].configDigest), 'config named by its digest')
    for (const d of docker.images[0].layerDigests) assert.ok(names.includes(`${d.slice(7)}.tar.gz`))
    const entries = JSON.parse((await run('tar', ['-xOf', file, 'manifest.json'])).stdout)
    assert.deepEqual(entries[0].RepoTags, [`${reg.host}/pp/docker:v1`])
  })

  it('registry → tarball → registry keeps the manifest digest (OCI and Docker)', async () => {
    for (const [name, fx] of [['oci', oci], ['docker', docker]] as const) {
      const file = join(tmp.path, `rt-${name}.tar`)
      assert.equal((await runCli(['pull', `${reg.host}/pp/${name}:v1`, file])).code, 0)
      const p = await runCli(['push', file, `${reg.host}/rt/${name}:v1`])
      assert.equal(p.code, 0, p.stderr)
      assert.equal(p.stdout, `${reg.host}/rt/${name}@${fx.manifestDigest}\n`)
      assert.equal(await rawDigest(reg, `rt/${name}:v1`), fx.manifestDigest)
    }
  })

  it('pull of an index into a tarball takes linux/amd64, or --platform', async () => {
    const amd = index.images.find((i) => i.platform.architecture === 'amd64')!
    const arm = index.images.find((i) => i.platform.architecture === 'arm64')!
    const f1 = join(tmp.path, 'idx-default.tar')
    assert.equal((await runCli(['pull', `${reg.host}/pp/index:v1`, f1])).code, 0)
    assert.equal((await runCli(['digest', '--tarball', f1])).stdout, `${amd.manifestDigest}\n`)
    const f2 = join(tmp.path, 'idx-arm.tar')
    assert.equal((await runCli(['pull', `${reg.host}/pp/index:v1`, f2, '--platform', 'linux/arm64'])).code, 0)
    const out = join(tmp.path, 'digest.txt')
    assert.equal((await runCli(['digest', `docker-archive:${f2}`, '--output-digest', out])).stdout, `${arm.manifestDigest}\n`)
    assert.equal(await readFile(out, 'utf8'), arm.manifestDigest)
  })

  it('pull --format oci writes a layout skopeo and umoci read; push --index pushes it whole', async () => {
    const dir = join(tmp.path, 'layout')
    const clash = await runCli(['pull', `${reg.host}/pp/index:v1`, `${reg.host}/pp/oci:v1`, dir, '--format', 'oci'])
    assert.equal(clash.code, 2)
    assert.match(clash.stderr, /two images would both be named "v1" \(--annotate-ref names them by full reference\)/)
    assert.equal((await runCli(['tag', `${reg.host}/pp/oci:v1`, 'solo'])).code, 0)
    const r = await runCli(['pull', `${reg.host}/pp/index:v1`, `${reg.host}/pp/oci:solo`, dir, '--format', 'oci'])
    assert.equal(r.code, 0, r.stderr)
    const idx = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8'))
    assert.deepEqual(idx.manifests.map((m: {digest: string}) => m.digest).sort(), [index.manifestDigest, oci.manifestDigest].sort())
    const raw = await skopeo(['inspect', '--raw', `oci:${dir}:v1`])
    assert.equal(raw.code, 0, raw.stderr)
    assert.ok([index.manifestDigest, oci.manifestDigest].includes(sha256(Buffer.from(raw.stdout))))
    const bundle = join(tmp.path, 'bundle')
    const single = join(tmp.path, 'single')
    assert.equal((await runCli(['pull', `${reg.host}/pp/oci:v1`, single, '--format', 'oci'])).code, 0)
    const u = await run('umoci', ['unpack', '--rootless', '--image', `${single}:v1`, bundle])
    assert.equal(u.code, 0, u.stderr)
    assert.ok((await readdir(join(bundle, 'rootfs'))).length > 0)
    const p = await runCli(['push', dir, `${reg.host}/pp/both:v1`, '--index'])
    assert.equal(p.code, 0, p.stderr)
    const pushed = JSON.parse((await skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/pp/both:v1`])).stdout)
    assert.equal(pushed.manifests.length, 2)
    const noIndex = await runCli(['push', dir, `${reg.host}/pp/both:v2`])
    assert.equal(noIndex.code, 2)
    assert.match(noIndex.stderr, /holds 2 images/)
  })

  it('push reads what skopeo writes (docker-archive and oci)', async () => {
    const src = join(tmp.path, 'skopeo-src')
    const built = await writeImageDir(src, {layers: 2, seed: 'skopeo-made', mediaTypes: 'docker'})
    const tar = join(tmp.path, 'skopeo.tar')
    assert.equal((await skopeo(['copy', `dir:${src}`, `docker-archive:${tar}:made/by:skopeo`])).code, 0)
    const p = await runCli(['push', tar, `${reg.host}/from/skopeo:tar`, '--json'])
    assert.equal(p.code, 0, p.stderr)
    const m = JSON.parse((await skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/from/skopeo:tar`])).stdout)
    assert.equal(m.config.digest, built.configDigest)
    assert.deepEqual(m.layers.map((l: {digest: string}) => l.digest), built.layerDigests)
    const ociSrc = join(tmp.path, 'skopeo-oci-src')
    const builtOci = await writeImageDir(ociSrc, {layers: 1, seed: 'skopeo-oci', mediaTypes: 'oci'})
    const layout = join(tmp.path, 'skopeo-layout')
    assert.equal((await skopeo(['copy', `dir:${ociSrc}`, `oci:${layout}:t1`])).code, 0)
    const p2 = await runCli(['push', layout, `${reg.host}/from/skopeo:oci`])
    assert.equal(p2.code, 0, p2.stderr)
    assert.equal(await rawDigest(reg, 'from/skopeo:oci'), builtOci.manifestDigest)
  })

  it('several images go into one tarball; each can be copied out by name', async () => {
    const file = join(tmp.path, 'multi.tar')
    const r = await runCli(['pull', `${reg.host}/pp/oci:v1`, `${reg.host}/pp/docker:v1`, file])
    assert.equal(r.code, 0, r.stderr)
    const entries = JSON.parse((await run('tar', ['-xOf', file, 'manifest.json'])).stdout)
    assert.equal(entries.length, 2)
    const c = await runCli(['copy', `docker-archive:${file}:${reg.host}/pp/docker:v1`, `${reg.host}/multi/docker:v1`])
    assert.equal(c.code, 0, c.stderr)
    assert.equal(await rawDigest(reg, 'multi/docker:v1'), docker.manifestDigest)
  })

  it('pull --cache-path fills a cache; the next pull reads blobs from it, not the registry', async () => {
    const cache = join(tmp.path, 'cache')
    assert.equal((await runCli(['pull', `${reg.host}/pp/oci:v1`, join(tmp.path, 'c1.tar'), '-c', cache])).code, 0)
    const cached = await readdir(join(cache, 'sha256'))
    assert.equal(cached.length, oci.images[0].layerDigests.length + 1)
    const mark = reg.requests().length
    assert.equal((await runCli(['pull', `${reg.host}/pp/oci:v1`, join(tmp.path, 'c2.tar'), '-c', cache])).code, 0)
    assert.deepEqual(reg.requests().slice(mark).filter((q) => q.method === 'GET' && q.path.includes('/blobs/')), [])
    assert.deepEqual(await readFile(join(tmp.path, 'c1.tar')), await readFile(join(tmp.path, 'c2.tar')))
  })

  it('pull to - writes the same tarball to stdout', async () => {
    const r = await runCli(['pull', `${reg.host}/pp/oci:v1`, '-'])
    assert.equal(r.code, 0, r.stderr)
    const file = join(tmp.path, 'file.tar')
    assert.equal((await runCli(['pull', `${reg.host}/pp/oci:v1`, file])).code, 0)
    assert.deepEqual(r.stdoutBytes, await readFile(file))
  })

  it('push of loose build outputs (plain and gzip layers, --manifest, --oci, stamping, --image-refs)', async () => {
    const img = await buildImage({layers: 2, seed: 'loose', mediaTypes: 'docker'})
    const config = join(tmp.path, 'config.json')
    await writeFile(config, img.configBytes)
    const plain = join(tmp.path, 'layer0.tar')
    await writeFile(plain, await makeLayerTar('loose-plain'))
    const gz = join(tmp.path, 'layer1.tar.gz')
    await writeFile(gz, img.blobs.get(img.layerDigests[1])!)
    const stampFile = join(tmp.path, 'stable-status.txt')
    await writeFile(stampFile, 'BUILD_TAG release-7\nOTHER x\n')
    const refs = join(tmp.path, 'refs.txt')
    const r = await runCli(['push', '--config', config, '--layer', plain, '--layer', gz, `${reg.host}/loose/app:{BUILD_TAG}`, '--stamp-info-file', stampFile, '--image-refs', refs])
    assert.equal(r.code, 0, r.stderr)
    const m = JSON.parse((await skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/loose/app:release-7`])).stdout)
    assert.equal(m.mediaType, 'application/vnd.docker.distribution.manifest.v2+json')
    assert.equal(m.layers[1].digest, img.layerDigests[1])
    const layer0 = await runCli(['blob', `${reg.host}/loose/app@${m.layers[0].digest}`])
    assert.equal(sha256(layer0.stdoutBytes), m.layers[0].digest)
    assert.equal(await readFile(refs, 'utf8'), r.stdout)

    const manifestFile = join(tmp.path, 'manifest.json')
    await writeFile(manifestFile, img.manifestBytes)
    const withManifest = await runCli(['push', '--config', config, '--layer', join(tmp.path, 'l0.tar.gz'), '--layer', gz, '--manifest', manifestFile, `${reg.host}/loose/exact:v1`].map((a) => a))
    assert.equal(withManifest.code, 3, 'a missing layer file is exit 3')
    await writeFile(join(tmp.path, 'l0.tar.gz'), img.blobs.get(img.layerDigests[0])!)
    const exact = await runCli(['push', '--config', config, '--layer', join(tmp.path, 'l0.tar.gz'), '--layer', gz, '--manifest', manifestFile, `${reg.host}/loose/exact:v1`])
    assert.equal(exact.code, 0, exact.stderr)
    assert.equal(await rawDigest(reg, 'loose/exact:v1'), img.manifestDigest)
    const ociPush = await runCli(['push', '--config', config, '--layer', gz, '--oci', `${reg.host}/loose/oci:v1`])
    assert.equal(ociPush.code, 0, ociPush.stderr)
    const om = JSON.parse((await skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/loose/oci:v1`])).stdout)
    assert.equal(om.mediaType, 'application/vnd.oci.image.manifest.v1+json')
    const unstamped = await runCli(['push', '--config', config, '--layer', gz, `${reg.host}/loose/app:{NOPE}`, '--stamp-info-file', stampFile])
    assert.equal(unstamped.code, 2)
    void gzipSync
  })

  it('validate checks every blob (--remote, --tarball, --fast)', async () => {
    const file = join(tmp.path, 'validate.tar')
    assert.equal((await runCli(['pull', `${reg.host}/pp/oci:v1`, file])).code, 0)
    for (const args of [['--remote', `${reg.host}/pp/index:v1`], ['--tarball', file], ['--tarball', file, '--fast'], [`${reg.host}/pp/oci:v1`, '--fast']]) {
      const r = await runCli(['validate', ...args])
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`)
      assert.match(r.stdout, /^PASS: /)
    }
    assert.ok((await stat(file)).size > 0)
  })
})
