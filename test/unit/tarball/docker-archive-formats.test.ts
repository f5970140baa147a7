import assert from 'node:assert/strict'
import * as fsp from 'node:fs/promises'
import * as path from 'node:path'
import {Readable} from 'node:stream'
import {pipeline} from 'node:stream/promises'
import {after, before, describe, it} from 'node:test'
import * as zlib from 'node:zlib'

import {ExitCode, isOcitoolError} from '../../../src/lib/errors.js'
import {verify} from '../../../src/lib/io/verify.js'
import {MediaType} from '../../../src/lib/oci/media-types.js'
import type {Descriptor, ImageManifest} from '../../../src/lib/oci/types.js'
import {DockerArchiveSink, DockerArchiveSource, detectCompression, gzipLayer, measureGzip} from '../../../src/lib/tarball/index.js'
import {type BuiltImage, buildImage, seededBytes, sha256} from '../../support/fixtures.js'
import {type TmpDir, tmpDir} from '../../support/tmp.js'
import {blobDigest, descriptorsOf, packTar, readAll, writeImages} from './helpers.js'
import {corruptEntry, writeDocker25Archive, writeLegacyArchive} from './legacy.js'

let tmp: TmpDir
let image: BuiltImage
before(async () => {
  tmp = await tmpDir('docker-formats')
  image = await buildImage({layers: 2, seed: 'formats', mediaTypes: 'oci'})
})
after(async () => {
  await tmp.remove()
})

const manifestOf = (bytes: Buffer) => JSON.parse(bytes.toString()) as ImageManifest

/** drainVerified streams a blob through verify() against its descriptor. */
async function drainVerified(source: DockerArchiveSource, d: Descriptor): Promise<void> {
  await pipeline(await source.blob(d), verify(d.digest, d.size), async function* (chunks) {
    for await (const _ of chunks);
  })
}

describe('compression', () => {
  it('detects by magic bytes, not names', () => {
    assert.equal(detectCompression(zlib.gzipSync(Buffer.from('x'))), 'gzip')
    assert.equal(detectCompression(Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0])), 'zstd')
    assert.equal(detectCompression(Buffer.from('ustar')), 'none')
    assert.equal(detectCompression(Buffer.alloc(0)), 'none')
  })

  it('gzipLayer is deterministic, whatever the chunking', async () => {
    const input = seededBytes('gzip-determinism', 2 * 1024 * 1024 + 11)
    const chunked = (size: number) =>
      Readable.from(
        (function* () {
          for (let i = 0; i < input.length; i += size) yield input.subarray(i, i + size)
        })(),
      )
    const a = await measureGzip(chunked(1024 * 1024))
    const b = await measureGzip(chunked(777))
    const c = sha256(await readAll(chunked(64 * 1024).pipe(gzipLayer())))
    assert.equal(a.digest, b.digest)
    assert.equal(a.digest, c)
    assert.equal(a.diffId, sha256(input))
    assert.ok(zlib.gunzipSync(await readAll(chunked(4096).pipe(gzipLayer()))).equals(input))
  })
})

describe('legacy docker save (uncompressed layers, symlinks)', () => {
  let file: string
  let built: Awaited<ReturnType<typeof writeLegacyArchive>>
  before(async () => {
    file = path.join(tmp.path, 'legacy.tar')
    built = await writeLegacyArchive(file, [
      {tag: 'legacy:1', layers: ['base', 'app']},
      {tag: 'legacy:2', layers: ['base', 'other']},
    ])
  })

  it('synthesises schema 2 manifests with gzip layers; blob() yields exactly the claimed bytes, twice', async () => {
    const source = new DockerArchiveSource(file)
    const roots = await source.roots()
    assert.deepEqual(roots.map((r) => r.names), [['legacy:1'], ['legacy:2']])
    for (const [n, root] of roots.entries()) {
      assert.equal(root.mediaType, MediaType.dockerManifest)
      assert.equal(root.digest, sha256(root.bytes))
      const m = manifestOf(root.bytes)
      assert.deepEqual(m.config, {mediaType: MediaType.dockerConfig, size: built.images[n].configBytes.length, digest: built.images[n].configDigest})
      assert.ok((await readAll(await source.blob(m.config))).equals(built.images[n].configBytes))
      for (const [i, d] of m.layers.entries()) {
        assert.equal(d.mediaType, MediaType.dockerLayer)
        for (let run = 0; run < 2; run++) {
          const bytes = await readAll(await source.blob(d))
          assert.equal(sha256(bytes), d.digest)
          assert.equal(bytes.length, d.size)
          assert.ok(zlib.gunzipSync(bytes).equals(built.images[n].raw[i]))
        }
        await drainVerified(source, d)
      }
    }
    // the shared base layer (a symlink in the second image) has the same descriptor
    assert.deepEqual(manifestOf(roots[0].bytes).layers[0], manifestOf(roots[1].bytes).layers[0])
  })

  it('a legacy archive re-saved by ocitool keeps the synthesised digest', async () => {
    const source = new DockerArchiveSource(file, {tag: 'legacy:1'})
    const [root] = await source.roots()
    const m = manifestOf(root.bytes)
    const out = path.join(tmp.path, 'legacy-resaved.tar')
    const sink = new DockerArchiveSink(out)
    for (const d of [m.config, ...m.layers]) await sink.putBlob(d, await source.blob(d))
    await sink.putManifest(root, {root: true, names: ['legacy:1']})
    await sink.commit()
    const again = await new DockerArchiveSource(out).roots()
    assert.equal(again[0].digest, root.digest)
  })

  it('a layer that no longer matches its diff id is an IntegrityError when listing roots', async () => {
    const bad = path.join(tmp.path, 'legacy-corrupt.tar')
    await fsp.copyFile(file, bad)
    await corruptEntry(bad, built.images[0].layerFiles[1])
    await assert.rejects(new DockerArchiveSource(bad, {tag: 'legacy:1'}).roots(), (e) => isOcitoolError(e) && e.exitCode === ExitCode.Integrity)
  })

  it('a layer corrupted after the roots were listed fails verify() of blob()', async () => {
    const bad = path.join(tmp.path, 'legacy-corrupt-later.tar')
    await fsp.copyFile(file, bad)
    const source = new DockerArchiveSource(bad, {tag: 'legacy:1'})
    const m = manifestOf((await source.roots())[0].bytes)
    await corruptEntry(bad, built.images[0].layerFiles[1])
    await assert.rejects(drainVerified(source, m.layers[1]), (e) => isOcitoolError(e) && e.exitCode === ExitCode.Integrity)
    await drainVerified(source, m.layers[0])
  })
})

describe('ocitool / crane archives with a corrupt layer', () => {
  it('verify() of blob() fails (the digest comes from the file name)', async () => {
    const file = path.join(tmp.path, 'corrupt-gz.tar')
    await writeImages(new DockerArchiveSink(file), [{image, names: ['x/y:1']}])
    const {layers} = descriptorsOf(image)
    await corruptEntry(file, `${layers[1].digest.slice(7)}.tar.gz`)
    const source = new DockerArchiveSource(file)
    assert.equal((await source.roots())[0].digest, image.manifestDigest)
    await assert.rejects(drainVerified(source, layers[1]), (e) => isOcitoolError(e) && e.exitCode === ExitCode.Integrity)
    await drainVerified(source, layers[0])
  })
})

describe('docker 25+ archives (OCI layout inside)', () => {
  it('restores the exact manifest from index.json', async () => {
    const file = path.join(tmp.path, 'd25.tar')
    await writeDocker25Archive(file, image, {withIndex: true, tag: 'app:25'})
    const source = new DockerArchiveSource(file)
    const [root] = await source.roots()
    assert.equal(root.digest, image.manifestDigest)
    assert.deepEqual(root.names, ['app:25'])
    for (const d of [descriptorsOf(image).config, ...descriptorsOf(image).layers]) assert.equal(await blobDigest(source, d), d.digest)
  })

  it('without index.json, synthesises a manifest with the same config and layer digests', async () => {
    const file = path.join(tmp.path, 'd25-noindex.tar')
    await writeDocker25Archive(file, image, {withIndex: false, tag: 'app:25'})
    const source = new DockerArchiveSource(file)
    const m = manifestOf((await source.roots())[0].bytes)
    assert.equal(m.mediaType, MediaType.dockerManifest)
    assert.equal(m.config.digest, image.configDigest)
    assert.deepEqual(m.layers.map((l) => l.digest), image.layerDigests)
    for (const d of [m.config, ...m.layers]) await drainVerified(source, d)
  })
})

describe('unusual and broken archives', () => {
  it('zstd layers make an OCI manifest; the digest is the file hash', async () => {
    const config = Buffer.from(JSON.stringify({architecture: 'amd64', os: 'linux', rootfs: {type: 'layers', diff_ids: [sha256('whatever')]}}))
    const zst = Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), seededBytes('zst', 300)])
    const file = path.join(tmp.path, 'zstd.tar')
    await fsp.writeFile(
      file,
      await packTar([
        {name: 'config.json', body: config},
        {name: 'layer-one', body: zst},
        {name: 'manifest.json', body: JSON.stringify([{Config: 'config.json', RepoTags: null, Layers: ['layer-one']}])},
      ]),
    )
    const [root] = await new DockerArchiveSource(file).roots()
    const m = manifestOf(root.bytes)
    assert.equal(root.mediaType, MediaType.ociManifest)
    assert.equal(m.config.mediaType, MediaType.ociConfig)
    assert.deepEqual(m.layers, [{mediaType: MediaType.ociLayerZstd, size: zst.length, digest: sha256(zst)}])
    assert.deepEqual(root.names, [])
  })

  it('an archive without manifest.json is NotFoundError, with a hint for OCI archives', async () => {
    const file = path.join(tmp.path, 'no-manifest.tar')
    await fsp.writeFile(file, await packTar([{name: 'index.json', body: '{}'}, {name: 'oci-layout', body: '{}'}]))
    await assert.rejects(new DockerArchiveSource(file).roots(), (e) => {
      assert.ok(isOcitoolError(e))
      return e.exitCode === ExitCode.NotFound && e.message.includes('manifest.json') && e.suggestions.some((s) => s.includes('oci-archive:'))
    })
  })

  it('manifest.json naming a missing layer is NotFoundError naming archive and file', async () => {
    const file = path.join(tmp.path, 'missing-layer.tar')
    const config = image.configBytes
    await fsp.writeFile(
      file,
      await packTar([
        {name: 'sha256:cfg', body: config},
        {name: 'manifest.json', body: JSON.stringify([{Config: 'sha256:cfg', RepoTags: ['a:b'], Layers: ['gone/layer.tar']}])},
      ]),
    )
    await assert.rejects(new DockerArchiveSource(file).roots(), (e) => {
      assert.ok(isOcitoolError(e))
      return e.exitCode === ExitCode.NotFound && e.message.includes('gone/layer.tar') && e.message.includes(`docker-archive:${file}`)
    })
  })

  it('a malformed manifest.json is a BAD_ARCHIVE error naming the field', async () => {
    const file = path.join(tmp.path, 'bad-manifest.tar')
    await fsp.writeFile(file, await packTar([{name: 'manifest.json', body: '[{"Config": 3}]'}]))
    await assert.rejects(new DockerArchiveSource(file).roots(), (e) => isOcitoolError(e) && e.code === 'BAD_ARCHIVE' && e.message.includes('[0].Config'))
  })
})
