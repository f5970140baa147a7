// rebase against the real distribution registry: an app built on base1 (one layer) is put on
// base2 (two layers, Docker media types): the result's layers are base2's plus the app's own,
// diff_ids and history spliced to match, and the registry's request log shows that no base
// layer was downloaded or uploaded (mounted or found). Also: the base annotations instead of
// flags, an index rebased per platform, and refusals when the old base is not a prefix.
import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'
import {gzipSync} from 'node:zlib'
import {parseReference} from '../../src/lib/name/reference.js'
import {Session} from '../../src/lib/remote/session.js'
import {runCli} from '../support/cli.js'
import {MediaTypes, makeLayerTar, sha256, skopeo} from '../support/fixtures.js'
import {type RunningRegistry, startRegistry} from '../support/registry.js'

type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

interface Layer {
  gz: Buffer
  diffId: string
  digest: string
}

interface Image {
  digest: string
  bytes: Buffer
  mediaType: string
  manifest: Json
  config: Json
  blobs: Buffer[]
}

async function layer(key: string): Promise<Layer> {
  const raw = await makeLayerTar(key)
  const gz = gzipSync(raw)
  return {gz, diffId: sha256(raw), digest: sha256(gz)}
}

function image(layers: Layer[], opts: {history: Json[]; arch?: string; docker?: boolean; annotations?: Record<string, string>; env?: string[]}): Image {
  const docker = opts.docker === true
  const config = {
    created: '2000-01-01T00:00:00Z',
    architecture: opts.arch ?? 'amd64',
    os: 'linux',
    config: {Env: opts.env ?? ['PATH=/bin']},
    rootfs: {type: 'layers', diff_ids: layers.map((l) => l.diffId)},
    history: opts.history,
  }
  const configBytes = Buffer.from(JSON.stringify(config))
  const mediaType = docker ? MediaTypes.dockerManifest : MediaTypes.ociManifest
  const manifest = {
    schemaVersion: 2,
    mediaType,
    config: {mediaType: docker ? MediaTypes.dockerConfig : MediaTypes.ociConfig, size: configBytes.length, digest: sha256(configBytes)},
    layers: layers.map((l) => ({mediaType: docker ? MediaTypes.dockerLayerGzip : MediaTypes.ociLayerGzip, size: l.gz.length, digest: l.digest})),
    ...(opts.annotations ? {annotations: opts.annotations} : {}),
  }
  const bytes = Buffer.from(JSON.stringify(manifest))
  return {digest: sha256(bytes), bytes, mediaType, manifest, config, blobs: [configBytes, ...layers.map((l) => l.gz)]}
}

function indexOf(images: Image[]): Image {
  const doc = {
    schemaVersion: 2,
    mediaType: MediaTypes.ociIndex,
    manifests: images.map((im) => ({mediaType: im.mediaType, digest: im.digest, size: im.bytes.length, platform: {os: 'linux', architecture: im.config.architecture}})),
  }
  const bytes = Buffer.from(JSON.stringify(doc))
  return {digest: sha256(bytes), bytes, mediaType: MediaTypes.ociIndex, manifest: doc, config: {}, blobs: []}
}

/** push pushes images (children first) and tags the last one repo:tag, with our client. */
async function push(reg: RunningRegistry, repoTag: string, ...images: Image[]): Promise<void> {
  const ref = parseReference(`${reg.host}/${repoTag}`)
  const s = new Session({})
  try {
    const repo = s.repository(ref)
    for (const [i, im] of images.entries()) {
      for (const b of im.blobs) await repo.uploadBlob(sha256(b), b.length, b)
      await repo.putManifest(i === images.length - 1 ? ref.tag! : im.digest, im.bytes, im.mediaType)
    }
  } finally {
    s.close()
  }
}

async function raw(reg: RunningRegistry, ref: string): Promise<{digest: string; doc: Json}> {
  const r = await skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/${ref}`])
  assert.equal(r.code, 0, r.stderr)
  return {digest: sha256(r.stdoutBytes), doc: JSON.parse(r.stdout)}
}

async function configOf(reg: RunningRegistry, ref: string): Promise<Json> {
  const r = await skopeo(['inspect', '--config', '--raw', '--tls-verify=false', `docker://${reg.host}/${ref}`])
  assert.equal(r.code, 0, r.stderr)
  return JSON.parse(r.stdout)
}

describe('rebase', () => {
  let reg: RunningRegistry
  let L1: Layer, M1: Layer, M2: Layer, A1: Layer
  let base1: Image, base2: Image, app: Image
  const base1History = [{created: '2000-01-01T00:00:00Z', created_by: 'base1 layer'}]
  const base2History = [{created_by: 'base2 layer 1'}, {created_by: 'ENV BASE=2', empty_layer: true}, {created_by: 'base2 layer 2'}]
  const appHistory = [{created_by: 'ENV APP=1', empty_layer: true}, {created_by: 'app layer'}]
  before(async () => {
    reg = await startRegistry({flavour: 'plain'})
    ;[L1, M1, M2, A1] = await Promise.all(['rb-L1', 'rb-M1', 'rb-M2', 'rb-A1'].map(layer))
    base1 = image([L1], {history: base1History})
    base2 = image([M1, M2], {history: base2History, docker: true})
    app = image([L1, A1], {history: [...base1History, ...appHistory], env: ['PATH=/bin', 'APP=1']})
    await push(reg, 'base/one:v1', base1)
    await push(reg, 'base/two:v1', base2)
    await push(reg, 'app/x:v1', app)
  })
  after(async () => {
    await reg?.stop()
  })

  it('puts the app on the new base: layers, diff_ids and history spliced; base layers mounted, never moved', async () => {
    const mark = reg.requests().length
    const r = await runCli(['rebase', `${reg.host}/app/x:v1`, '--old-base', `${reg.host}/base/one:v1`, '--new-base', `${reg.host}/base/two:v1`, '-t', `${reg.host}/app/x:rebased`])
    assert.equal(r.code, 0, r.stderr)
    const got = await raw(reg, 'app/x:rebased')
    assert.equal(r.stdout, `${reg.host}/app/x@${got.digest}\n`)
    assert.equal(got.doc.mediaType, MediaTypes.ociManifest)
    assert.deepEqual(got.doc.layers, [M1, M2, A1].map((l) => ({mediaType: MediaTypes.ociLayerGzip, size: l.gz.length, digest: l.digest})), 'Docker layer types of the new base become OCI ones')
    const config = await configOf(reg, 'app/x:rebased')
    assert.deepEqual(config.rootfs, {type: 'layers', diff_ids: [M1.diffId, M2.diffId, A1.diffId]})
    assert.deepEqual(config.history, [...base2History, ...appHistory])
    assert.equal(config.history.filter((h: Json) => !h.empty_layer).length, config.rootfs.diff_ids.length)
    assert.deepEqual([config.os, config.architecture, config.config.Env], ['linux', 'amd64', ['PATH=/bin', 'APP=1']])

    await reg.waitForRequest((q) => q.method === 'PUT' && q.path === '/v2/app/x/manifests/rebased')
    const reqs = reg.requests().slice(mark)
    const baseLayers = [L1, M1, M2].map((l) => l.digest)
    const touches = (q: {path: string}) => baseLayers.some((d) => q.path.endsWith(`/blobs/${d}`))
    assert.deepEqual(reqs.filter((q) => q.method === 'GET' && touches(q)), [], 'no base layer downloaded')
    const uploads = reqs.filter((q) => q.method === 'PUT' && q.path.includes('/blobs/uploads/'))
    assert.equal(uploads.length, 1, 'only the new config is uploaded')
    assert.ok(uploads[0].uri.includes(encodeURIComponent(got.doc.config.digest)) || uploads[0].uri.includes(got.doc.config.digest))
    const mounts = reqs.filter((q) => q.method === 'POST' && q.uri.includes('mount=') && q.status === 201).map((q) => new URL(q.uri, 'http://x').searchParams)
    assert.deepEqual(mounts.map((p) => [p.get('mount'), p.get('from')]).sort(), [[M1.digest, 'base/two'], [M2.digest, 'base/two']].sort())
  })

  it('without --old-base/--new-base, the base annotations say: old = name@digest, new = name now', async () => {
    await push(reg, 'base/moving:v1', base1)
    const annotated = image([L1, A1], {history: [...base1History, ...appHistory], annotations: {'org.opencontainers.image.base.name': `${reg.host}/base/moving:v1`, 'org.opencontainers.image.base.digest': base1.digest}})
    await push(reg, 'app/annotated:v1', annotated)
    await push(reg, 'base/moving:v1', base2)
    const r = await runCli(['rebase', `${reg.host}/app/annotated:v1`, '-t', `${reg.host}/app/annotated:rebased`, '--json'])
    assert.equal(r.code, 0, r.stderr)
    const got = await raw(reg, 'app/annotated:rebased')
    assert.equal(JSON.parse(r.stdout).images[0].digest, got.digest)
    assert.deepEqual(got.doc.layers.map((l: Json) => l.digest), [M1.digest, M2.digest, A1.digest])
    assert.deepEqual(got.doc.annotations, {'org.opencontainers.image.base.name': `${reg.host}/base/moving:v1`, 'org.opencontainers.image.base.digest': base2.digest})
  })

  it('an index is rebased per platform, on the bases of the same platform', async () => {
    const [La, Lb, Ma, Mb, Aa, Ab] = await Promise.all(['rbi-La', 'rbi-Lb', 'rbi-Ma', 'rbi-Mb', 'rbi-Aa', 'rbi-Ab'].map(layer))
    const b1 = [image([La], {history: base1History}), image([Lb], {history: base1History, arch: 'arm64'})]
    const b2 = [image([Ma], {history: [{created_by: 'b2'}]}), image([Mb], {history: [{created_by: 'b2'}], arch: 'arm64'})]
    const apps = [image([La, Aa], {history: [...base1History, ...appHistory]}), image([Lb, Ab], {history: [...base1History, ...appHistory], arch: 'arm64'})]
    await push(reg, 'base/i1:v1', ...b1, indexOf(b1))
    await push(reg, 'base/i2:v1', ...b2.reverse(), indexOf(b2)) // arm64 first: matched by platform, not position
    await push(reg, 'app/i:v1', ...apps, indexOf(apps))
    const r = await runCli(['rebase', `${reg.host}/app/i:v1`, '--old-base', `${reg.host}/base/i1:v1`, '--new-base', `${reg.host}/base/i2:v1`, '-t', `${reg.host}/app/i:rebased`])
    assert.equal(r.code, 0, r.stderr)
    const idx = await raw(reg, 'app/i:rebased')
    assert.equal(r.stdout, `${reg.host}/app/i@${idx.digest}\n`)
    assert.deepEqual(idx.doc.manifests.map((m: Json) => m.platform.architecture), ['amd64', 'arm64'])
    const want: Record<string, string[]> = {amd64: [Ma.digest, Aa.digest], arm64: [Mb.digest, Ab.digest]}
    for (const child of idx.doc.manifests) {
      const m = await raw(reg, `app/i@${child.digest}`)
      assert.deepEqual(m.doc.layers.map((l: Json) => l.digest), want[child.platform.architecture])
    }
  })

  it('refuses when the old base is not a prefix of the image, or no base is named; nothing is pushed', async () => {
    const cases: Array<{args: string[]; code: number; msg: RegExp}> = [
      {args: ['--old-base', `${reg.host}/base/two:v1`, '--new-base', `${reg.host}/base/one:v1`], code: 2, msg: /app\/x:v1: is not based on .*base\/two:v1 \(layer 1 is sha256:[0-9a-f]{64}, the old base's sha256:[0-9a-f]{64}\)/},
      {args: [], code: 2, msg: /has no org\.opencontainers\.image\.base\.name and org\.opencontainers\.image\.base\.digest annotations/},
      {args: ['--old-base', `${reg.host}/base/one:v1`], code: 2, msg: /new-base/},
      {args: ['--old-base', `${reg.host}/base/one:v1`, '--new-base', `${reg.host}/base/nothere:v1`], code: 3, msg: /base\/nothere/},
    ]
    for (const [i, c] of cases.entries()) {
      const tag = `app/x:refused${i}`
      const r = await runCli(['rebase', `${reg.host}/app/x:v1`, ...c.args, '-t', `${reg.host}/${tag}`])
      assert.equal(r.code, c.code, `${c.args.join(' ')}: ${r.stderr}`)
      assert.equal(r.stdout, '')
      assert.match(r.stderr, /^Error: [^\n]+\n$/)
      assert.match(r.stderr, c.msg)
      const probe = await skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/${tag}`])
      assert.notEqual(probe.code, 0, `${tag} not pushed`)
    }
  })

  it('recognises the old base by diff_ids when its gzip bytes differ (the same base compressed by another gzip) (issue 16)', async () => {
    // the same layer tar compressed by another gzip (as docker save + push, or podman, do)
    const raw1 = await makeLayerTar('rb-L1')
    const gz = gzipSync(raw1, {level: 1})
    await push(reg, 'base/resaved:v1', image([{gz, diffId: sha256(raw1), digest: sha256(gz)}], {history: base1History, docker: true}))
    const resaved = await raw(reg, 'base/resaved:v1')
    assert.notEqual(resaved.doc.layers[0].digest, L1.digest, 'other gzip bytes')
    assert.deepEqual((await configOf(reg, 'base/resaved:v1')).rootfs.diff_ids, [L1.diffId], 'same diff_ids')
    const r = await runCli(['rebase', `${reg.host}/app/x:v1`, '--old-base', `${reg.host}/base/resaved:v1`, '--new-base', `${reg.host}/base/two:v1`, '-t', `${reg.host}/app/x:resaved`])
    assert.equal(r.code, 0, r.stderr)
    const got = await raw(reg, 'app/x:resaved')
    assert.deepEqual(got.doc.layers.map((l: Json) => l.digest), [M1.digest, M2.digest, A1.digest])
    assert.deepEqual((await configOf(reg, 'app/x:resaved')).rootfs.diff_ids, [M1.diffId, M2.diffId, A1.diffId])
    const other = await runCli(['rebase', `${reg.host}/app/x:v1`, '--old-base', `${reg.host}/base/two:v1`, '--new-base', `${reg.host}/base/one:v1`, '-t', `${reg.host}/app/x:never`])
    assert.equal(other.code, 2, other.stderr)
    assert.match(other.stderr, /is not based on/)
  })

  it('a base annotation naming local container storage (localhost/base:1, as buildah writes) says so (issue 16)', async () => {
    const annotated = image([L1, A1], {history: [...base1History, ...appHistory], annotations: {'org.opencontainers.image.base.name': 'localhost/base:1', 'org.opencontainers.image.base.digest': base1.digest}})
    await push(reg, 'app/local:v1', annotated)
    const r = await runCli(['rebase', `${reg.host}/app/local:v1`, '-t', `${reg.host}/app/local:rebased`])
    assert.equal(r.code, 2, r.stderr)
    assert.match(r.stderr, /^Error: .*localhost\/base:1 names an image in local container storage \(podman\/buildah\), not in a registry/)
  })
})
