// Interoperability of ocitool's tarball stores with skopeo (and umoci), software nobody here
// wrote: skopeo reads the docker and OCI archives ocitool writes, and ocitool reads the ones
// skopeo writes, with the digests of the fixtures.
//
// Two facts about skopeo 1.9 these tests rely on:
// - its docker-archive source presents layers uncompressed, addressed by diff id (so a copy
//   to dir: holds files whose sha256 is the fixture's diff ids), and its docker-archive sink
//   writes uncompressed `<diff id>.tar` layers (so ocitool gzips them when reading);
// - its oci: transport ignores Docker-typed manifests in index.json, so OCI archives are
//   tested with OCI fixtures.

import assert from 'node:assert/strict'
import * as fsp from 'node:fs/promises'
import * as path from 'node:path'
import {pipeline} from 'node:stream/promises'
import {after, before, describe, it} from 'node:test'
import * as zlib from 'node:zlib'

import {verify} from '../../src/lib/io/verify.js'
import type {Descriptor, ImageIndex, ImageManifest} from '../../src/lib/oci/types.js'
import type {Source} from '../../src/lib/stores/types.js'
import {DockerArchiveSink, DockerArchiveSource, OciArchiveSink, OciArchiveSource} from '../../src/lib/tarball/index.js'
import {run} from '../support/exec.js'
import {type BuiltImage, buildImage, buildIndex, sha256, skopeo, writeImageDir, writeOciLayout} from '../support/fixtures.js'
import {type TmpDir, tmpDir} from '../support/tmp.js'
import {descriptorsOf, putIndex, readAll, writeImages} from '../unit/tarball/helpers.js'

let tmp: TmpDir
let dockerImage: BuiltImage
let ociImage: BuiltImage
before(async () => {
  tmp = await tmpDir('tarball-interop')
  dockerImage = await buildImage({layers: 2, seed: 'interop-docker', mediaTypes: 'docker'})
  ociImage = await buildImage({layers: 3, seed: 'interop-oci', mediaTypes: 'oci'})
})
after(async () => {
  await tmp.remove()
})

const p = (name: string) => path.join(tmp.path, name)
const hex = (d: string) => d.slice('sha256:'.length)

async function skopeoOk(args: string[]): Promise<void> {
  const r = await skopeo(args)
  assert.equal(r.code, 0, `skopeo ${args.join(' ')} failed: ${r.stderr}`)
}

async function readJson<T>(file: string): Promise<T> {
  return JSON.parse(await fsp.readFile(file, 'utf8')) as T
}

/** verified reads a blob from a source through verify() and returns its bytes. */
async function verified(source: Source, d: Descriptor): Promise<Buffer> {
  const chunks: Buffer[] = []
  await pipeline(await source.blob(d), verify(d.digest, d.size), async function* (s) {
    for await (const c of s) chunks.push(c as Buffer)
  })
  return Buffer.concat(chunks)
}

describe('skopeo reads docker archives ocitool writes', () => {
  for (const kind of ['docker', 'oci'] as const) {
    it(`${kind} image: same config, layers with the fixture's diff ids`, async () => {
      const image = kind === 'docker' ? dockerImage : ociImage
      const file = p(`ours-${kind}.tar`)
      await writeImages(new DockerArchiveSink(file), [{image, names: ['127.0.0.1:5000/interop/app:v1']}])
      const out = p(`skopeo-from-ours-${kind}`)
      await skopeoOk(['copy', `docker-archive:${file}`, `dir:${out}`])
      const m = await readJson<ImageManifest>(path.join(out, 'manifest.json'))
      assert.equal(m.config.digest, image.configDigest)
      assert.ok((await fsp.readFile(path.join(out, hex(image.configDigest)))).equals(image.configBytes))
      assert.deepEqual(m.layers.map((l) => l.digest), image.diffIds)
      for (const id of image.diffIds) assert.equal(sha256(await fsp.readFile(path.join(out, hex(id)))), id)
    })
  }

  it('picks an image of a multi-image archive by tag, and one saved by digest', async () => {
    const file = p('ours-multi.tar')
    await writeImages(new DockerArchiveSink(file), [
      {image: dockerImage, names: ['127.0.0.1:5000/interop/a:1']},
      {image: ociImage, names: [`127.0.0.1:5000/interop/b@${ociImage.manifestDigest}`]},
    ])
    for (const [ref, image] of [
      ['127.0.0.1:5000/interop/a:1', dockerImage],
      ['127.0.0.1:5000/interop/b:i-was-a-digest', ociImage],
    ] as const) {
      const out = p(`skopeo-multi-${image.configDigest.slice(7, 15)}`)
      await skopeoOk(['copy', `docker-archive:${file}:${ref}`, `dir:${out}`])
      assert.equal((await readJson<ImageManifest>(path.join(out, 'manifest.json'))).config.digest, image.configDigest)
    }
  })
})

describe('ocitool reads docker archives skopeo writes', () => {
  it('same config; layers gzipped on the fly decompress to the fixture diff ids', async () => {
    const src = p('dir-docker')
    const image = await writeImageDir(src, {layers: 2, seed: 'interop-docker', mediaTypes: 'docker'})
    const file = p('skopeo-docker.tar')
    await skopeoOk(['copy', `dir:${src}`, `docker-archive:${file}:interop/app:v2`])

    const source = new DockerArchiveSource(file, {tag: 'interop/app:v2'})
    const [root] = await source.roots()
    assert.deepEqual(root.names, ['docker.io/interop/app:v2'])
    const m = JSON.parse(root.bytes.toString()) as ImageManifest
    assert.equal(m.config.digest, image.configDigest)
    assert.ok((await verified(source, m.config)).equals(image.configBytes))
    const diffIds: string[] = []
    for (const l of m.layers) diffIds.push(sha256(zlib.gunzipSync(await verified(source, l))))
    assert.deepEqual(diffIds, image.diffIds)

    // and what ocitool makes of it, written back, skopeo reads with the same config and diff ids
    const again = p('ours-from-skopeo.tar')
    const sink = new DockerArchiveSink(again)
    for (const d of [m.config, ...m.layers]) await sink.putBlob(d, await source.blob(d))
    await sink.putManifest(root, {root: true, names: ['interop/app:v2']})
    await sink.commit()
    const out = p('skopeo-again')
    await skopeoOk(['copy', `docker-archive:${again}`, `dir:${out}`])
    const m2 = await readJson<ImageManifest>(path.join(out, 'manifest.json'))
    assert.equal(m2.config.digest, image.configDigest)
    assert.deepEqual(m2.layers.map((l) => l.digest), image.diffIds)
  })
})

describe('skopeo and umoci read OCI archives ocitool writes', () => {
  it('an OCI image keeps its manifest digest (skopeo copy oci-archive:FILE:TAG dir:OUT)', async () => {
    const file = p('ours-oci.tar')
    await writeImages(new OciArchiveSink(file), [{image: ociImage, names: ['127.0.0.1:5000/interop/app:v1']}])
    const out = p('skopeo-from-ours-oci')
    await skopeoOk(['copy', '--preserve-digests', `oci-archive:${file}:v1`, `dir:${out}`])
    assert.equal(sha256(await fsp.readFile(path.join(out, 'manifest.json'))), ociImage.manifestDigest)
    for (const [digest, bytes] of ociImage.blobs) assert.ok((await fsp.readFile(path.join(out, hex(digest)))).equals(bytes))

    const layout = p('umoci-layout')
    await fsp.mkdir(layout)
    assert.equal((await run('tar', ['-xf', file, '-C', layout])).code, 0)
    const ls = await run('umoci', ['ls', '--layout', layout])
    assert.equal(ls.code, 0, ls.stderr)
    assert.equal(ls.stdout.trim(), 'v1')
    const stat = await run('umoci', ['stat', '--image', `${layout}:v1`])
    assert.equal(stat.code, 0, stat.stderr)
  })

  it('an index with its images (skopeo copy --all to an oci: layout)', async () => {
    const built = await buildIndex('interop-index')
    const file = p('ours-index.tar')
    const sink = new OciArchiveSink(file)
    await putIndex(sink, built, ['multi'])
    await sink.commit()
    const out = p('skopeo-index-layout')
    await skopeoOk(['copy', '--all', '--preserve-digests', `oci-archive:${file}:multi`, `oci:${out}:multi`])
    const index = await readJson<ImageIndex>(path.join(out, 'index.json'))
    assert.deepEqual(index.manifests.map((d) => d.digest), [built.manifestDigest])
  })
})

describe('ocitool reads OCI archives skopeo writes', () => {
  it('an OCI image from dir: keeps its digest', async () => {
    const src = p('dir-oci')
    const image = await writeImageDir(src, {layers: 3, seed: 'interop-oci', mediaTypes: 'oci'})
    const file = p('skopeo-oci.tar')
    await skopeoOk(['copy', '--preserve-digests', `dir:${src}`, `oci-archive:${file}:t1`])
    const source = new OciArchiveSource(file, {tag: 't1'})
    const [root] = await source.roots()
    assert.equal(root.digest, image.manifestDigest)
    assert.deepEqual(root.names, ['t1'])
    const {config, layers} = descriptorsOf(image)
    for (const d of [config, ...layers]) assert.ok((await verified(source, d)).equals(image.blobs.get(d.digest)!))
  })

  it('an index from an oci: layout (skopeo copy --all)', async () => {
    const layout = p('oci-layout-src')
    const built = await writeOciLayout(layout, {seed: 'interop-layout', tag: 'fixture'})
    const file = p('skopeo-index.tar')
    await skopeoOk(['copy', '--all', '--preserve-digests', `oci:${layout}:fixture`, `oci-archive:${file}:multi`])
    const source = new OciArchiveSource(file, {tag: 'multi'})
    const [root] = await source.roots()
    assert.equal(root.digest, built.manifestDigest)
    const index = JSON.parse(root.bytes.toString()) as ImageIndex
    for (const [i, child] of index.manifests.entries()) {
      const m = await source.manifest(child)
      assert.equal(m.digest, built.images[i].manifestDigest)
      for (const [digest, bytes] of built.images[i].blobs) {
        assert.ok((await readAll(await source.blob({mediaType: 'x', digest, size: bytes.length}))).equals(bytes))
      }
    }
  })
})
