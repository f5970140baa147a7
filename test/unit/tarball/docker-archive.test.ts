import assert from 'node:assert/strict'
import * as fsp from 'node:fs/promises'
import * as path from 'node:path'
import {PassThrough, Readable} from 'node:stream'
import {after, before, describe, it} from 'node:test'

import {ExitCode, isOcitoolError} from '../../../src/lib/errors.js'
import {MediaType} from '../../../src/lib/oci/media-types.js'
import type {Descriptor} from '../../../src/lib/oci/types.js'
import {DockerArchiveSink, DockerArchiveSource, TarReader} from '../../../src/lib/tarball/index.js'
import {type BuiltImage, buildImage, buildIndex, sha256} from '../../support/fixtures.js'
import {type TmpDir, tmpDir} from '../../support/tmp.js'
import {blobDigest, descriptorsOf, listDir, readAll, writeImages} from './helpers.js'

let tmp: TmpDir
let docker: BuiltImage
let oci: BuiltImage
let other: BuiltImage
before(async () => {
  tmp = await tmpDir('docker-archive')
  docker = await buildImage({layers: 2, seed: 'da-docker', mediaTypes: 'docker'})
  oci = await buildImage({layers: 3, seed: 'da-oci', mediaTypes: 'oci'})
  other = await buildImage({layers: 1, seed: 'da-other', mediaTypes: 'docker'})
})
after(async () => {
  await tmp.remove()
})

const hex = (d: string) => d.slice('sha256:'.length)

async function checkSameImage(source: DockerArchiveSource, image: BuiltImage, digest = image.manifestDigest): Promise<void> {
  const root = (await source.roots()).find((r) => r.digest === digest)
  assert.ok(root, `no root ${digest}`)
  const {config, layers} = descriptorsOf(image)
  for (const d of [config, ...layers]) {
    assert.ok((await readAll(await source.blob(d))).equals(image.blobs.get(d.digest)!), d.digest)
  }
}

describe('docker archive round trip (sink, then source)', () => {
  for (const kind of ['docker', 'oci'] as const) {
    it(`${kind} manifest: same digest, exact bytes, same blobs`, async () => {
      const image = kind === 'docker' ? docker : oci
      const file = path.join(tmp.path, `rt-${kind}.tar`)
      await writeImages(new DockerArchiveSink(file), [{image, names: ['127.0.0.1:5000/app:v1']}])
      const source = new DockerArchiveSource(file)
      const roots = await source.roots()
      assert.equal(roots.length, 1)
      assert.equal(roots[0].digest, image.manifestDigest)
      assert.ok(roots[0].bytes.equals(image.manifestBytes))
      assert.equal(roots[0].mediaType, image.mediaType)
      assert.deepEqual(roots[0].names, ['127.0.0.1:5000/app:v1'])
      await checkSameImage(source, image)
      const m = await source.manifest({mediaType: image.mediaType, digest: image.manifestDigest, size: image.manifestBytes.length})
      assert.ok(m.bytes.equals(image.manifestBytes))
    })
  }

  it('lays the archive out as crane does', async () => {
    const file = path.join(tmp.path, 'layout.tar')
    await writeImages(new DockerArchiveSink(file), [{image: docker, names: ['busybox']}])
    const reader = await TarReader.open(file)
    const names = reader.entries().map((e) => e.name)
    const {config, layers} = descriptorsOf(docker)
    assert.deepEqual(names, [config.digest, ...layers.map((l) => `${hex(l.digest)}.tar.gz`), `${hex(docker.manifestDigest)}.manifest.json`, 'manifest.json'])
    const mj = JSON.parse((await reader.readBytes('manifest.json', 1e6)).toString())
    assert.deepEqual(mj, [
      {
        Config: config.digest,
        RepoTags: ['index.docker.io/library/busybox:latest'],
        Layers: layers.map((l) => `${hex(l.digest)}.tar.gz`),
        'ocitool.manifest': {path: `${hex(docker.manifestDigest)}.manifest.json`, mediaType: MediaType.dockerManifest},
      },
    ])
  })

  it('several images in one file, each blob once, names merged', async () => {
    const file = path.join(tmp.path, 'multi.tar')
    await writeImages(new DockerArchiveSink(file), [
      {image: docker, names: ['reg.example/a:1']},
      {image: other, names: ['reg.example/b:1']},
      {image: docker, names: ['reg.example/a:2', 'reg.example/a:1']},
    ])
    const reader = await TarReader.open(file)
    const blobCount = docker.blobs.size + other.blobs.size
    assert.equal(reader.entries().length, blobCount + 2 + 1)
    const source = new DockerArchiveSource(file)
    const roots = await source.roots()
    assert.deepEqual(
      roots.map((r) => [r.digest, r.names]),
      [
        [docker.manifestDigest, ['reg.example/a:1', 'reg.example/a:2']],
        [other.manifestDigest, ['reg.example/b:1']],
      ],
    )
    await checkSameImage(source, docker)
    await checkSameImage(source, other)

    const only = new DockerArchiveSource(file, {tag: 'reg.example/b:1'})
    assert.deepEqual((await only.roots()).map((r) => r.digest), [other.manifestDigest])
    await assert.rejects(new DockerArchiveSource(file, {tag: 'reg.example/c:1'}).roots(), (e) => {
      assert.ok(isOcitoolError(e))
      return e.exitCode === ExitCode.NotFound && e.suggestions.join().includes('reg.example/a:2')
    })
  })

  it('matches a tag after normalisation', async () => {
    const file = path.join(tmp.path, 'hub.tar')
    await writeImages(new DockerArchiveSink(file), [{image: other, names: ['docker.io/library/busybox:1.36']}])
    for (const tag of ['busybox:1.36', 'docker.io/library/busybox:1.36', 'index.docker.io/library/busybox:1.36']) {
      assert.equal((await new DockerArchiveSource(file, {tag}).roots())[0].digest, other.manifestDigest, tag)
    }
  })

  it('an image named only by digest gets the i-was-a-digest tag, and no name when read', async () => {
    const file = path.join(tmp.path, 'digest.tar')
    const byDigest = `127.0.0.1:5000/app@${docker.manifestDigest}`
    await writeImages(new DockerArchiveSink(file), [{image: docker, names: [byDigest]}])
    const reader = await TarReader.open(file)
    const mj = JSON.parse((await reader.readBytes('manifest.json', 1e6)).toString())
    assert.deepEqual(mj[0].RepoTags, ['127.0.0.1:5000/app:i-was-a-digest'])
    const roots = await new DockerArchiveSource(file).roots()
    assert.deepEqual(roots[0].names, [])
    assert.equal((await new DockerArchiveSource(file, {tag: byDigest}).roots())[0].digest, docker.manifestDigest)
    assert.equal((await new DockerArchiveSource(file, {tag: '127.0.0.1:5000/app:i-was-a-digest'}).roots())[0].digest, docker.manifestDigest)
  })

  it('writes to a stream for "-"', async () => {
    const out = new PassThrough()
    const bytes = readAll(out)
    await writeImages(new DockerArchiveSink('-', {stdout: out}), [{image: docker, names: ['x/y:z']}])
    out.end()
    const file = path.join(tmp.path, 'stdout.tar')
    await fsp.writeFile(file, await bytes)
    assert.equal((await new DockerArchiveSource(file).roots())[0].digest, docker.manifestDigest)
  })
})

describe('DockerArchiveSink refusals and failures', () => {
  it('refuses an index with a usage error', async () => {
    const index = await buildIndex('da-index')
    const dir = path.join(tmp.path, 'index')
    await fsp.mkdir(dir)
    const sink = new DockerArchiveSink(path.join(dir, 'out.tar'))
    await assert.rejects(
      sink.putManifest({bytes: index.manifestBytes, mediaType: index.mediaType, digest: index.manifestDigest}, {root: true, names: ['a:b']}),
      (e) => isOcitoolError(e) && e.exitCode === ExitCode.Usage && e.message.includes('a docker archive holds single images; use --platform'),
    )
    await sink.abort()
    assert.deepEqual(await listDir(dir), [])
  })

  it('a blob whose stream fails is undone; a retry completes the archive', async () => {
    const file = path.join(tmp.path, 'retry.tar')
    const sink = new DockerArchiveSink(file)
    const {config, layers} = descriptorsOf(docker)
    const bytes = docker.blobs.get(layers[0].digest)!
    const failing = Readable.from(
      (async function* () {
        yield bytes.subarray(0, 10)
        throw new Error('socket hang up')
      })(),
    )
    await assert.rejects(sink.putBlob(layers[0], failing), /socket hang up/)
    assert.equal(await sink.hasBlob(layers[0]), false)
    for (const d of [config, ...layers]) await sink.putBlob(d, Readable.from([docker.blobs.get(d.digest)!]))
    await sink.putManifest({bytes: docker.manifestBytes, mediaType: docker.mediaType, digest: docker.manifestDigest}, {root: true, names: ['a/b:c']})
    await sink.commit()
    await checkSameImage(new DockerArchiveSource(file), docker)
  })

  it('abort leaves nothing behind', async () => {
    const dir = path.join(tmp.path, 'aborted')
    await fsp.mkdir(dir)
    const sink = new DockerArchiveSink(path.join(dir, 'out.tar'))
    const {config} = descriptorsOf(docker)
    await sink.putBlob(config, Readable.from([docker.blobs.get(config.digest)!]))
    await sink.abort()
    assert.deepEqual(await listDir(dir), [])
  })

  it('a manifest whose blobs were not written is an error', async () => {
    const sink = new DockerArchiveSink(path.join(tmp.path, 'missing-blob.tar'))
    await assert.rejects(
      sink.putManifest({bytes: docker.manifestBytes, mediaType: docker.mediaType, digest: docker.manifestDigest}, {root: true, names: []}),
      (e) => isOcitoolError(e) && e.code === 'MISSING_BLOB',
    )
    await sink.abort()
  })
})

describe('foreign layers', () => {
  it('are listed in LayerSources by diff id, not written, and restored', async () => {
    // docker's image with its first layer made foreign (as Windows base layers are)
    const m = JSON.parse(docker.manifestBytes.toString()) as {layers: Descriptor[]}
    const url = `https://example.invalid/v2/base/blobs/${m.layers[0].digest}`
    m.layers = [{...m.layers[0], mediaType: MediaType.dockerForeignLayer, urls: [url]}, ...m.layers.slice(1)]
    const manifestBytes = Buffer.from(JSON.stringify(m))
    const image: BuiltImage = {...docker, manifestBytes, manifestDigest: sha256(manifestBytes)}
    const file = path.join(tmp.path, 'foreign.tar')
    await writeImages(new DockerArchiveSink(file), [{image, names: ['win/app:1']}])

    const reader = await TarReader.open(file)
    assert.ok(!reader.has(`${hex(m.layers[0].digest)}.tar.gz`))
    const mj = JSON.parse((await reader.readBytes('manifest.json', 1e6)).toString())
    assert.deepEqual(mj[0].LayerSources, {[docker.diffIds[0]]: m.layers[0]})
    assert.equal(mj[0].Layers[0], `${hex(m.layers[0].digest)}.tar.gz`)

    const source = new DockerArchiveSource(file)
    assert.equal((await source.roots())[0].digest, image.manifestDigest)
    assert.equal(await blobDigest(source, m.layers[1]), m.layers[1].digest)
    await assert.rejects(source.blob(m.layers[0]), (e) => isOcitoolError(e) && e.exitCode === ExitCode.NotFound && e.message.includes(url))

    // Without our original manifest, the LayerSources descriptor is used as is.
    const plain = path.join(tmp.path, 'foreign-plain.tar')
    const {rewriteManifestJson} = await import('./legacy.js')
    await rewriteManifestJson(file, plain, (entries) => entries.map(({'ocitool.manifest': _, ...rest}) => rest))
    const root = (await new DockerArchiveSource(plain).roots())[0]
    assert.equal(root.mediaType, MediaType.dockerManifest)
    assert.deepEqual(JSON.parse(root.bytes.toString()).layers, m.layers)
  })
})
