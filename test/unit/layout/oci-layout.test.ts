import assert from 'node:assert/strict'
import * as fs from 'node:fs'
import * as fsp from 'node:fs/promises'
import * as path from 'node:path'
import {Readable} from 'node:stream'
import {after, describe, it} from 'node:test'

import {isOcitoolError} from '../../../src/lib/errors.js'
import {verify} from '../../../src/lib/io/verify.js'
import {OciLayoutSink, OciLayoutSource, REF_NAME_ANNOTATION, blobPath, tagOfName} from '../../../src/lib/layout/index.js'
import type {Descriptor} from '../../../src/lib/oci/types.js'
import {buildImage, buildIndex, sha256, writeOciLayout} from '../../support/fixtures.js'
import {tmpDir, type TmpDir} from '../../support/tmp.js'
import {collect, descriptorsOf, failingStream, readGraph, tempFilesUnder, writeImage, writeIndexTo} from './helpers.js'

const dirs: TmpDir[] = []
async function fresh(): Promise<string> {
  const d = await tmpDir('layout-unit')
  dirs.push(d)
  return d.path
}
after(async () => {
  for (const d of dirs) await d.remove()
})

interface IndexJson {
  schemaVersion: number
  mediaType?: string
  manifests: Descriptor[]
}
const readIndexJson = async (dir: string): Promise<IndexJson> => JSON.parse(await fsp.readFile(path.join(dir, 'index.json'), 'utf8')) as IndexJson
const refNames = (index: IndexJson) => index.manifests.map((d) => d.annotations?.[REF_NAME_ANNOTATION])

/** rejectsWith checks an ocitool error by code and exit code, and that the message mentions each part. */
async function rejectsWith(p: Promise<unknown>, want: {code: string; exitCode: number; mentions?: string[]}): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isOcitoolError(e), `not an ocitool error: ${String(e)}`)
    assert.equal(e.code, want.code, e.message)
    assert.equal(e.exitCode, want.exitCode, e.message)
    for (const m of want.mentions ?? []) assert.ok(e.message.includes(m), `${JSON.stringify(e.message)} does not mention ${m}`)
    return true
  })
}

describe('OciLayoutSink then OciLayoutSource', () => {
  it('round-trips an image under a tag: same digests, same bytes', async () => {
    const dir = await fresh()
    const image = await buildImage({layers: 2, seed: 'rt-image', mediaTypes: 'oci'})
    const sink = new OciLayoutSink(dir, {tag: 'v1'})
    await writeImage(sink, image, ['127.0.0.1:5000/app:ignored'])
    await sink.commit()

    assert.deepEqual(JSON.parse(await fsp.readFile(path.join(dir, 'oci-layout'), 'utf8')), {imageLayoutVersion: '1.0.0'})
    const index = await readIndexJson(dir)
    assert.equal(index.schemaVersion, 2)
    assert.deepEqual(index.manifests, [{
      mediaType: image.mediaType, digest: image.manifestDigest, size: image.manifestBytes.length,
      annotations: {[REF_NAME_ANNOTATION]: 'v1'},
    }])

    const got = await readGraph(new OciLayoutSource(dir, {tag: 'v1'}))
    assert.deepEqual(got.roots, [{digest: image.manifestDigest, mediaType: image.mediaType, names: ['v1']}])
    assert.deepEqual(got.manifests.get(image.manifestDigest), image.manifestBytes)
    assert.deepEqual(new Map(got.blobs), image.blobs)
    assert.deepEqual(await tempFilesUnder(dir), [])
  })

  it('round-trips an index, children before parent', async () => {
    const dir = await fresh()
    const index = await buildIndex('rt-index')
    const sink = new OciLayoutSink(dir)
    await writeIndexTo(sink, index, ['registry.example:5000/team/app:2.0'])
    await sink.commit()

    const got = await readGraph(new OciLayoutSource(dir))
    assert.deepEqual(got.roots, [{digest: index.manifestDigest, mediaType: index.mediaType, names: ['2.0']}])
    assert.equal(got.manifests.size, 4)
    for (const im of index.images) {
      assert.deepEqual(got.manifests.get(im.manifestDigest), im.manifestBytes)
      for (const [d, bytes] of im.blobs) assert.deepEqual(got.blobs.get(d), bytes)
    }
    for (const [d, bytes] of got.manifests) assert.equal(sha256(bytes), d)
  })

  for (const c of [
    {annotateRef: 'tag' as const, names: ['host:5000/repo:v3', 'repo:v3', 'other@sha256:' + '0'.repeat(64)], want: ['v3']},
    {annotateRef: 'full' as const, names: ['host:5000/repo:v3', 'repo:v4'], want: ['host:5000/repo:v3', 'repo:v4']},
    {annotateRef: 'none' as const, names: ['host:5000/repo:v3'], want: [undefined]},
    {annotateRef: 'tag' as const, names: [], want: [undefined]},
  ]) {
    it(`annotateRef ${c.annotateRef} with names ${JSON.stringify(c.names)}`, async () => {
      const dir = await fresh()
      const image = await buildImage({layers: 1, seed: 'annotate', mediaTypes: 'oci'})
      const sink = new OciLayoutSink(dir, {annotateRef: c.annotateRef})
      await writeImage(sink, image, c.names)
      await sink.commit()
      const index = await readIndexJson(dir)
      assert.deepEqual(refNames(index), c.want)
      assert.ok(index.manifests.every((d) => d.digest === image.manifestDigest))
    })
  }

  it('adds to an existing layout, keeping its entries, and replaces an entry of the same name', async () => {
    const dir = await fresh()
    const existing = await writeOciLayout(dir, {seed: 'existing', tag: 'latest'})
    const before = await readIndexJson(dir)

    const one = await buildImage({layers: 1, seed: 'added-one', mediaTypes: 'oci'})
    const s1 = new OciLayoutSink(dir, {tag: 'v1'})
    await writeImage(s1, one, [])
    await s1.commit()
    let index = await readIndexJson(dir)
    assert.deepEqual(index.manifests[0], before.manifests[0])
    assert.deepEqual(refNames(index), ['latest', 'v1'])

    // a docker-typed image under "latest" replaces the old "latest" entry; v1 stays
    const two = await buildImage({layers: 1, seed: 'added-two', mediaTypes: 'docker'})
    const s2 = new OciLayoutSink(dir, {tag: 'latest'})
    await writeImage(s2, two, [])
    await s2.commit()
    index = await readIndexJson(dir)
    assert.deepEqual(refNames(index), ['v1', 'latest'])
    assert.deepEqual(index.manifests.map((d) => d.digest), [one.manifestDigest, two.manifestDigest])
    assert.equal(index.manifests[1]!.mediaType, two.mediaType)

    // the old index's blobs are still there (content-addressed, never deleted by a sink)
    assert.ok(fs.existsSync(blobPath(dir, existing.manifestDigest)))
    const roots = await new OciLayoutSource(dir).roots()
    assert.deepEqual(roots.map((r) => [r.digest, r.names]), [[one.manifestDigest, ['v1']], [two.manifestDigest, ['latest']]])
  })

  it('makes one root of entries that share a digest, with every name', async () => {
    const dir = await fresh()
    const image = await buildImage({layers: 1, seed: 'two-names', mediaTypes: 'oci'})
    const sink = new OciLayoutSink(dir, {annotateRef: 'full'})
    await writeImage(sink, image, ['a:1', 'b:2'])
    await sink.commit()
    assert.equal((await readIndexJson(dir)).manifests.length, 2)
    const roots = await new OciLayoutSource(dir).roots()
    assert.deepEqual(roots.map((r) => r.names), [['a:1', 'b:2']])
  })

  it('refuses a second root under one tag', async () => {
    const dir = await fresh()
    const sink = new OciLayoutSink(dir, {tag: 'only'})
    await writeImage(sink, await buildImage({layers: 1, seed: 'r1', mediaTypes: 'oci'}), ['x:1'])
    await rejectsWith(writeImage(sink, await buildImage({layers: 1, seed: 'r2', mediaTypes: 'oci'}), ['x:2']), {code: 'USAGE', exitCode: 2})
    await sink.abort()
  })

  it('commits from two sinks at once without losing either entry', async () => {
    const dir = await fresh()
    const a = await buildImage({layers: 1, seed: 'par-a', mediaTypes: 'oci'})
    const b = await buildImage({layers: 1, seed: 'par-b', mediaTypes: 'oci'})
    const sa = new OciLayoutSink(dir, {tag: 'a'})
    const sb = new OciLayoutSink(dir, {tag: 'b'})
    await Promise.all([writeImage(sa, a, []), writeImage(sb, b, [])])
    await Promise.all([sa.commit(), sb.commit()])
    assert.deepEqual(refNames(await readIndexJson(dir)).sort(), ['a', 'b'])
  })
})

describe('OciLayoutSink failures', () => {
  it('abort leaves index.json unchanged and no temporary files', async () => {
    const dir = await fresh()
    await writeOciLayout(dir, {seed: 'abort-existing', tag: 'latest'})
    const before = await fsp.readFile(path.join(dir, 'index.json'))
    const image = await buildImage({layers: 3, seed: 'aborted', mediaTypes: 'oci'})
    const sink = new OciLayoutSink(dir, {tag: 'latest'})
    const [config, layer0, layer1] = descriptorsOf(image)
    await sink.putBlob(config!, Readable.from([image.blobs.get(config!.digest)!]))
    await sink.putManifest({bytes: image.manifestBytes, mediaType: image.mediaType, digest: image.manifestDigest}, {root: true, names: []})
    // one blob still streaming when the engine aborts
    const slow = new Readable({read() {}})
    slow.push(image.blobs.get(layer0!.digest)!.subarray(0, 10))
    const pending = sink.putBlob(layer0!, slow)
    for (let i = 0; i < 200 && (await tempFilesUnder(dir)).length === 0; i++) await new Promise((r) => setTimeout(r, 10))
    assert.equal((await tempFilesUnder(dir)).length, 1)
    // expect the rejection before aborting: it may settle during abort()
    const pendingRejected = assert.rejects(pending)
    await sink.abort()
    await pendingRejected
    await assert.rejects(sink.putBlob(layer1!, Readable.from([image.blobs.get(layer1!.digest)!])))
    await rejectsWith(sink.commit(), {code: 'STORE_CLOSED', exitCode: 1})

    assert.deepEqual(await fsp.readFile(path.join(dir, 'index.json')), before)
    assert.deepEqual(await tempFilesUnder(dir), [])
    assert.equal(fs.existsSync(blobPath(dir, layer0!.digest)), false)
  })

  it('a blob whose stream fails mid-way leaves no file', async () => {
    const dir = await fresh()
    const image = await buildImage({layers: 1, seed: 'fail-mid', mediaTypes: 'oci'})
    const layer = descriptorsOf(image)[1]!
    const sink = new OciLayoutSink(dir)
    await assert.rejects(sink.putBlob(layer, failingStream(image.blobs.get(layer.digest)!.subarray(0, 100))), /connection reset/)
    assert.equal(fs.existsSync(blobPath(dir, layer.digest)), false)
    assert.deepEqual(await tempFilesUnder(dir), [])
    assert.equal(await sink.hasBlob(layer), false)
  })

  it('a blob that fails verification leaves no file', async () => {
    const dir = await fresh()
    const image = await buildImage({layers: 1, seed: 'fail-verify', mediaTypes: 'oci'})
    const layer = descriptorsOf(image)[1]!
    const wrong = Buffer.from(image.blobs.get(layer.digest)!)
    wrong[wrong.length - 1] ^= 0xff
    const sink = new OciLayoutSink(dir)
    await rejectsWith(sink.putBlob(layer, Readable.from([wrong]).pipe(verify(layer.digest, layer.size))), {code: 'DIGEST_MISMATCH', exitCode: 6})
    assert.equal(fs.existsSync(blobPath(dir, layer.digest)), false)
    assert.deepEqual(await tempFilesUnder(dir), [])
  })

  it('hasBlob is false for a file of the wrong size', async () => {
    const dir = await fresh()
    const image = await buildImage({layers: 1, seed: 'has-blob', mediaTypes: 'oci'})
    const layer = descriptorsOf(image)[1]!
    const sink = new OciLayoutSink(dir)
    await fsp.mkdir(path.dirname(blobPath(dir, layer.digest)), {recursive: true})
    await fsp.writeFile(blobPath(dir, layer.digest), 'short')
    assert.equal(await sink.hasBlob(layer), false)
    await sink.putBlob(layer, Readable.from([image.blobs.get(layer.digest)!]))
    assert.equal(await sink.hasBlob(layer), true)
  })

  it('puts the same blobs concurrently', async () => {
    const dir = await fresh()
    const image = await buildImage({layers: 4, seed: 'concurrent', mediaTypes: 'oci'})
    const sink = new OciLayoutSink(dir)
    const descs = descriptorsOf(image)
    await Promise.all([...descs, ...descs].map((d) => sink.putBlob(d, Readable.from([image.blobs.get(d.digest)!]))))
    for (const d of descs) assert.deepEqual(await fsp.readFile(blobPath(dir, d.digest)), image.blobs.get(d.digest))
    assert.deepEqual(await tempFilesUnder(dir), [])
  })

  it('refuses a path that is a file', async () => {
    const dir = await fresh()
    const file = path.join(dir, 'file')
    await fsp.writeFile(file, 'x')
    await rejectsWith(new OciLayoutSink(file).hasBlob(descriptorsOf(await buildImage({layers: 1, seed: 'f', mediaTypes: 'oci'}))[0]!), {code: 'USAGE', exitCode: 2})
  })

  it('refuses a layout of another major version', async () => {
    const dir = await fresh()
    await fsp.writeFile(path.join(dir, 'oci-layout'), '{"imageLayoutVersion":"2.0.0"}')
    const sink = new OciLayoutSink(dir)
    await rejectsWith(sink.commit(), {code: 'BAD_LAYOUT', exitCode: 1, mentions: ['2.0.0']})
  })
})

describe('OciLayoutSource errors', () => {
  it('a directory without index.json', async () => {
    const dir = await fresh()
    await rejectsWith(new OciLayoutSource(dir).roots(), {code: 'NOT_FOUND', exitCode: 3, mentions: [dir, 'index.json']})
  })

  it('a directory that does not exist', async () => {
    const dir = path.join(await fresh(), 'nope')
    await rejectsWith(new OciLayoutSource(dir, {tag: 'x'}).roots(), {code: 'NOT_FOUND', exitCode: 3, mentions: [dir]})
  })

  it('a tag that is not there names the tags it has', async () => {
    const dir = await fresh()
    await writeOciLayout(dir, {seed: 'tags', tag: 'stable'})
    await rejectsWith(new OciLayoutSource(dir, {tag: 'beta'}).roots(), {code: 'NOT_FOUND', exitCode: 3, mentions: ['"beta"', '"stable"']})
  })

  it('a layout ctr images export wrote: ref.name holds the tag, io.containerd.image.name the full name', async () => {
    const dir = await fresh()
    const built = await writeOciLayout(dir, {seed: 'ctr-export', tag: '1'})
    const index = await readIndexJson(dir)
    const child = built.images[0]!
    index.manifests[0] = {...index.manifests[0]!, annotations: {'io.containerd.image.name': 'localhost/multi:1', [REF_NAME_ANNOTATION]: '1'}}
    index.manifests.push({mediaType: child.mediaType, digest: child.manifestDigest, size: child.manifestBytes.length, annotations: {'io.containerd.image.name': 'localhost/one:1', [REF_NAME_ANNOTATION]: '1'}})
    await fsp.writeFile(path.join(dir, 'index.json'), JSON.stringify(index))
    for (const [tag, digest] of [['localhost/multi:1', built.manifestDigest], ['localhost/one:1', child.manifestDigest]]) {
      assert.deepEqual((await new OciLayoutSource(dir, {tag}).roots()).map((r) => r.digest), [digest], tag)
    }
    await rejectsWith(new OciLayoutSource(dir, {tag: '1'}).roots(), {code: 'AMBIGUOUS_TAG', exitCode: 1})
    await rejectsWith(new OciLayoutSource(dir, {tag: 'localhost/two:1'}).roots(), {code: 'NOT_FOUND', exitCode: 3, mentions: ['"localhost/multi:1"', '"localhost/one:1"']})
  })

  it('an index.json that is not an index', async () => {
    const dir = await fresh()
    await fsp.writeFile(path.join(dir, 'index.json'), '{"schemaVersion":2,"manifests":"nope"}')
    await rejectsWith(new OciLayoutSource(dir).roots(), {code: 'BAD_LAYOUT', exitCode: 1, mentions: ['index.json']})
  })

  it('a corrupted manifest blob is an IntegrityError', async () => {
    const dir = await fresh()
    const built = await writeOciLayout(dir, {seed: 'corrupt', tag: 'latest'})
    const child = built.images[1]!
    const file = blobPath(dir, child.manifestDigest)
    await fsp.writeFile(file, Buffer.from(child.manifestBytes.toString('utf8').replace('"schemaVersion":2', '"schemaVersion":3')))
    await rejectsWith(readGraph(new OciLayoutSource(dir, {tag: 'latest'})), {code: 'DIGEST_MISMATCH', exitCode: 6, mentions: [child.manifestDigest]})
  })

  it('a missing blob is a NotFoundError naming its path', async () => {
    const dir = await fresh()
    const built = await writeOciLayout(dir, {seed: 'missing-blob', tag: 'latest'})
    const image = built.images[0]!
    const layer = descriptorsOf(image)[1]!
    await fsp.rm(blobPath(dir, layer.digest))
    await rejectsWith(new OciLayoutSource(dir).blob(layer), {code: 'NOT_FOUND', exitCode: 3, mentions: [blobPath(dir, layer.digest)]})
    const config = descriptorsOf(image)[0]!
    assert.deepEqual(await collect(await new OciLayoutSource(dir).blob(config)), image.configBytes)
  })
})

describe('tagOfName', () => {
  for (const c of [
    {in: 'v1', want: 'v1'},
    {in: 'repo:v1', want: 'v1'},
    {in: 'host:5000/team/repo:1.2', want: '1.2'},
    {in: 'host:5000/team/repo', want: undefined},
    {in: 'repo@sha256:' + 'a'.repeat(64), want: undefined},
    {in: 'repo:v2@sha256:' + 'a'.repeat(64), want: 'v2'},
  ]) {
    it(c.in, () => assert.equal(tagOfName(c.in), c.want))
  }
})
