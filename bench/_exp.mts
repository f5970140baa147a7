// scratch: source registry with the bench's big image, kept running; prints host
import {randomBytes} from 'node:crypto'
import {gzipSync} from 'node:zlib'
import {mkdir, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {makeLayerTar, sha256, skopeo} from '../test/support/fixtures.js'
import {startRegistry} from '../test/support/registry.js'
const work = '/tmp/scr/img'
function bigLayer(mib: number) {
  const data = randomBytes(mib * 1024 * 1024)
  const header = Buffer.alloc(512)
  header.write('data.bin', 0); header.write('0000644\0', 100); header.write('0000000\0', 108); header.write('0000000\0', 116)
  header.write(`${data.length.toString(8).padStart(11, '0')}\0`, 124); header.write('00000000000\0', 136); header.write('        ', 148); header.write('0', 156); header.write('ustar\0', 257); header.write('00', 263)
  let sum = 0; for (const b of header) sum += b
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148)
  const tar = Buffer.concat([header, data, Buffer.alloc((512 - (data.length % 512)) % 512), Buffer.alloc(1024)])
  return {blob: gzipSync(tar, {level: 0}), diffId: sha256(tar)}
}
async function makeImage(name: string, layerList: {blob: Buffer; diffId: string}[]) {
  const dir = join(work, name); await mkdir(dir, {recursive: true})
  const config = Buffer.from(JSON.stringify({architecture: 'amd64', os: 'linux', rootfs: {type: 'layers', diff_ids: layerList.map((l) => l.diffId)}, config: {}}))
  for (const b of [config, ...layerList.map((l) => l.blob)]) await writeFile(join(dir, sha256(b).slice(7)), b)
  await writeFile(join(dir, 'manifest.json'), JSON.stringify({schemaVersion: 2, mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
    config: {mediaType: 'application/vnd.docker.container.image.v1+json', size: config.length, digest: sha256(config)},
    layers: layerList.map((l) => ({mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', size: l.blob.length, digest: sha256(l.blob)}))}))
  await writeFile(join(dir, 'version'), 'Directory Transport Version: 1.1\n')
  return dir
}
const src = await startRegistry({flavour: 'plain'})
const big = await makeImage('big', Array.from({length: 8}, () => bigLayer(48)))
const small = await makeImage('small', await Promise.all(Array.from({length: 40}, async (_, i) => { const tar = await makeLayerTar(`small-${i}`); return {blob: gzipSync(tar), diffId: sha256(tar)} })))
for (const [d, ref] of [[big, 'bench/big:v1'], [small, 'bench/small:v1']]) { const r = await skopeo(['copy', '--dest-tls-verify=false', `dir:${d}`, `docker://${src.host}/${ref}`]); if (r.code) throw new Error(r.stderr) }
const dst = await startRegistry({flavour: 'plain'})
console.log(src.host, dst.host, dst.dir ?? '')
await new Promise(() => {})
