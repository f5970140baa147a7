// copy between real distribution registries: single images, a three-platform index, a Docker
// schema2 image and an image with a foreign layer keep every digest (checked with skopeo);
// within one registry blobs are mounted, not uploaded (checked on the registry's request log).
import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'
import {runCli} from '../support/cli.js'
import {type PushedFixture, buildImage, pushFixture, sha256, skopeo} from '../support/fixtures.js'
import {type RunningRegistry, startRegistry} from '../support/registry.js'
import {Session} from '../../src/lib/remote/session.js'
import {parseReference} from '../../src/lib/name/reference.js'

async function rawDigest(reg: RunningRegistry, ref: string): Promise<string> {
  const r = await skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/${ref}`])
  assert.equal(r.code, 0, r.stderr)
  return sha256(Buffer.from(r.stdout))
}

/** pushes an image whose last layer is foreign (urls, not in the registry), with our client */
async function pushForeign(reg: RunningRegistry, repoTag: string): Promise<string> {
  const img = await buildImage({layers: 1, seed: 'foreign', mediaTypes: 'docker'})
  const manifest = JSON.parse(img.manifestBytes.toString())
  const foreignBytes = Buffer.from('bytes that live elsewhere')
  manifest.layers.push({mediaType: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip', size: foreignBytes.length, digest: sha256(foreignBytes), urls: ['https://example.invalid/layer.tar.gz']})
  const bytes = Buffer.from(JSON.stringify(manifest))
  const ref = parseReference(`${reg.host}/${repoTag}`)
  const s = new Session({})
  try {
    const repo = s.repository(ref)
    for (const [d, b] of img.blobs) await repo.uploadBlob(d, b.length, b)
    return await repo.putManifest(ref.tag!, bytes, manifest.mediaType)
  } finally {
    s.close()
  }
}

describe('copy', () => {
  let a: RunningRegistry
  let b: RunningRegistry
  let oci: PushedFixture
  let docker: PushedFixture
  let index: PushedFixture
  before(async () => {
    ;[a, b] = await Promise.all([startRegistry({flavour: 'plain'}), startRegistry({flavour: 'plain'})])
    ;[oci, docker, index] = await Promise.all([
      pushFixture(a, 'src/oci:v1', 'oci', 'copy-oci'),
      pushFixture(a, 'src/docker:v1', 'docker', 'copy-docker'),
      pushFixture(a, 'src/index:v1', 'index', 'copy-index'),
    ])
  })
  after(async () => {
    await a?.stop()
    await b?.stop()
  })

  it('registry → registry keeps the digests of an OCI image, a Docker schema2 image and an index', async () => {
    for (const [name, fx] of [['oci', oci], ['docker', docker], ['index', index]] as const) {
      const r = await runCli(['copy', `${a.host}/src/${name}:v1`, `${b.host}/dst/${name}:v1`])
      assert.equal(r.code, 0, r.stderr)
      assert.equal(r.stdout, `${b.host}/dst/${name}@${fx.manifestDigest}\n`)
      assert.equal(await rawDigest(b, `dst/${name}:v1`), fx.manifestDigest)
    }
    for (const child of index.images) assert.equal(await rawDigest(b, `dst/index@${child.manifestDigest}`), child.manifestDigest)
  })

  it('an image with a foreign layer keeps its digest; the foreign layer stays where it is', async () => {
    const digest = await pushForeign(a, 'src/foreign:v1')
    const r = await runCli(['cp', `${a.host}/src/foreign:v1`, `${b.host}/dst/foreign:v1`])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stderr, /1 foreign layer\(s\) left where they are/)
    assert.equal(await rawDigest(b, 'dst/foreign:v1'), digest)
  })

  it('within one registry, blobs are mounted, not uploaded', async () => {
    const mark = a.requests().length
    const r = await runCli(['copy', `${a.host}/src/index:v1`, `${a.host}/mirror/index:v1`, '--json'])
    assert.equal(r.code, 0, r.stderr)
    const json = JSON.parse(r.stdout)
    assert.equal(json.transfer.bytes, 0)
    assert.equal(json.transfer.mounted, 6)
    await a.waitForRequest((q) => q.method === 'PUT' && q.path === '/v2/mirror/index/manifests/v1')
    const reqs = a.requests().slice(mark)
    const mounts = reqs.filter((q) => q.method === 'POST' && q.uri.includes('mount='))
    assert.equal(mounts.length, 6)
    assert.ok(mounts.every((q) => q.status === 201))
    assert.deepEqual(reqs.filter((q) => q.method === 'PUT' && q.path.includes('/blobs/')), [], 'no blob upload')
    assert.deepEqual(reqs.filter((q) => q.method === 'GET' && q.path.includes('/blobs/')), [], 'no blob download')
  })

  it('a second copy moves no blob (HEAD finds them) and keeps the digest', async () => {
    const r = await runCli(['copy', `${a.host}/src/oci:v1`, `${b.host}/dst/oci:again`, '--json'])
    assert.equal(r.code, 0, r.stderr)
    const json = JSON.parse(r.stdout)
    assert.equal(json.images[0].digest, oci.manifestDigest)
    assert.equal(json.transfer.bytes, 0)
  })

  it('--platform picks one image, a list (or --as-index) makes a smaller index', async () => {
    const arm = index.images.find((i) => i.platform.architecture === 'arm64')!
    const one = await runCli(['copy', `${a.host}/src/index:v1`, `${b.host}/plat/one:v1`, '--platform', 'linux/arm64'])
    assert.equal(one.stdout, `${b.host}/plat/one@${arm.manifestDigest}\n`, one.stderr)
    const two = await runCli(['copy', `${a.host}/src/index:v1`, `${b.host}/plat/two:v1`, '--platform', 'linux/arm64,linux/amd64', '--json'])
    assert.equal(two.code, 0, two.stderr)
    const sub = JSON.parse((await skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${b.host}/plat/two:v1`])).stdout)
    assert.deepEqual(sub.manifests.map((m: {platform: {architecture: string}}) => m.platform.architecture).sort(), ['amd64', 'arm64'])
    const asIndex = await runCli(['copy', `${a.host}/src/index:v1`, `${b.host}/plat/idx:v1`, '--platform', 'linux/arm64', '--as-index'])
    assert.equal(asIndex.code, 0, asIndex.stderr)
    const idx = JSON.parse((await skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${b.host}/plat/idx:v1`])).stdout)
    assert.equal(idx.manifests.length, 1)
    const parts = await runCli(['copy', `${a.host}/src/index:v1`, `${b.host}/plat/parts:v1`, '--os', 'linux', '--architecture', 'arm', '--variant', 'v7'])
    assert.equal(parts.code, 0, parts.stderr)
    const none = await runCli(['copy', `${a.host}/src/index:v1`, `${b.host}/plat/none:v1`, '--platform', 'linux/s390x'])
    assert.equal(none.code, 3)
    assert.match(none.stderr, /no manifest for platform linux\/s390x/)
  })

  it('--all-tags copies every tag; --no-clobber refuses to move an existing tag', async () => {
    for (const t of ['t1', 't2', 't3']) assert.equal((await runCli(['tag', `${a.host}/src/oci:v1`, t])).code, 0)
    const r = await runCli(['copy', `${a.host}/src/oci`, `${b.host}/all/oci`, '-a', '-j', '8'])
    assert.equal(r.code, 0, r.stderr)
    const tags = (await runCli(['ls', `${b.host}/all/oci`])).stdout.trim().split('\n').sort()
    assert.deepEqual(tags, ['t1', 't2', 't3', 'v1'])
    const clobber = await runCli(['copy', `${a.host}/src/docker:v1`, `${b.host}/all/oci:t1`, '--no-clobber'])
    assert.equal(clobber.code, 1)
    assert.match(clobber.stderr, /tag exists .* not overwriting it \(--no-clobber\)/)
    assert.equal(await rawDigest(b, 'all/oci:t1'), oci.manifestDigest)
  })

  it('--progress=json writes one event per line to stderr; stdout carries only the result', async () => {
    const r = await runCli(['copy', `${a.host}/src/docker:v1`, `${b.host}/prog/docker:v1`, '--progress', 'json'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, `${b.host}/prog/docker@${docker.manifestDigest}\n`)
    const events = r.stderr.trim().split('\n').map((l) => JSON.parse(l))
    assert.equal(events[0].event, 'plan')
    assert.ok(events.some((e) => e.event === 'blob-done' && e.outcome === 'copied'))
    assert.ok(events.some((e) => e.event === 'manifest' && e.names.includes('v1')))
    assert.equal(events.at(-1).event, 'done')
    assert.equal(events.at(-1).ok, true)
  })

  it('--chunk-size uploads in PATCH chunks with Content-Range and keeps the digest', async () => {
    const mark = b.requests().length
    const r = await runCli(['copy', `${a.host}/src/docker:v1`, `${b.host}/chunked/docker:v1`, '--chunk-size', '300'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(await rawDigest(b, 'chunked/docker:v1'), docker.manifestDigest)
    const patches = b.requests().slice(mark).filter((q) => q.method === 'PATCH')
    const biggest = Math.max(...docker.images[0].layerDigests.map((d) => docker.images[0].blobs.get(d)!.length))
    assert.ok(patches.length >= Math.ceil(biggest / 300), `${patches.length} PATCH requests`)
    assert.ok(patches.every((q) => q.status === 202))
  })

  it('a missing source is exit 3 and writes nothing at the destination', async () => {
    const r = await runCli(['copy', `${a.host}/src/nope:v1`, `${b.host}/dst/nope:v1`])
    assert.equal(r.code, 3)
    assert.match(r.stderr, /^Error: manifest .*src\/nope:v1: not found/)
    const ls = await runCli(['ls', `${b.host}/dst/nope`])
    assert.equal(ls.code, 3)
  })
})
