// Bench images: big incompressible layers and 40 small ones, written as skopeo dir: images and
// pushed to a loopback registry; and a fresh, empty registry per measured run.
import {createHash, randomBytes} from 'node:crypto'
import {createWriteStream} from 'node:fs'
import {mkdir, rename, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {Readable, Transform} from 'node:stream'
import {pipeline} from 'node:stream/promises'
import {createGzip, gzipSync} from 'node:zlib'
import {makeLayerTar, sha256, skopeo} from '../test/support/fixtures.js'
import {type RunningRegistry, startRegistry} from '../test/support/registry.js'

/** a layer blob in memory, or (BENCH_BIG's 2 GiB) in a file of its own */
export type Layer = {blob: Buffer; diffId: string} | {file: string; size: number; digest: string; diffId: string}

const MiB = 1024 * 1024

/** a ustar header for one regular file of `size` bytes */
function fileHeader(name: string, size: number): Buffer {
  const header = Buffer.alloc(512)
  header.write(name, 0)
  header.write('0000644\0', 100)
  header.write('0000000\0', 108)
  header.write('0000000\0', 116)
  header.write(`${size.toString(8).padStart(11, '0')}\0`, 124)
  header.write('00000000000\0', 136)
  header.write('        ', 148)
  header.write('0', 156)
  header.write('ustar\0', 257)
  header.write('00', 263)
  let sum = 0
  for (const b of header) sum += b
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148)
  return header
}

/** a tar holding one file of random bytes, gzip-stored (incompressible, quick to make) */
export function bigLayer(mib: number, name = 'data.bin'): Layer {
  const data = randomBytes(mib * MiB)
  const pad = Buffer.alloc((512 - (data.length % 512)) % 512)
  const tar = Buffer.concat([fileHeader(name, data.length), data, pad, Buffer.alloc(1024)])
  return {blob: gzipSync(tar, {level: 0}), diffId: sha256(tar)}
}

/**
 * hugeLayer: bigLayer streamed into a file in `work` (a 2 GiB layer fits no Buffer that
 * randomBytes or a hash update takes at once)
 */
export async function hugeLayer(work: string, mib: number, name = 'data.bin'): Promise<Layer> {
  const size = mib * MiB
  const tarHash = createHash('sha256')
  const blobHash = createHash('sha256')
  let blobSize = 0
  const file = join(work, `huge-${mib}.gz`)
  async function* tar(): AsyncGenerator<Buffer> {
    const piece = (p: Buffer) => {
      tarHash.update(p)
      return p
    }
    yield piece(fileHeader(name, size))
    for (let at = 0; at < size; at += 64 * MiB) yield piece(randomBytes(Math.min(64 * MiB, size - at)))
    yield piece(Buffer.alloc((512 - (size % 512)) % 512))
    yield piece(Buffer.alloc(1024))
  }
  const count = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      blobHash.update(chunk)
      blobSize += chunk.length
      cb(null, chunk)
    },
  })
  await pipeline(Readable.from(tar()), createGzip({level: 0}), count, createWriteStream(file))
  return {file, size: blobSize, digest: `sha256:${blobHash.digest('hex')}`, diffId: `sha256:${tarHash.digest('hex')}`}
}

/** 40 small gzip layers of a few files each */
export async function smallLayers(n = 40): Promise<Layer[]> {
  return Promise.all(
    Array.from({length: n}, async (_, i) => {
      const tar = await makeLayerTar(`small-${i}`)
      return {blob: gzipSync(tar), diffId: sha256(tar)}
    }),
  )
}

/** writes a skopeo dir: image with the given layers and returns its path and blob files */
export async function makeImage(work: string, name: string, layerList: Layer[]): Promise<{dir: string; blobs: string[]}> {
  const dir = join(work, name)
  await mkdir(dir, {recursive: true})
  const diffIds = layerList.map((l) => l.diffId)
  const config = Buffer.from(JSON.stringify({architecture: 'amd64', os: 'linux', rootfs: {type: 'layers', diff_ids: diffIds}, config: {}}))
  const blobs: string[] = []
  const descs: Array<{size: number; digest: string}> = []
  for (const l of [{blob: config, diffId: ''} as Layer, ...layerList]) {
    const digest = 'blob' in l ? sha256(l.blob) : l.digest
    const file = join(dir, digest.slice(7))
    if ('blob' in l) await writeFile(file, l.blob)
    else await rename(l.file, file)
    blobs.push(file)
    descs.push({size: 'blob' in l ? l.blob.length : l.size, digest})
  }
  const manifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
    config: {mediaType: 'application/vnd.docker.container.image.v1+json', ...descs[0]},
    layers: descs.slice(1).map((d) => ({mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', ...d})),
  }
  await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest))
  await writeFile(join(dir, 'version'), 'Directory Transport Version: 1.1\n')
  return {dir, blobs}
}

/** pushes a dir: image to `reg` as `ref` (repo:tag) */
export async function pushDir(reg: RunningRegistry, dir: string, ref: string): Promise<void> {
  const r = await skopeo(['copy', '--dest-tls-verify=false', `dir:${dir}`, `docker://${reg.host}/${ref}`])
  if (r.code !== 0) throw new Error(r.stderr)
}

/** fresh runs `fn` against a new, empty registry, stopped afterwards */
export async function fresh<T>(fn: (reg: RunningRegistry) => Promise<T>): Promise<T> {
  const reg = await startRegistry({flavour: 'plain'})
  try {
    return await fn(reg)
  } finally {
    await reg.stop()
  }
}
