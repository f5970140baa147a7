import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import * as fsp from 'node:fs/promises'
import * as path from 'node:path'
import {Readable} from 'node:stream'
import {after, before, describe, it} from 'node:test'
import * as zlib from 'node:zlib'

import {ExitCode, isOcitoolError} from '../../../src/lib/errors.js'
import {MediaType} from '../../../src/lib/oci/media-types.js'
import type {Descriptor} from '../../../src/lib/oci/types.js'
import {DockerArchiveSource, LegacyDockerArchiveSink, TarReader} from '../../../src/lib/tarball/index.js'
import {legacyLayerIds} from '../../../src/lib/tarball/legacy-format.js'
import {MAX_OCTAL_SIZE, encodeHeader} from '../../../src/lib/tarball/legacy-tar.js'
import {decodeHeader} from '../../../src/lib/tarball/tar-header.js'
import {type BuiltImage, buildImage, buildIndex, makeLayerTar, seededBytes, sha256} from '../../support/fixtures.js'
import {run} from '../../support/exec.js'
import {type TmpDir, tmpDir} from '../../support/tmp.js'
import {descriptorsOf, listDir, packTar, readAll, writeImages} from './helpers.js'

const hex = (d: string) => d.slice('sha256:'.length)

type Compression = 'gzip' | 'gzip-fast' | 'zstd' | 'none'

const LAYER_TYPES: Record<Compression, string> = {
  gzip: MediaType.ociLayerGzip,
  'gzip-fast': MediaType.ociLayerGzip,
  zstd: MediaType.ociLayerZstd,
  none: 'application/vnd.oci.image.layer.v1.tar',
}

function compress(raw: Buffer, c: Compression): Buffer {
  switch (c) {
    case 'gzip':
      return zlib.gzipSync(raw, {level: 6})
    case 'gzip-fast':
      return zlib.gzipSync(raw, {level: 1})
    case 'zstd':
      return execFileSync('zstd', ['-q', '-c'], {input: raw})
    case 'none':
      return raw
  }
}

/** composeImage makes an OCI image of the given raw layer tars, compressed as asked; `diffIds` overrides the config's. */
function composeImage(seed: string, layers: {raw: Buffer; c: Compression}[], diffIds?: string[]): BuiltImage {
  const blobs = new Map<string, Buffer>()
  const descs = layers.map(({raw, c}) => {
    const bytes = compress(raw, c)
    blobs.set(sha256(bytes), bytes)
    return {mediaType: LAYER_TYPES[c], size: bytes.length, digest: sha256(bytes)}
  })
  const ids = diffIds ?? layers.map((l) => sha256(l.raw))
  const config = {created: '2000-01-01T00:00:00Z', architecture: 'amd64', os: 'linux', config: {Cmd: ['/bin/sh'], Env: [`SEED=${seed}`]}, rootfs: {type: 'layers', diff_ids: ids}}
  const configBytes = Buffer.from(JSON.stringify(config))
  blobs.set(sha256(configBytes), configBytes)
  const manifest = {schemaVersion: 2, mediaType: MediaType.ociManifest, config: {mediaType: MediaType.ociConfig, size: configBytes.length, digest: sha256(configBytes)}, layers: descs}
  const manifestBytes = Buffer.from(JSON.stringify(manifest))
  return {
    mediaType: MediaType.ociManifest, manifestDigest: sha256(manifestBytes), manifestBytes, configDigest: sha256(configBytes), configBytes,
    layerDigests: descs.map((d) => d.digest), diffIds: ids, platform: {os: 'linux', architecture: 'amd64'}, blobs,
  }
}

/** expectedIds restates the id rule: ChainIDs below the top, the top's covers the config digest. */
function expectedIds(diffIds: string[], configDigest: string): string[] {
  let chain = ''
  return diffIds.map((d, i) => {
    chain = i === 0 ? d : sha256(`${chain} ${d}`)
    return hex(i === diffIds.length - 1 ? sha256(`${chain} ${configDigest}`) : chain)
  })
}

/** checkReadBack reads an image back with DockerArchiveSource: same config, layers that gunzip to the diff ids. */
async function checkReadBack(file: string, image: BuiltImage, tag?: string): Promise<void> {
  const source = new DockerArchiveSource(file, tag === undefined ? {} : {tag})
  const roots = await source.roots()
  assert.equal(roots.length, 1)
  const m = JSON.parse(roots[0].bytes.toString()) as {config: Descriptor; layers: Descriptor[]}
  assert.equal(m.config.digest, image.configDigest)
  assert.ok((await readAll(await source.blob(m.config))).equals(image.configBytes))
  const got: string[] = []
  for (const l of m.layers) got.push(sha256(zlib.gunzipSync(await readAll(await source.blob(l)))))
  assert.deepEqual(got, image.diffIds)
}

let tmp: TmpDir
let docker: BuiltImage
let oci: BuiltImage
before(async () => {
  tmp = await tmpDir('legacy-sink')
  docker = await buildImage({layers: 2, seed: 'lg-docker', mediaTypes: 'docker'})
  oci = await buildImage({layers: 3, seed: 'lg-oci', mediaTypes: 'oci'})
})
after(async () => {
  await tmp.remove()
})

describe('legacy docker archive (sink, then DockerArchiveSource)', () => {
  for (const kind of ['docker', 'oci'] as const) {
    it(`${kind} image: same config digest, layers that decompress to the diff ids`, async () => {
      const image = kind === 'docker' ? docker : oci
      const file = path.join(tmp.path, `rt-${kind}.tar`)
      await writeImages(new LegacyDockerArchiveSink(file), [{image, names: ['127.0.0.1:5000/app:v1']}])
      await checkReadBack(file, image)
      assert.deepEqual((await new DockerArchiveSource(file).roots())[0].names, ['127.0.0.1:5000/app:v1'])
    })
  }

  it('lays the archive out as docker save does: <id>/{layer.tar,json,VERSION}, config, repositories, manifest.json', async () => {
    const file = path.join(tmp.path, 'layout.tar')
    await writeImages(new LegacyDockerArchiveSink(file), [{image: oci, names: ['127.0.0.1:5000/app:v1']}])
    const ids = expectedIds(oci.diffIds, oci.configDigest)
    assert.deepEqual(legacyLayerIds(oci.diffIds, oci.configDigest), ids)
    assert.equal(ids[0], hex(oci.diffIds[0]), 'the base id is its ChainID: the diff id')
    const reader = await TarReader.open(file)
    const names = reader.entries().map((e) => e.name)
    assert.deepEqual(names.sort(), [
      `${hex(oci.configDigest)}.json`, ...ids.flatMap((id) => [`${id}/VERSION`, `${id}/json`, `${id}/layer.tar`]), 'manifest.json', 'repositories',
    ].sort())
    for (const [i, id] of ids.entries()) {
      assert.equal(reader.size(`${id}/layer.tar`), (await makeLayerTar(`lg-oci-layer${i}`)).length)
      assert.equal((await reader.readBytes(`${id}/VERSION`, 10)).toString(), '1.0')
      const json = JSON.parse((await reader.readBytes(`${id}/json`, 1e6)).toString())
      assert.equal(json.id, id)
      assert.equal(json.parent, i === 0 ? undefined : ids[i - 1])
      assert.equal(typeof json.created, 'string')
      assert.equal(typeof json.container_config, 'object')
      if (i === ids.length - 1) assert.deepEqual(json.config, JSON.parse(oci.configBytes.toString()).config, 'the top layer carries the config')
    }
    assert.ok((await reader.readBytes(`${hex(oci.configDigest)}.json`, 1e6)).equals(oci.configBytes))
    assert.deepEqual(JSON.parse((await reader.readBytes('repositories', 1e6)).toString()), {'127.0.0.1:5000/app': {v1: ids[2]}})
    assert.deepEqual(JSON.parse((await reader.readBytes('manifest.json', 1e6)).toString()), [
      {Config: `${hex(oci.configDigest)}.json`, RepoTags: ['127.0.0.1:5000/app:v1'], Layers: ids.map((id) => `${id}/layer.tar`)},
    ])
    // GNU tar reads every header, the patched ones included
    const t = await run('tar', ['-tf', file])
    assert.equal(t.code, 0, t.stderr)
    assert.deepEqual(t.stdout.split('\n').filter(Boolean).sort(), names.sort())
  })

  it('decompresses gzip, zstd and uncompressed layers; one diff id is stored once, shared stacks once, other positions as symlinks (manifest.json names the file)', async () => {
    const [a, b, c] = await Promise.all(['lg-a', 'lg-b', 'lg-c'].map((k) => makeLayerTar(k)))
    const one = composeImage('one', [{raw: a, c: 'gzip'}, {raw: b, c: 'zstd'}, {raw: c, c: 'none'}])
    // the same a and b (a compressed differently): the stack a, b is shared; c is on top of b here,
    // but is the base in `three`, and twice in a row in `four`
    const two = composeImage('two', [{raw: a, c: 'gzip-fast'}, {raw: b, c: 'zstd'}])
    const three = composeImage('three', [{raw: c, c: 'gzip'}])
    const four = composeImage('four', [{raw: c, c: 'gzip'}, {raw: c, c: 'gzip'}])
    const file = path.join(tmp.path, 'shared.tar')
    await writeImages(new LegacyDockerArchiveSink(file), [
      {image: one, names: ['r/one:1']}, {image: two, names: ['r/two:1']}, {image: three, names: ['r/three:1']}, {image: four, names: ['r/four:1']},
    ])
    for (const [im, tag] of [[one, 'r/one:1'], [two, 'r/two:1'], [three, 'r/three:1'], [four, 'r/four:1']] as const) await checkReadBack(file, im, tag)
    const reader = await TarReader.open(file)
    const files = reader.entries().filter((e) => e.type === 'file' && e.name.endsWith('/layer.tar'))
    assert.equal(files.length, 3, 'each diff id once')
    const ids1 = expectedIds(one.diffIds, one.configDigest)
    const ids2 = expectedIds(two.diffIds, two.configDigest)
    assert.equal(ids1[0], ids2[0], 'a shared base is one directory')
    const links = reader.entries().filter((e) => e.type === 'symlink')
    assert.deepEqual(links.map((e) => [e.name, e.linkname]).sort(), [
      [`${ids2[1]}/layer.tar`, `../${ids1[1]}/layer.tar`],
      [`${expectedIds(three.diffIds, three.configDigest)[0]}/layer.tar`, `../${ids1[2]}/layer.tar`],
      [`${expectedIds(four.diffIds, four.configDigest)[0]}/layer.tar`, `../${ids1[2]}/layer.tar`],
      [`${expectedIds(four.diffIds, four.configDigest)[1]}/layer.tar`, `../${ids1[2]}/layer.tar`],
    ].sort())
    // manifest.json names the files themselves, never the symlinks (skopeo reads a symlink's size as 0)
    const mj = JSON.parse((await reader.readBytes('manifest.json', 1e6)).toString())
    const file1 = ids1.map((id) => `${id}/layer.tar`)
    assert.deepEqual(mj.map((e: {Layers: string[]}) => e.Layers), [file1, [file1[0], file1[1]], [file1[2]], [file1[2], file1[2]]])
    const repos = JSON.parse((await reader.readBytes('repositories', 1e6)).toString())
    assert.deepEqual(Object.keys(repos).sort(), ['index.docker.io/r/four', 'index.docker.io/r/one', 'index.docker.io/r/three', 'index.docker.io/r/two'])
    assert.equal(repos['index.docker.io/r/one']['1'], ids1[2])
  })

  it('patches the header of a layer larger than 1 MiB after streaming it', async () => {
    const big = seededBytes('lg-big', 3 * 1024 * 1024 + 123)
    const raw = await packTar([{name: 'big.bin', body: big}])
    const image = composeImage('big', [{raw, c: 'gzip'}])
    const file = path.join(tmp.path, 'big.tar')
    await writeImages(new LegacyDockerArchiveSink(file), [{image, names: ['r/big:1']}])
    const [id] = expectedIds(image.diffIds, image.configDigest)
    const reader = await TarReader.open(file)
    assert.equal(reader.size(`${id}/layer.tar`), raw.length)
    assert.equal(sha256(await readAll(reader.open(`${id}/layer.tar`))), image.diffIds[0])
    const t = await run('tar', ['-tvf', file, `${id}/layer.tar`])
    assert.equal(t.code, 0, t.stderr)
    assert.match(t.stdout, new RegExp(` ${raw.length} `))
    await checkReadBack(file, image)
  })

  it('refuses stdout with a usage error', () => {
    assert.throws(
      () => new LegacyDockerArchiveSink('-'),
      (e) => isOcitoolError(e) && e.exitCode === ExitCode.Usage && e.code === 'LEGACY_NEEDS_FILE' && e.message === 'the legacy format needs a file, not stdout',
    )
  })

  it('a layer that does not hash to its diff id is an IntegrityError, and leaves no file', async () => {
    const [a, b] = await Promise.all(['lg-m1', 'lg-m2'].map((k) => makeLayerTar(k)))
    const bad = composeImage('bad', [{raw: a, c: 'gzip'}, {raw: b, c: 'gzip'}], [sha256(a), sha256(Buffer.from('something else'))])
    const dir = path.join(tmp.path, 'mismatch')
    await fsp.mkdir(dir)
    await assert.rejects(
      writeImages(new LegacyDockerArchiveSink(path.join(dir, 'out.tar')), [{image: bad, names: ['r/bad:1']}]),
      (e) => isOcitoolError(e) && e.exitCode === ExitCode.Integrity && /decompresses to sha256:\w+, but the config says/.test(e.message),
    )
    assert.deepEqual(await listDir(dir), [])
  })

  it('a layer whose stream fails is cut off; a retry completes the archive', async () => {
    const file = path.join(tmp.path, 'retry.tar')
    const sink = new LegacyDockerArchiveSink(file)
    const {config, layers} = descriptorsOf(docker)
    const bytes = docker.blobs.get(layers[0].digest)!
    const failing = Readable.from((async function* () {
      yield bytes.subarray(0, bytes.length - 20)
      throw new Error('socket hang up')
    })())
    await sink.putBlob(config, Readable.from([docker.blobs.get(config.digest)!]))
    await assert.rejects(sink.putBlob(layers[0], failing), /socket hang up/)
    assert.equal(await sink.hasBlob(layers[0]), false)
    for (const d of layers) await sink.putBlob(d, Readable.from([docker.blobs.get(d.digest)!]))
    await sink.putManifest({bytes: docker.manifestBytes, mediaType: docker.mediaType, digest: docker.manifestDigest}, {root: true, names: ['a/b:c']})
    await sink.commit()
    await checkReadBack(file, docker)
    assert.equal((await TarReader.open(file)).entries().length, 2 * 3 + 3)
  })

  it('a layer that is not gzip after all is a BAD_LAYER error naming it', async () => {
    const {layers} = descriptorsOf(docker)
    const dir = path.join(tmp.path, 'bad-gzip')
    await fsp.mkdir(dir)
    const sink = new LegacyDockerArchiveSink(path.join(dir, 'out.tar'))
    const broken = Buffer.concat([Buffer.from([0x1f, 0x8b]), Buffer.alloc(100, 7)])
    await assert.rejects(sink.putBlob(layers[0], Readable.from([broken])), (e) => isOcitoolError(e) && e.code === 'BAD_LAYER' && e.message.includes(layers[0].digest))
    await sink.abort()
    assert.deepEqual(await listDir(dir), [])
  })

  it('refuses an index with a usage error', async () => {
    const index = await buildIndex('lg-index')
    const dir = path.join(tmp.path, 'index')
    await fsp.mkdir(dir)
    const sink = new LegacyDockerArchiveSink(path.join(dir, 'out.tar'))
    await assert.rejects(
      sink.putManifest({bytes: index.manifestBytes, mediaType: index.mediaType, digest: index.manifestDigest}, {root: true, names: ['a:b']}),
      (e) => isOcitoolError(e) && e.exitCode === ExitCode.Usage && e.code === 'INDEX_NOT_SUPPORTED',
    )
    await sink.abort()
    assert.deepEqual(await listDir(dir), [])
  })

  it('lists a foreign layer it was not given in LayerSources, without layer.tar', async () => {
    const m = JSON.parse(docker.manifestBytes.toString()) as {layers: Descriptor[]}
    m.layers = [{...m.layers[0], mediaType: MediaType.dockerForeignLayer, urls: ['https://example.invalid/base']}, ...m.layers.slice(1)]
    const manifestBytes = Buffer.from(JSON.stringify(m))
    const image: BuiltImage = {...docker, manifestBytes, manifestDigest: sha256(manifestBytes)}
    const file = path.join(tmp.path, 'foreign.tar')
    await writeImages(new LegacyDockerArchiveSink(file), [{image, names: ['win/app:1']}])
    const ids = expectedIds(docker.diffIds, docker.configDigest)
    const reader = await TarReader.open(file)
    assert.ok(!reader.has(`${ids[0]}/layer.tar`))
    assert.ok(reader.has(`${ids[0]}/json`))
    const mj = JSON.parse((await reader.readBytes('manifest.json', 1e6)).toString())
    assert.deepEqual(mj[0].LayerSources, {[docker.diffIds[0]]: m.layers[0]})
    const root = (await new DockerArchiveSource(file).roots())[0]
    assert.deepEqual(JSON.parse(root.bytes.toString()).layers[0], m.layers[0])
  })
})

describe('legacy tar headers', () => {
  for (const size of [0, 511, 1024 * 1024 + 1, MAX_OCTAL_SIZE, MAX_OCTAL_SIZE + 1, 9 * 1024 ** 3, 2 ** 40 + 12345]) {
    it(`size ${size}`, () => {
      const block = encodeHeader({name: `${'a'.repeat(64)}/layer.tar`, size, type: 'file'})
      const h = decodeHeader(block)!
      assert.equal(h.size, size)
      assert.equal(h.name, `${'a'.repeat(64)}/layer.tar`)
      assert.equal(h.flag, '0')
      // octal (POSIX ustar) up to 8 GiB - 1, then GNU base-256
      assert.equal(block.subarray(257, 263).toString('latin1'), size > MAX_OCTAL_SIZE ? 'ustar ' : 'ustar\0')
    })
  }

  it('GNU tar reads a base-256 size (a sparse 9 GiB entry)', async () => {
    const file = path.join(tmp.path, 'huge.tar')
    const size = 9 * 1024 ** 3
    const handle = await fsp.open(file, 'w')
    try {
      await handle.write(encodeHeader({name: 'huge/layer.tar', size, type: 'file'}), 0, 512, 0)
      await handle.truncate(512 + size + 1024)
    } finally {
      await handle.close()
    }
    try {
      const t = await run('tar', ['-tvf', file])
      assert.equal(t.code, 0, t.stderr)
      assert.match(t.stdout, new RegExp(` ${size} .*huge/layer\\.tar`))
    } finally {
      await fsp.rm(file, {force: true})
    }
  })

  it('symlinks', () => {
    const h = decodeHeader(encodeHeader({name: 'b/layer.tar', size: 0, type: 'symlink', linkname: '../a/layer.tar'}))!
    assert.deepEqual(h, {name: 'b/layer.tar', linkname: '../a/layer.tar', size: 0, flag: '2'})
  })
})
