// make-hostile-corpus writes malformed inputs for test/faults/hostile.test.ts into a directory:
// docker archives whose layers try path traversal, absolute paths and symlinks out of the tree,
// a gzip bomb layer, a tar entry with a huge size header, a manifest.json naming missing files,
// and a directory with a symlink pointing outside. The test generates them into a temp dir at
// run time (the bomb is ~1 MiB, but 1 GiB uncompressed); run by hand to look at them:
//   node --import tsx scripts/make-hostile-corpus.ts OUTDIR
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as fsp from 'node:fs/promises'
import * as path from 'node:path'
import {pipeline} from 'node:stream/promises'
import {fileURLToPath} from 'node:url'
import * as zlib from 'node:zlib'
import * as tar from 'tar-stream'

const mtime = new Date('2000-01-01T00:00:00Z')
const sha256 = (b: Buffer | string) => `sha256:${crypto.createHash('sha256').update(b).digest('hex')}`

/** malformedReferences: inputs every command must refuse as a usage error (exit 2) */
export const malformedReferences: string[] = [
  '', ' ', 'repo with space', ' leading', 'trailing ', 'tab\there', 'new\nline', 'del\u007fchar', 'bell\u0007', 'esc\u001b[31m',
  'UPPER/case', 'Repo:tag', 'répo', 'ünïcode/app', 'app\u202etxt', 'emoji\ud83d\ude00', 'full\uff0fwidth', 'zero\u200bwidth',
  'a//b', '/leading', 'trailing/', 'a/./b', 'a/../b', '-dash', 'a--', '_under', 'a.', '.a', 'a..b',
  'repo:', ':tag', 'repo::tag', 'repo:-tag', 'repo:.tag', `repo:${'t'.repeat(129)}`, 'repo:tag with space', 'repo:t@g',
  'repo@', 'repo@sha256:', 'repo@sha256:abc', `repo@sha256:${'g'.repeat(64)}`, `repo@sha256:${'A'.repeat(64)}`, `repo@sha256:${'a'.repeat(63)}`,
  `repo@sha256:${'a'.repeat(65)}`, 'repo@md5:d41d8cd98f00b204e9800998ecf8427e', `repo@:${'a'.repeat(64)}`, `repo@@sha256:${'a'.repeat(64)}`,
  'host:99999/x', 'host:0x50/x', 'host:-1/x', 'host:/x', 'host:port/x', '[::1/x', '[zz::1]:5000/x', 'host:5000:6000/x',
  'a'.repeat(256), `${'a'.repeat(200)}/${'b'.repeat(60)}`, `reg.example.com/${'x/'.repeat(200)}y`, 'http://reg.example.com/app', 'back\\slash/app', 'reg.example.com/app?x=1', 'app#frag', 'app%2Fx',
]

export interface DockerArchiveImage {
  /** layer tar (uncompressed) bodies, or prebuilt file paths of gzip layers */
  layers: Buffer[]
}

/** tarOf packs entries in memory; `size` may lie for the huge-size case (then give no body) */
export async function tarOf(items: Array<{name: string; type?: 'file' | 'directory' | 'symlink' | 'link'; body?: string | Buffer; linkname?: string}>): Promise<Buffer> {
  const pack = tar.pack()
  const chunks: Buffer[] = []
  const done = (async () => {
    for await (const c of pack) chunks.push(c as Buffer)
  })()
  for (const it of items) {
    const type = it.type ?? 'file'
    const header = {name: it.name, type, mode: type === 'directory' ? 0o755 : 0o644, mtime, uid: 0, gid: 0, ...(it.linkname ? {linkname: it.linkname} : {})}
    await new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null) => (err ? reject(err) : resolve())
      if (type === 'file') pack.entry(header, Buffer.from(it.body ?? ''), cb)
      else pack.entry(header, cb)
    })
  }
  pack.finalize()
  await done
  return Buffer.concat(chunks)
}

/**
 * writeDockerArchive writes a `docker save` tarball with one image of the given layer files
 * (paths of gzip or plain tar layers, with their diff ids) and returns its path.
 */
export async function writeDockerArchive(file: string, layers: Array<{file: string; diffId: string}>, opts: {manifestLayers?: string[]} = {}): Promise<string> {
  const config = Buffer.from(JSON.stringify({architecture: 'amd64', os: 'linux', config: {}, rootfs: {type: 'layers', diff_ids: layers.map((l) => l.diffId)}}))
  const configName = `${sha256(config).slice(7)}.json`
  const layerNames = layers.map((_, i) => `layer${i}.tar`)
  const manifest = [{Config: configName, RepoTags: ['hostile/app:v1'], Layers: opts.manifestLayers ?? layerNames}]
  const pack = tar.pack()
  const out = pipeline(pack, fs.createWriteStream(file))
  const add = (name: string, body: Buffer) => new Promise<void>((resolve, reject) => pack.entry({name, mtime, size: body.length}, body, (e) => (e ? reject(e) : resolve())))
  await add(configName, config)
  for (const [i, l] of layers.entries()) {
    const size = (await fsp.stat(l.file)).size
    await new Promise<void>((resolve, reject) => {
      const entry = pack.entry({name: layerNames[i], mtime, size}, (e) => (e ? reject(e) : resolve()))
      fs.createReadStream(l.file).pipe(entry)
    })
  }
  await add('manifest.json', Buffer.from(JSON.stringify(manifest)))
  pack.finalize()
  await out
  return file
}

/** writeLayer writes a plain tar layer and returns it with its diff id */
async function writeLayer(file: string, body: Buffer): Promise<{file: string; diffId: string}> {
  await fsp.writeFile(file, body)
  return {file, diffId: sha256(body)}
}

/** gzipBomb writes a gzip layer of one file holding `size` zero bytes; returns its diff id too */
export async function writeGzipBomb(file: string, size: number): Promise<{file: string; diffId: string}> {
  const pack = tar.pack()
  const hash = crypto.createHash('sha256')
  const zeros = Buffer.alloc(1024 * 1024)
  const gz = zlib.createGzip({level: 9})
  const writing = pipeline(pack, async function* (src: AsyncIterable<Buffer>) {
    for await (const c of src) {
      hash.update(c)
      yield c
    }
  }, gz, fs.createWriteStream(file))
  const entry = pack.entry({name: 'zeros.bin', mtime, size, mode: 0o644})
  for (let left = size; left > 0; left -= zeros.length) {
    if (!entry.write(left >= zeros.length ? zeros : zeros.subarray(0, left))) await new Promise((r) => entry.once('drain', r))
  }
  entry.end()
  pack.finalize()
  await writing
  return {file, diffId: `sha256:${hash.digest('hex')}`}
}

/** hugeSizeTar: a header claiming an 8 GiB file followed by a few bytes, with a valid checksum */
export function hugeSizeTar(): Buffer {
  const h = Buffer.alloc(512)
  h.write('huge.bin', 0)
  h.write('0000644\0', 100)
  h.write('0000000\0', 108)
  h.write('0000000\0', 116)
  h.write('77777777777\0', 124)
  h.write('00000000000\0', 136)
  h.write('0', 156)
  h.write('ustar\0', 257)
  h.write('00', 263)
  h.fill(' ', 148, 156)
  let sum = 0
  for (const x of h) sum += x
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148)
  return Buffer.concat([h, Buffer.alloc(2048, 0x41)])
}

export interface HostileCorpus {
  dir: string
  /** docker archives whose layers name ../, absolute paths, symlinks and hard links out of the tree */
  traversal: string
  /** a docker archive whose one layer is a gzip bomb */
  bomb: string
  /** a docker archive whose layer has an entry with an 8 GiB size header */
  hugeSize: string
  /** a docker archive whose manifest.json names a layer and config that are not there */
  dangling: string
  /** a directory holding a symlink to a file outside it, and the outside file */
  symlinkDir: string
  outsideFile: string
}

/** makeHostileCorpus writes everything into dir (created if missing); bombBytes defaults to 1 GiB */
export async function makeHostileCorpus(dir: string, bombBytes = 1024 * 1024 * 1024): Promise<HostileCorpus> {
  await fsp.mkdir(dir, {recursive: true})
  const traversalLayer = await writeLayer(path.join(dir, 'traversal-layer.tar'), await tarOf([
    {name: 'ok.txt', body: 'fine\n'},
    {name: '../escape.txt', body: 'dot-dot\n'},
    {name: 'a/../../escape2.txt', body: 'nested dot-dot\n'},
    {name: '/etc/hostile-absolute.txt', body: 'absolute\n'},
    {name: 'link-out', type: 'symlink', linkname: '../../../../etc/passwd'},
    {name: 'abs-link', type: 'symlink', linkname: '/etc/shadow'},
    {name: 'link-out/through.txt', body: 'written through a symlink\n'},
    {name: 'hard-out', type: 'link', linkname: '../../etc/passwd'},
  ]))
  const traversal = await writeDockerArchive(path.join(dir, 'traversal.tar'), [traversalLayer])
  const bombLayer = await writeGzipBomb(path.join(dir, 'bomb-layer.tar.gz'), bombBytes)
  const bomb = await writeDockerArchive(path.join(dir, 'bomb.tar'), [bombLayer])
  const hugeLayer = await writeLayer(path.join(dir, 'huge-layer.tar'), hugeSizeTar())
  const hugeSize = await writeDockerArchive(path.join(dir, 'huge-size.tar'), [hugeLayer])
  const okLayer = await writeLayer(path.join(dir, 'ok-layer.tar'), await tarOf([{name: 'ok.txt', body: 'fine\n'}]))
  const dangling = await writeDockerArchive(path.join(dir, 'dangling.tar'), [okLayer], {manifestLayers: ['missing-layer.tar']})
  const symlinkDir = path.join(dir, 'symlink-dir')
  const outsideFile = path.join(dir, 'outside-secret.txt')
  await fsp.writeFile(outsideFile, 'outside the directory: must not be packed\n')
  await fsp.mkdir(symlinkDir, {recursive: true})
  await fsp.writeFile(path.join(symlinkDir, 'inside.txt'), 'inside\n')
  await fsp.symlink(outsideFile, path.join(symlinkDir, 'abs-link'))
  await fsp.symlink('../outside-secret.txt', path.join(symlinkDir, 'rel-link'))
  return {dir, traversal, bomb, hugeSize, dangling, symlinkDir, outsideFile}
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = process.argv[2]
  if (!out) {
    console.error('usage: node --import tsx scripts/make-hostile-corpus.ts OUTDIR')
    process.exit(2)
  }
  const c = await makeHostileCorpus(out)
  await fsp.writeFile(path.join(out, 'references.json'), JSON.stringify(malformedReferences, null, 1) + '\n')
  console.log(JSON.stringify(c, null, 2))
}
