// Interoperability of the layout stores with software nobody here wrote: skopeo 1.9 writes
// OCI layouts and dir: directories that our sources read, and reads what our sinks write;
// umoci lists and unpacks the OCI layouts our sink writes. Digests must match throughout.

import assert from 'node:assert/strict'
import * as fsp from 'node:fs/promises'
import * as path from 'node:path'
import {after, describe, it} from 'node:test'

import {DirSink, DirSource, OciLayoutSink, OciLayoutSource, REF_NAME_ANNOTATION} from '../../src/lib/layout/index.js'
import {runOk} from '../support/exec.js'
import {buildImage, buildIndex, sha256, skopeo, writeImageDir, writeOciLayout} from '../support/fixtures.js'
import {tmpDir, type TmpDir} from '../support/tmp.js'
import {listFiles, readGraph, writeImage, writeIndexTo} from '../unit/layout/helpers.js'

const dirs: TmpDir[] = []
async function fresh(name = 'layout-interop'): Promise<string> {
  const d = await tmpDir(name)
  dirs.push(d)
  return d.path
}
after(async () => {
  for (const d of dirs) await d.remove()
})

async function skopeoOk(args: string[]): Promise<Buffer> {
  const r = await skopeo(args)
  assert.equal(r.code, 0, `skopeo ${args.join(' ')}: ${r.stderr}`)
  return r.stdoutBytes
}

const hex = (digest: string) => digest.slice(digest.indexOf(':') + 1)

describe('skopeo writes, ocitool reads', () => {
  it('oci:DIR:tag from skopeo copy dir:X', async () => {
    const src = await fresh()
    const image = await writeImageDir(src, {layers: 2, seed: 'skopeo-oci', mediaTypes: 'oci'})
    const layout = path.join(await fresh(), 'layout')
    await skopeoOk(['copy', '--quiet', '--preserve-digests', `dir:${src}`, `oci:${layout}:v1`])
    await skopeoOk(['copy', '--quiet', '--preserve-digests', `dir:${src}`, `oci:${layout}:v2`])

    const got = await readGraph(new OciLayoutSource(layout, {tag: 'v1'}))
    assert.deepEqual(got.roots, [{digest: image.manifestDigest, mediaType: image.mediaType, names: ['v1']}])
    assert.deepEqual(new Map(got.blobs), image.blobs)
    const all = await new OciLayoutSource(layout).roots()
    assert.deepEqual(all.map((r) => [r.digest, r.names]), [[image.manifestDigest, ['v1', 'v2']]])
  })

  it('dir: of an index from skopeo copy --all', async () => {
    const layout = await fresh()
    const index = await writeOciLayout(layout, {seed: 'skopeo-dir-all', tag: 'multi'})
    const out = path.join(await fresh(), 'dir')
    await skopeoOk(['copy', '--quiet', '--all', '--preserve-digests', `oci:${layout}:multi`, `dir:${out}`])

    const got = await readGraph(new DirSource(out))
    assert.deepEqual(got.roots, [{digest: index.manifestDigest, mediaType: index.mediaType, names: []}])
    assert.equal(got.manifests.size, 4)
    for (const im of index.images) {
      assert.deepEqual(got.manifests.get(im.manifestDigest), im.manifestBytes)
      for (const [d, bytes] of im.blobs) assert.deepEqual(got.blobs.get(d), bytes)
    }
  })
})

describe('ocitool writes, skopeo and umoci read', () => {
  it('an OCI layout: skopeo copies each tag out with the same digest', async () => {
    const layout = path.join(await fresh(), 'layout')
    const image = await buildImage({layers: 2, seed: 'ours-oci', mediaTypes: 'oci'})
    const index = await buildIndex('ours-oci-index')
    const s1 = new OciLayoutSink(layout, {tag: 'v1'})
    await writeImage(s1, image, [])
    await s1.commit()
    const s2 = new OciLayoutSink(layout, {tag: 'multi'})
    await writeIndexTo(s2, index, [])
    await s2.commit()

    const raw = await skopeoOk(['inspect', '--raw', `oci:${layout}:v1`])
    assert.equal(sha256(raw), image.manifestDigest)
    const out = await fresh()
    await skopeoOk(['copy', '--quiet', '--preserve-digests', `oci:${layout}:v1`, `dir:${out}`])
    assert.equal(sha256(await fsp.readFile(path.join(out, 'manifest.json'))), image.manifestDigest)
    for (const [d, bytes] of image.blobs) assert.deepEqual(await fsp.readFile(path.join(out, hex(d))), bytes)

    const all = path.join(await fresh(), 'all')
    await skopeoOk(['copy', '--quiet', '--all', '--preserve-digests', `oci:${layout}:multi`, `oci:${all}:copied`])
    const copied = JSON.parse(await fsp.readFile(path.join(all, 'index.json'), 'utf8')) as {manifests: {digest: string; annotations?: Record<string, string>}[]}
    assert.deepEqual(copied.manifests.map((d) => [d.digest, d.annotations?.[REF_NAME_ANNOTATION]]), [[index.manifestDigest, 'copied']])
  })

  it('an image added to a layout skopeo wrote: skopeo reads the old tag and the new one', async () => {
    const src = await fresh()
    const old = await writeImageDir(src, {layers: 1, seed: 'skopeo-first', mediaTypes: 'oci'})
    const layout = path.join(await fresh(), 'layout')
    await skopeoOk(['copy', '--quiet', '--preserve-digests', `dir:${src}`, `oci:${layout}:old`])
    const added = await buildImage({layers: 1, seed: 'ours-added', mediaTypes: 'oci'})
    const sink = new OciLayoutSink(layout, {tag: 'new'})
    await writeImage(sink, added, [])
    await sink.commit()
    assert.equal(sha256(await skopeoOk(['inspect', '--raw', `oci:${layout}:old`])), old.manifestDigest)
    assert.equal(sha256(await skopeoOk(['inspect', '--raw', `oci:${layout}:new`])), added.manifestDigest)
  })

  it('an OCI layout: umoci lists its tags and unpacks an image', async () => {
    const layout = path.join(await fresh(), 'layout')
    const image = await buildImage({layers: 2, seed: 'ours-umoci', mediaTypes: 'oci'})
    const sink = new OciLayoutSink(layout, {annotateRef: 'tag'})
    await writeImage(sink, image, ['127.0.0.1:5000/app:v1', 'app:stable'])
    await sink.commit()

    const ls = await runOk('umoci', ['ls', '--layout', layout])
    assert.deepEqual(ls.stdout.trim().split('\n').sort(), ['stable', 'v1'])
    const bundle = path.join(await fresh('umoci-bundle'), 'bundle')
    await runOk('umoci', ['unpack', '--rootless', '--image', `${layout}:v1`, bundle])
    for (const i of [0, 1]) {
      const file = path.join(bundle, 'rootfs', 'fixture', `ours-umoci-layer${i}`, 'hello.txt')
      assert.equal(await fsp.readFile(file, 'utf8'), `hello from ours-umoci-layer${i}\n`)
    }
    const stat = await runOk('umoci', ['stat', '--json', '--image', `${layout}:stable`])
    assert.ok(stat.stdout.includes('ocitool fixture layer 1'))
  })

  it('dir: of an index, identical to what skopeo writes, and skopeo copies it back', async () => {
    const index = await buildIndex('ours-dir-index')
    const ours = path.join(await fresh(), 'ours')
    const sink = new DirSink(ours)
    await writeIndexTo(sink, index, [])
    await sink.commit()

    // skopeo makes the same dir: from the same index held in an OCI layout
    const layout = await fresh()
    await writeOciLayout(layout, {seed: 'ours-dir-index', tag: 'x'})
    const theirs = path.join(await fresh(), 'theirs')
    await skopeoOk(['copy', '--quiet', '--all', '--preserve-digests', `oci:${layout}:x`, `dir:${theirs}`])
    assert.deepEqual(await listFiles(ours), await listFiles(theirs))
    for (const f of await listFiles(theirs)) assert.deepEqual(await fsp.readFile(path.join(ours, f)), await fsp.readFile(path.join(theirs, f)), f)

    const back = path.join(await fresh(), 'back')
    await skopeoOk(['copy', '--quiet', '--all', '--preserve-digests', `dir:${ours}`, `oci:${back}:y`])
    const raw = await skopeoOk(['inspect', '--raw', `oci:${back}:y`])
    assert.equal(sha256(raw), index.manifestDigest)
  })

  it('dir: of a Docker image, which skopeo copies keeping its digest', async () => {
    const image = await buildImage({layers: 2, seed: 'ours-dir-docker', mediaTypes: 'docker'})
    const ours = path.join(await fresh(), 'ours')
    const sink = new DirSink(ours)
    await writeImage(sink, image, [])
    await sink.commit()
    const out = path.join(await fresh(), 'out')
    await skopeoOk(['copy', '--quiet', '--preserve-digests', `dir:${ours}`, `dir:${out}`])
    assert.equal(sha256(await fsp.readFile(path.join(out, 'manifest.json'))), image.manifestDigest)
    const raw = await skopeoOk(['inspect', '--raw', `dir:${ours}`])
    assert.equal(sha256(raw), image.manifestDigest)
  })
})
