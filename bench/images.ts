// Bench images: big incompressible layers and 40 small ones, written as skopeo dir: images and
// pushed to a loopback registry; and a fresh, empty registry per measured run.
import {randomBytes} from 'node:crypto'
import {mkdir, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {gzipSync} from 'node:zlib'
import {makeLayerTar, sha256, skopeo} from '../test/support/fixtures.js'
import {type RunningRegistry, startRegistry} from '../test/support/registry.js'

export interface Layer {
  blob: Buffer
  diffId: string
}

/** a tar holding one file of random bytes, gzip-stored (incompressible, quick to make) */
export function bigLayer(mib: number, name = 'data.bin'): Layer {
  const data = randomBytes(mib * 1024 * 1024)
  const header = Buffer.alloc(512)
  header.write(name, 0)
  header.write('0000644\0', 100)
  header.write('0000000\0', 108)
  header.write('0000000\0', 116)
  header.write(`${data.length.toString(8).padStart(11, '0')}\0`, 124)
  header.write('00000000000\0', 136)
  header.write('        ', 148)
  header.write('0', 156)
  header.write('ustar\0', 257)
  header.write('00', 263)
  let sum = 0
  for (const b of header) sum += b
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148)
  const pad = Buffer.alloc((512 - (data.length % 512)) % 512)
  const tar = Buffer.concat([header, data, pad, Buffer.alloc(1024)])
  return {blob: gzipSync(tar, {level: 0}), diffId: sha256(tar)}
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
  const layerBlobs = layerList.map((l) => l.blob)
  const diffIds = layerList.map((l) => l.diffId)
  const config = Buffer.from(JSON.stringify({architecture: 'amd64', os: 'linux', rootfs: {type: 'layers', diff_ids: diffIds}, config: {}}))
  const blobs: string[] = []
  for (const b of [config, ...layerBlobs]) {
    const file = join(dir, sha256(b).slice(7))
    await writeFile(file, b)
    blobs.push(file)
  }
  const manifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
    config: {mediaType: 'application/vnd.docker.container.image.v1+json', size: config.length, digest: sha256(config)},
    layers: layerBlobs.map((b) => ({mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', size: b.length, digest: sha256(b)})),
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
