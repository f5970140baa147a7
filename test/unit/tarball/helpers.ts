// Shared helpers for the tarball tests: hand-made tar headers, tars built with tar-stream,
// and writing a fixture image into a Sink the way the transfer engine does (blobs, then the
// manifest, then commit), without depending on the engine.

import * as fsp from 'node:fs/promises'
import {Readable} from 'node:stream'
import * as tar from 'tar-stream'

import {isForeign} from '../../../src/lib/oci/media-types.js'
import type {Descriptor} from '../../../src/lib/oci/types.js'
import type {Sink, Source} from '../../../src/lib/stores/types.js'
import {type BuiltImage, type BuiltIndex, sha256} from '../../support/fixtures.js'

export interface TarItem {
  name: string
  body?: Buffer | string
  type?: 'file' | 'link' | 'symlink' | 'directory'
  linkname?: string
}

/** packTar builds a tar with tar-stream's pack (ustar, PAX for long names). */
export async function packTar(items: TarItem[]): Promise<Buffer> {
  const pack = tar.pack()
  const chunks: Buffer[] = []
  const done = (async () => {
    for await (const c of pack) chunks.push(c as Buffer)
  })()
  for (const it of items) {
    const type = it.type ?? 'file'
    const header = {name: it.name, type, mtime: new Date(0), ...(it.linkname ? {linkname: it.linkname} : {})}
    await new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null) => (err ? reject(err) : resolve())
      if (type === 'file') pack.entry(header, Buffer.from(it.body ?? ''), cb)
      else pack.entry(header, cb).end(undefined)
    })
  }
  pack.finalize()
  await done
  return Buffer.concat(chunks)
}

/** rawHeader encodes one header block by hand (for GNU long names and odd cases tar-stream does not write). */
export function rawHeader(name: string, size: number, flag: string, opts: {linkname?: string; gnu?: boolean; base256Size?: boolean} = {}): Buffer {
  const b = Buffer.alloc(512)
  b.write(name.slice(0, 100), 0, 'utf8')
  b.write('0000644\0', 100, 'latin1')
  b.write('0000000\0', 108, 'latin1')
  b.write('0000000\0', 116, 'latin1')
  if (opts.base256Size) {
    b[124] = 0x80
    let n = size
    for (let i = 135; i > 124; i--) {
      b[i] = n % 256
      n = Math.floor(n / 256)
    }
  } else {
    b.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 'latin1')
  }
  b.write('00000000000\0', 136, 'latin1')
  b[156] = flag.charCodeAt(0)
  if (opts.linkname) b.write(opts.linkname.slice(0, 100), 157, 'utf8')
  if (opts.gnu) b.write('ustar  \0', 257, 'latin1')
  else b.write('ustar\x0000', 257, 'latin1')
  b.fill(0x20, 148, 156)
  let sum = 0
  for (const x of b) sum += x
  b.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1')
  return b
}

/** padded returns a body followed by zeros up to a 512-byte boundary. */
export function padded(body: Buffer): Buffer {
  return Buffer.concat([body, Buffer.alloc((512 - (body.length % 512)) % 512)])
}

export async function readAll(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const c of stream) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c as Uint8Array))
  return Buffer.concat(chunks)
}

/** descriptorsOf returns the config and layer descriptors of a built image's manifest. */
export function descriptorsOf(image: BuiltImage): {config: Descriptor; layers: Descriptor[]} {
  const m = JSON.parse(image.manifestBytes.toString('utf8')) as {config: Descriptor; layers: Descriptor[]}
  return {config: m.config, layers: m.layers}
}

/** putImage writes one image into a sink as the engine would: new blobs, then the manifest. */
export async function putImage(sink: Sink, image: BuiltImage, names: string[]): Promise<void> {
  const {config, layers} = descriptorsOf(image)
  for (const d of [config, ...layers]) {
    if (isForeign(d.mediaType) || (await sink.hasBlob(d))) continue // the engine leaves foreign layers out
    await sink.putBlob(d, Readable.from([image.blobs.get(d.digest)!]))
  }
  await sink.putManifest({bytes: image.manifestBytes, mediaType: image.mediaType, digest: image.manifestDigest}, {root: true, names})
}

/** putIndex writes an index's images (not as roots), then the index as a root. */
export async function putIndex(sink: Sink, built: BuiltIndex, names: string[]): Promise<void> {
  for (const im of built.images) {
    const {config, layers} = descriptorsOf(im)
    for (const d of [config, ...layers]) if (!(await sink.hasBlob(d))) await sink.putBlob(d, Readable.from([im.blobs.get(d.digest)!]))
    await sink.putManifest({bytes: im.manifestBytes, mediaType: im.mediaType, digest: im.manifestDigest}, {root: false, names: []})
  }
  await sink.putManifest({bytes: built.manifestBytes, mediaType: built.mediaType, digest: built.manifestDigest}, {root: true, names})
}

/** writeImages writes images (with their names) into a sink and commits it. */
export async function writeImages(sink: Sink, images: {image: BuiltImage; names: string[]}[]): Promise<void> {
  try {
    for (const {image, names} of images) await putImage(sink, image, names)
    await sink.commit()
  } catch (e) {
    await sink.abort()
    throw e
  }
}

/** blobDigest reads a blob from a source and returns the sha256 of its bytes. */
export async function blobDigest(source: Source, desc: Descriptor): Promise<string> {
  return sha256(await readAll(await source.blob(desc)))
}

/** listDir lists a directory's names (to check no temporary file was left). */
export async function listDir(dir: string): Promise<string[]> {
  return (await fsp.readdir(dir)).sort()
}
