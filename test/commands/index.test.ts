// index append | filter | list against the real distribution registry: the pushed index is read
// back with skopeo (digest, media type, children, platforms from the images' configs), child
// manifests and blobs are in the new repository (mounted, never downloaded), and bad input
// exits with its class and pushes nothing.
import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'
import {parseReference} from '../../src/lib/name/reference.js'
import {Session} from '../../src/lib/remote/session.js'
import {runCli} from '../support/cli.js'
import {type BuiltImage, type PushedFixture, MediaTypes, buildImage, pushFixture, sha256, skopeo} from '../support/fixtures.js'
import {type RunningRegistry, startRegistry} from '../support/registry.js'

const dockerList = 'application/vnd.docker.distribution.manifest.list.v2+json'

/** pushBuilt pushes a built image as repo:tag with our client (blobs, then the manifest). */
async function pushBuilt(reg: RunningRegistry, repoTag: string, img: BuiltImage): Promise<void> {
  const ref = parseReference(`${reg.host}/${repoTag}`)
  const s = new Session({})
  try {
    const repo = s.repository(ref)
    for (const [d, b] of img.blobs) await repo.uploadBlob(d, b.length, b)
    await repo.putManifest(ref.tag!, img.manifestBytes, img.mediaType)
  } finally {
    s.close()
  }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function raw(reg: RunningRegistry, ref: string): Promise<{digest: string; size: number; doc: any}> {
  const r = await skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/${ref}`])
  assert.equal(r.code, 0, r.stderr)
  return {digest: sha256(r.stdoutBytes), size: r.stdoutBytes.length, doc: JSON.parse(r.stdout)}
}

async function exists(reg: RunningRegistry, ref: string): Promise<boolean> {
  return (await skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/${ref}`])).code === 0
}

describe('index', () => {
  let reg: RunningRegistry
  let amd: BuiltImage
  let arm: BuiltImage
  let s390: BuiltImage
  let index: PushedFixture
  before(async () => {
    reg = await startRegistry({flavour: 'plain'})
    amd = await buildImage({layers: 1, seed: 'ix-amd', mediaTypes: 'oci'})
    arm = await buildImage({layers: 2, seed: 'ix-arm', mediaTypes: 'docker', platform: {os: 'linux', architecture: 'arm64', variant: 'v8'}})
    s390 = await buildImage({layers: 1, seed: 'ix-s390', mediaTypes: 'oci', platform: {os: 'linux', architecture: 's390x'}})
    await pushBuilt(reg, 'img/amd:v1', amd)
    await pushBuilt(reg, 'img/arm:v1', arm)
    await pushBuilt(reg, 'img/s390:v1', s390)
    index = await pushFixture(reg, 'img/index:v1', 'index', 'ix-index')
  })
  after(async () => {
    await reg?.stop()
  })

  it('append of two images: an OCI index, platforms from their configs, children and blobs mounted into the new repository', async () => {
    const mark = reg.requests().length
    const r = await runCli(['index', 'append', '-m', `${reg.host}/img/amd:v1`, '-m', `${reg.host}/img/arm:v1`, '-t', `${reg.host}/new/idx:v1`])
    assert.equal(r.code, 0, r.stderr)
    const got = await raw(reg, 'new/idx:v1')
    assert.equal(r.stdout, `${reg.host}/new/idx@${got.digest}\n`)
    assert.equal(got.doc.mediaType, MediaTypes.ociIndex)
    assert.deepEqual(got.doc.manifests, [
      {mediaType: amd.mediaType, digest: amd.manifestDigest, size: amd.manifestBytes.length, platform: {os: 'linux', architecture: 'amd64'}},
      {mediaType: arm.mediaType, digest: arm.manifestDigest, size: arm.manifestBytes.length, platform: {os: 'linux', architecture: 'arm64', variant: 'v8'}},
    ])
    for (const im of [amd, arm]) assert.equal((await raw(reg, `new/idx@${im.manifestDigest}`)).digest, im.manifestDigest)
    const reqs = reg.requests().slice(mark)
    const layerDigests = [...amd.layerDigests, ...arm.layerDigests]
    const mounted = reqs.filter((q) => q.method === 'POST' && q.path === '/v2/new/idx/blobs/uploads/' && q.status === 201).map((q) => new URL(q.uri, 'http://x').searchParams.get('mount'))
    for (const d of layerDigests) assert.ok(mounted.includes(d), `layer ${d} mounted`)
    assert.deepEqual(reqs.filter((q) => q.method === 'GET' && q.path.includes('/blobs/') && layerDigests.some((d) => q.path.endsWith(d))), [], 'no layer downloaded')
    assert.deepEqual(reqs.filter((q) => q.method === 'PUT' && q.path.includes('/blobs/')), [], 'no blob uploaded')
  })

  it('append to a base index keeps its children first; an index given with -m adds each child; --json gives the result', async () => {
    const r = await runCli(['index', 'append', `${reg.host}/img/index:v1`, '-m', `${reg.host}/img/s390:v1`, '-t', `${reg.host}/new/more:v1`, '--json'])
    assert.equal(r.code, 0, r.stderr)
    const json = JSON.parse(r.stdout)
    const got = await raw(reg, 'new/more:v1')
    assert.equal(json.images[0].digest, got.digest)
    assert.equal(json.images[0].mediaType, MediaTypes.ociIndex)
    assert.equal(json.images[0].size, got.size)
    const base = JSON.parse(index.manifestBytes.toString())
    assert.deepEqual(got.doc.manifests, [...base.manifests, {mediaType: s390.mediaType, digest: s390.manifestDigest, size: s390.manifestBytes.length, platform: {os: 'linux', architecture: 's390x'}}])

    const flat = await runCli(['index', 'append', '-m', `${reg.host}/img/index:v1`, '-m', `${reg.host}/img/amd:v1`, '-m', `${reg.host}/img/index:v1`, '-t', `${reg.host}/new/flat:v1`, '--docker-empty-base'])
    assert.equal(flat.code, 0, flat.stderr)
    const f = await raw(reg, 'new/flat:v1')
    assert.equal(f.doc.mediaType, dockerList)
    assert.deepEqual(f.doc.manifests.map((m: {digest: string}) => m.digest), [...index.images.map((i) => i.manifestDigest), amd.manifestDigest], 'children once each')
    assert.equal(f.doc.manifests[3].platform.architecture, 'amd64')
  })

  it('filter keeps the named platforms, as an index even for one', async () => {
    const armChild = index.images.find((i) => i.platform.architecture === 'arm64')!
    const one = await runCli(['index', 'filter', `${reg.host}/img/index:v1`, '--platform', 'linux/arm64', '-t', `${reg.host}/img/filtered:one`])
    assert.equal(one.code, 0, one.stderr)
    const got = await raw(reg, 'img/filtered:one')
    assert.equal(one.stdout, `${reg.host}/img/filtered@${got.digest}\n`)
    assert.equal(got.doc.mediaType, MediaTypes.ociIndex)
    assert.deepEqual(got.doc.manifests.map((m: {digest: string}) => m.digest), [armChild.manifestDigest])
    const two = await runCli(['index', 'filter', `${reg.host}/img/index:v1`, '--platform', 'linux/arm/v7,linux/amd64', '-t', `${reg.host}/img/filtered:two`])
    assert.equal(two.code, 0, two.stderr)
    const t = await raw(reg, 'img/filtered:two')
    assert.deepEqual(t.doc.manifests.map((m: {platform: {architecture: string}}) => m.platform.architecture), ['amd64', 'arm'], 'index order kept')
  })

  it('list prints digest, media type, platform and size per child; --json the descriptors', async () => {
    const r = await runCli(['index', 'list', `${reg.host}/img/index:v1`])
    assert.equal(r.code, 0, r.stderr)
    const base = JSON.parse(index.manifestBytes.toString())
    const want = base.manifests.map((d: any) => `${d.digest} ${d.mediaType} ${d.platform.os}/${d.platform.architecture}${d.platform.variant ? `/${d.platform.variant}` : ''} ${d.size}`)
    assert.deepEqual(r.stdout.trimEnd().split('\n'), want)
    const j = await runCli(['index', 'list', `${reg.host}/img/index:v1`, '--json'])
    assert.equal(j.code, 0, j.stderr)
    assert.deepEqual(JSON.parse(j.stdout), base.manifests)
  })

  it('bad input: one line, the exit code of its class, nothing pushed', async () => {
    const cases: Array<{args: string[]; code: number; msg: RegExp; tag?: string}> = [
      {args: ['index', 'append', `${reg.host}/img/amd:v1`, '-m', `${reg.host}/img/arm:v1`, '-t', `${reg.host}/bad/a:v1`], code: 2, msg: /is an image, not an index/, tag: 'bad/a:v1'},
      {args: ['index', 'append', `${reg.host}/img/index:v1`, '--docker-empty-base', '-m', `${reg.host}/img/arm:v1`, '-t', `${reg.host}/bad/b:v1`], code: 2, msg: /--docker-empty-base is for appending without a BASE/, tag: 'bad/b:v1'},
      {args: ['index', 'append', '-m', `${reg.host}/img/missing:v1`, '-t', `${reg.host}/bad/c:v1`], code: 3, msg: /missing/, tag: 'bad/c:v1'},
      {args: ['index', 'append', '-m', `${reg.host}/img/amd:v1`, '-t', 'Bad Ref'], code: 2, msg: /Bad Ref/},
      {args: ['index', 'filter', `${reg.host}/img/index:v1`, '--platform', 'windows/amd64', '-t', `${reg.host}/bad/d:v1`], code: 3, msg: /no manifest for platform windows\/amd64 \(the index has: linux\/amd64, linux\/arm64\/v8, linux\/arm\/v7\)/, tag: 'bad/d:v1'},
      {args: ['index', 'filter', `${reg.host}/img/amd:v1`, '--platform', 'linux/amd64', '-t', `${reg.host}/bad/e:v1`], code: 2, msg: /not an index/, tag: 'bad/e:v1'},
      {args: ['index', 'filter', `${reg.host}/img/index:v1`, '--platform', 'linux/', '-t', `${reg.host}/bad/f:v1`], code: 2, msg: /invalid platform "linux\/"/, tag: 'bad/f:v1'},
      {args: ['index', 'list', `${reg.host}/img/amd:v1`], code: 2, msg: /not an index/},
    ]
    for (const c of cases) {
      const r = await runCli(c.args)
      assert.equal(r.code, c.code, `${c.args.join(' ')}: ${r.stderr}`)
      assert.equal(r.stdout, '')
      assert.match(r.stderr, /^Error: [^\n]+\n$/)
      assert.match(r.stderr, c.msg)
      if (c.tag) assert.equal(await exists(reg, c.tag), false, `${c.tag} not pushed`)
    }
  })
})
