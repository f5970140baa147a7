import assert from 'node:assert/strict'
import * as fsp from 'node:fs/promises'
import * as path from 'node:path'
import {after, before, describe, it} from 'node:test'

import {ExitCode, isOcitoolError} from '../../../src/lib/errors.js'
import {MediaType} from '../../../src/lib/oci/media-types.js'
import {DockerArchiveSink, OciArchiveSink, OciArchiveSource, TarReader, tagOfName} from '../../../src/lib/tarball/index.js'
import {type BuiltImage, type BuiltIndex, buildImage, buildIndex} from '../../support/fixtures.js'
import {type TmpDir, tmpDir} from '../../support/tmp.js'
import {blobDigest, descriptorsOf, listDir, packTar, putImage, putIndex, readAll, writeImages} from './helpers.js'

let tmp: TmpDir
let index: BuiltIndex
let single: BuiltImage
before(async () => {
  tmp = await tmpDir('oci-archive')
  index = await buildIndex('oa-index')
  single = await buildImage({layers: 2, seed: 'oa-single', mediaTypes: 'docker'})
})
after(async () => {
  await tmp.remove()
})

describe('tagOfName', () => {
  for (const c of [
    {in: 'v1', want: 'v1'},
    {in: 'repo:v1', want: 'v1'},
    {in: '127.0.0.1:5000/repo:v1', want: 'v1'},
    {in: '127.0.0.1:5000/repo', want: undefined},
    {in: `repo@sha256:${'a'.repeat(64)}`, want: undefined},
  ]) {
    it(c.in, () => assert.equal(tagOfName(c.in), c.want))
  }
})

describe('oci archive round trip', () => {
  it('an index with its images: same digests, names as ref.name, oci-layout first', async () => {
    const file = path.join(tmp.path, 'index.tar')
    const sink = new OciArchiveSink(file)
    await putIndex(sink, index, ['127.0.0.1:5000/multi:v1'])
    await sink.commit()

    const reader = await TarReader.open(file)
    const names = reader.entries().map((e) => e.name)
    assert.equal(names[0], 'oci-layout')
    assert.equal(names.at(-1), 'index.json')
    const top = JSON.parse((await reader.readBytes('index.json', 1e6)).toString())
    assert.deepEqual(top, {
      schemaVersion: 2,
      mediaType: MediaType.ociIndex,
      manifests: [{mediaType: index.mediaType, digest: index.manifestDigest, size: index.manifestBytes.length, annotations: {'org.opencontainers.image.ref.name': 'v1'}}],
    })

    const source = new OciArchiveSource(file)
    const [root] = await source.roots()
    assert.equal(root.digest, index.manifestDigest)
    assert.ok(root.bytes.equals(index.manifestBytes))
    assert.deepEqual(root.names, ['v1'])
    for (const im of index.images) {
      const m = await source.manifest({mediaType: im.mediaType, digest: im.manifestDigest, size: im.manifestBytes.length})
      assert.ok(m.bytes.equals(im.manifestBytes))
      for (const [digest, bytes] of im.blobs) {
        assert.ok((await readAll(await source.blob({mediaType: 'x', digest, size: bytes.length}))).equals(bytes))
      }
    }
  })

  it('several roots; a tag picks one; an unknown tag is NotFoundError listing the names', async () => {
    const file = path.join(tmp.path, 'two.tar')
    const sink = new OciArchiveSink(file)
    await putIndex(sink, index, ['multi'])
    await putImage(sink, single, ['one:a', 'one:b'])
    await sink.commit()
    const all = await new OciArchiveSource(file).roots()
    assert.deepEqual(all.map((r) => [r.digest, r.names]), [[index.manifestDigest, ['multi']], [single.manifestDigest, ['a', 'b']]])
    const picked = await new OciArchiveSource(file, {tag: 'b'}).roots()
    assert.deepEqual(picked.map((r) => r.digest), [single.manifestDigest])
    assert.equal(await blobDigest(new OciArchiveSource(file, {tag: 'b'}), descriptorsOf(single).layers[0]), single.layerDigests[0])
    await assert.rejects(new OciArchiveSource(file, {tag: 'zzz'}).roots(), (e) => {
      assert.ok(isOcitoolError(e))
      return e.exitCode === ExitCode.NotFound && e.suggestions.join().includes('multi, a, b')
    })
  })

  it('a name moves to the root written last; unnamed roots are listed without ref.name; full names on request', async () => {
    const file = path.join(tmp.path, 'names.tar')
    const sink = new OciArchiveSink(file, {annotateRef: 'full'})
    await putImage(sink, single, ['reg/x:latest'])
    await putIndex(sink, index, ['reg/x:latest'])
    const other = await buildImage({layers: 1, seed: 'oa-unnamed', mediaTypes: 'oci'})
    await putImage(sink, other, [])
    await sink.commit()
    const roots = await new OciArchiveSource(file).roots()
    assert.deepEqual(roots.map((r) => [r.digest, r.names]), [[index.manifestDigest, ['reg/x:latest']], [other.manifestDigest, []]])
  })

  it('abort leaves nothing', async () => {
    const dir = path.join(tmp.path, 'abort')
    await fsp.mkdir(dir)
    const sink = new OciArchiveSink(path.join(dir, 'out.tar'))
    await putImage(sink, single, ['a'])
    await sink.abort()
    assert.deepEqual(await listDir(dir), [])
  })
})

describe('OciArchiveSource errors', () => {
  it('a docker archive is NotFoundError with a hint', async () => {
    const file = path.join(tmp.path, 'docker.tar')
    await writeImages(new DockerArchiveSink(file), [{image: single, names: ['a/b:c']}])
    await assert.rejects(new OciArchiveSource(file).roots(), (e) => {
      assert.ok(isOcitoolError(e))
      return e.exitCode === ExitCode.NotFound && e.suggestions.some((s) => s.includes('docker-archive:'))
    })
  })

  it('index.json naming a missing manifest is NotFoundError; a wrong layout version is refused', async () => {
    const file = path.join(tmp.path, 'broken.tar')
    const idx = {schemaVersion: 2, manifests: [{mediaType: MediaType.ociManifest, digest: single.manifestDigest, size: 10}]}
    await fsp.writeFile(file, await packTar([{name: 'oci-layout', body: '{"imageLayoutVersion":"1.0.0"}'}, {name: 'index.json', body: JSON.stringify(idx)}]))
    await assert.rejects(new OciArchiveSource(file).roots(), (e) => isOcitoolError(e) && e.exitCode === ExitCode.NotFound && e.message.includes(single.manifestDigest))
    const v2 = path.join(tmp.path, 'v2.tar')
    await fsp.writeFile(v2, await packTar([{name: 'oci-layout', body: '{"imageLayoutVersion":"2.0.0"}'}, {name: 'index.json', body: JSON.stringify(idx)}]))
    await assert.rejects(new OciArchiveSource(v2).roots(), (e) => isOcitoolError(e) && e.code === 'BAD_LAYOUT')
  })

  it('a manifest whose bytes do not match its digest is an IntegrityError', async () => {
    const file = path.join(tmp.path, 'tampered.tar')
    const idx = {schemaVersion: 2, manifests: [{mediaType: single.mediaType, digest: single.manifestDigest, size: single.manifestBytes.length}]}
    const tampered = Buffer.from(single.manifestBytes.toString().replace('"schemaVersion":2', '"schemaVersion": 2'))
    await fsp.writeFile(file, await packTar([
      {name: 'index.json', body: JSON.stringify(idx)},
      {name: `blobs/sha256/${single.manifestDigest.slice(7)}`, body: tampered},
    ]))
    await assert.rejects(new OciArchiveSource(file).roots(), (e) => isOcitoolError(e) && e.exitCode === ExitCode.Integrity)
  })
})
