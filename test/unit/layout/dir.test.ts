import assert from 'node:assert/strict'
import * as fs from 'node:fs'
import * as fsp from 'node:fs/promises'
import * as path from 'node:path'
import {Readable} from 'node:stream'
import {after, describe, it} from 'node:test'

import {isOcitoolError} from '../../../src/lib/errors.js'
import {DIR_VERSION, DirSink, DirSource} from '../../../src/lib/layout/index.js'
import {buildImage, buildIndex, sha256, writeImageDir} from '../../support/fixtures.js'
import {tmpDir, type TmpDir} from '../../support/tmp.js'
import {collect, descriptorsOf, failingStream, listFiles, readGraph, tempFilesUnder, writeImage, writeIndexTo} from './helpers.js'

const dirs: TmpDir[] = []
async function fresh(): Promise<string> {
  const d = await tmpDir('dir-unit')
  dirs.push(d)
  return d.path
}
after(async () => {
  for (const d of dirs) await d.remove()
})

const hex = (digest: string) => digest.slice(digest.indexOf(':') + 1)

async function rejectsWith(p: Promise<unknown>, want: {code: string; exitCode: number; mentions?: string[]}): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isOcitoolError(e), `not an ocitool error: ${String(e)}`)
    assert.equal(e.code, want.code, e.message)
    assert.equal(e.exitCode, want.exitCode, e.message)
    for (const m of want.mentions ?? []) assert.ok(e.message.includes(m), `${JSON.stringify(e.message)} does not mention ${m}`)
    return true
  })
}

describe('DirSource', () => {
  it('reads a dir: image: manifest.json is the root, by the digest of its bytes', async () => {
    const dir = await fresh()
    const image = await writeImageDir(dir, {layers: 2, seed: 'dir-src', mediaTypes: 'docker'})
    const got = await readGraph(new DirSource(dir))
    assert.deepEqual(got.roots, [{digest: image.manifestDigest, mediaType: image.mediaType, names: []}])
    assert.deepEqual(new Map(got.blobs), image.blobs)
  })

  it('a directory without manifest.json', async () => {
    const dir = await fresh()
    await rejectsWith(new DirSource(dir).roots(), {code: 'NOT_FOUND', exitCode: 3, mentions: [dir, 'manifest.json']})
    await rejectsWith(new DirSource(path.join(dir, 'nope')).roots(), {code: 'NOT_FOUND', exitCode: 3, mentions: ['nope']})
  })

  it('a corrupted child manifest is an IntegrityError', async () => {
    const dir = await fresh()
    const index = await buildIndex('dir-corrupt')
    const sink = new DirSink(dir)
    await writeIndexTo(sink, index, [])
    await sink.commit()
    const child = index.images[2]!
    await fsp.writeFile(path.join(dir, `${hex(child.manifestDigest)}.manifest.json`), Buffer.concat([child.manifestBytes, Buffer.from(' ')]))
    await rejectsWith(readGraph(new DirSource(dir)), {code: 'DIGEST_MISMATCH', exitCode: 6, mentions: [child.manifestDigest]})
  })

  it('a missing blob is a NotFoundError naming its path', async () => {
    const dir = await fresh()
    const image = await writeImageDir(dir, {layers: 1, seed: 'dir-missing', mediaTypes: 'oci'})
    const layer = descriptorsOf(image)[1]!
    await fsp.rm(path.join(dir, hex(layer.digest)))
    await rejectsWith(new DirSource(dir).blob(layer), {code: 'NOT_FOUND', exitCode: 3, mentions: [path.join(dir, hex(layer.digest))]})
  })
})

describe('DirSink', () => {
  it('writes exactly what skopeo dir: holds for an image', async () => {
    const want = await fresh()
    const image = await writeImageDir(want, {layers: 2, seed: 'dir-same', mediaTypes: 'oci'})
    const dir = await fresh()
    const sink = new DirSink(dir)
    await writeImage(sink, image, ['ignored:tag'])
    await sink.commit()
    assert.deepEqual(await listFiles(dir), await listFiles(want))
    for (const f of await listFiles(want)) assert.deepEqual(await fsp.readFile(path.join(dir, f)), await fsp.readFile(path.join(want, f)), f)
    assert.equal(await fsp.readFile(path.join(dir, 'version'), 'utf8'), DIR_VERSION)
  })

  it('round-trips an index: children as <hex>.manifest.json', async () => {
    const dir = await fresh()
    const index = await buildIndex('dir-index')
    const sink = new DirSink(dir)
    await writeIndexTo(sink, index, [])
    await sink.commit()
    assert.deepEqual(await fsp.readFile(path.join(dir, 'manifest.json')), index.manifestBytes)
    for (const im of index.images) {
      assert.deepEqual(await fsp.readFile(path.join(dir, `${hex(im.manifestDigest)}.manifest.json`)), im.manifestBytes)
    }
    const got = await readGraph(new DirSource(dir))
    assert.deepEqual(got.roots, [{digest: index.manifestDigest, mediaType: index.mediaType, names: []}])
    assert.equal(got.manifests.size, 4)
    for (const [d, bytes] of got.manifests) assert.equal(sha256(bytes), d)
    for (const im of index.images) for (const [d, bytes] of im.blobs) assert.deepEqual(got.blobs.get(d), bytes)
  })

  it('refuses a second root', async () => {
    const dir = await fresh()
    const sink = new DirSink(dir)
    await writeImage(sink, await buildImage({layers: 1, seed: 'one', mediaTypes: 'oci'}), [])
    await rejectsWith(writeImage(sink, await buildImage({layers: 1, seed: 'two', mediaTypes: 'oci'}), []), {code: 'USAGE', exitCode: 2})
    await sink.abort()
    assert.deepEqual(await tempFilesUnder(dir), [])
    assert.equal(fs.existsSync(path.join(dir, 'manifest.json')), false)
  })

  it('refuses a non-empty directory that is not a dir: image', async () => {
    const dir = await fresh()
    await fsp.writeFile(path.join(dir, 'precious.txt'), 'keep me')
    const image = await buildImage({layers: 1, seed: 'refuse', mediaTypes: 'oci'})
    await rejectsWith(writeImage(new DirSink(dir), image, []), {code: 'USAGE', exitCode: 2, mentions: [dir]})
    assert.deepEqual(await listFiles(dir), ['precious.txt'])
  })

  it('replaces an earlier image: its unused files go, files it shares stay', async () => {
    const dir = await fresh()
    // same seed, fewer layers: the first layer is the same blob, the config and second layer differ
    const old = await writeImageDir(dir, {layers: 2, seed: 'shared', mediaTypes: 'oci'})
    await fsp.writeFile(path.join(dir, 'signature-1'), 'old signature')
    await fsp.writeFile(path.join(dir, 'notes.txt'), 'not ours')
    const next = await buildImage({layers: 1, seed: 'shared', mediaTypes: 'oci'})
    assert.equal(next.layerDigests[0], old.layerDigests[0])
    const sink = new DirSink(dir)
    await writeImage(sink, next, [])
    await sink.commit()
    const want = ['manifest.json', 'notes.txt', 'version', ...[...next.blobs.keys()].map(hex)].sort()
    assert.deepEqual(await listFiles(dir), want)
    assert.deepEqual((await readGraph(new DirSource(dir))).roots[0]!.digest, next.manifestDigest)
    assert.notEqual(old.manifestDigest, next.manifestDigest)
    assert.equal(fs.existsSync(path.join(dir, hex(old.layerDigests[1]!))), false)
  })

  it('abort keeps the earlier image whole and leaves no temporary files', async () => {
    const dir = await fresh()
    const old = await writeImageDir(dir, {layers: 2, seed: 'keep', mediaTypes: 'docker'})
    const before = await listFiles(dir)
    const next = await buildImage({layers: 2, seed: 'aborted', mediaTypes: 'oci'})
    const sink = new DirSink(dir)
    const [config, layer] = descriptorsOf(next)
    await sink.putBlob(config!, Readable.from([next.blobs.get(config!.digest)!]))
    await sink.putManifest({bytes: next.manifestBytes, mediaType: next.mediaType, digest: next.manifestDigest}, {root: true, names: []})
    await assert.rejects(sink.putBlob(layer!, failingStream(next.blobs.get(layer!.digest)!.subarray(0, 50))), /connection reset/)
    await sink.abort()
    assert.deepEqual(await tempFilesUnder(dir), [])
    assert.equal(fs.existsSync(path.join(dir, hex(layer!.digest))), false)
    // only the completed config blob was added; the old image reads as before
    assert.deepEqual(await listFiles(dir), [...before, hex(config!.digest)].sort())
    const got = await readGraph(new DirSource(dir))
    assert.equal(got.roots[0]!.digest, old.manifestDigest)
  })

  it('streams a blob and reads it back', async () => {
    const dir = await fresh()
    const image = await buildImage({layers: 1, seed: 'stream', mediaTypes: 'oci'})
    const layer = descriptorsOf(image)[1]!
    const sink = new DirSink(dir)
    assert.equal(await sink.hasBlob(layer), false)
    await sink.putBlob(layer, Readable.from([image.blobs.get(layer.digest)!]))
    assert.equal(await sink.hasBlob(layer), true)
    assert.deepEqual(await collect(await new DirSource(dir).blob(layer)), image.blobs.get(layer.digest))
  })
})
