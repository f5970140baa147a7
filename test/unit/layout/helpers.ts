// Test helpers for the layout stores: a tiny stand-in for the transfer engine that writes
// fixture images to a Sink the way the engine does (blobs first, verified as they stream,
// children before parents, then commit), and a reader that walks a Source's whole graph.

import * as fs from 'node:fs'
import * as fsp from 'node:fs/promises'
import * as path from 'node:path'
import {Readable} from 'node:stream'

import {verify} from '../../../src/lib/io/verify.js'
import {childDescriptors, parseManifest} from '../../../src/lib/oci/manifest.js'
import type {Descriptor} from '../../../src/lib/oci/types.js'
import type {Sink, Source} from '../../../src/lib/stores/types.js'
import type {BuiltImage, BuiltIndex} from '../../support/fixtures.js'

/** descriptorsOf returns the config and layer descriptors of a fixture image. */
export function descriptorsOf(image: BuiltImage): Descriptor[] {
  return [...childDescriptors(parseManifest(image.manifestBytes))]
}

/** putImageBlobs stores an image's config and layers (skipping those the sink has), concurrently. */
export async function putImageBlobs(sink: Sink, image: BuiltImage): Promise<void> {
  await Promise.all(descriptorsOf(image).map(async (desc) => {
    if (await sink.hasBlob(desc)) return
    const bytes = image.blobs.get(desc.digest)!
    await sink.putBlob(desc, Readable.from([bytes]).pipe(verify(desc.digest, desc.size)))
  }))
}

/** writeImage stores a whole image; `names` undefined means not a root. */
export async function writeImage(sink: Sink, image: BuiltImage, names?: string[]): Promise<void> {
  await putImageBlobs(sink, image)
  await sink.putManifest(
    {bytes: image.manifestBytes, mediaType: image.mediaType, digest: image.manifestDigest},
    {root: names !== undefined, names: names ?? []},
  )
}

/** writeIndexTo stores an index as a root: every image, then the index. */
export async function writeIndexTo(sink: Sink, index: BuiltIndex, names: string[]): Promise<void> {
  for (const image of index.images) await writeImage(sink, image)
  await sink.putManifest({bytes: index.manifestBytes, mediaType: index.mediaType, digest: index.manifestDigest}, {root: true, names})
}

/** collect reads a stream to one buffer (fine for the tiny fixture blobs). */
export async function collect(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const c of stream) chunks.push(c as Buffer)
  return Buffer.concat(chunks)
}

/** GraphContent is everything a source holds under its roots: digest → bytes, manifests and blobs. */
export interface GraphContent {
  roots: {digest: string; mediaType: string; names: string[]}[]
  manifests: Map<string, Buffer>
  blobs: Map<string, Buffer>
}

/** readGraph walks every root of a source, reading each manifest and blob once, verified. */
export async function readGraph(source: Source): Promise<GraphContent> {
  const out: GraphContent = {roots: [], manifests: new Map(), blobs: new Map()}
  const walk = async (bytes: Buffer, mediaType: string) => {
    for (const child of childDescriptors(parseManifest(bytes, mediaType))) {
      if (out.manifests.has(child.digest) || out.blobs.has(child.digest)) continue
      if (/manifest|index/.test(child.mediaType) && !/config/.test(child.mediaType)) {
        const m = await source.manifest(child)
        out.manifests.set(child.digest, m.bytes)
        await walk(m.bytes, m.mediaType)
      } else {
        out.blobs.set(child.digest, await collect((await source.blob(child)).pipe(verify(child.digest, child.size))))
      }
    }
  }
  for (const root of await source.roots()) {
    out.roots.push({digest: root.digest, mediaType: root.mediaType, names: root.names})
    out.manifests.set(root.digest, root.bytes)
    await walk(root.bytes, root.mediaType)
  }
  return out
}

/** listFiles returns every file under dir, relative, sorted. */
export async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = []
  const walk = async (d: string) => {
    for (const e of await fsp.readdir(d, {withFileTypes: true})) {
      const p = path.join(d, e.name)
      if (e.isDirectory()) await walk(p)
      else out.push(path.relative(dir, p))
    }
  }
  await walk(dir)
  return out.sort()
}

/** tempFilesUnder returns the `.tmp-` files left anywhere under dir. */
export async function tempFilesUnder(dir: string): Promise<string[]> {
  if (!fs.existsSync(dir)) return []
  return (await listFiles(dir)).filter((f) => path.basename(f).startsWith('.tmp-'))
}

/** failingStream yields `good` bytes, then fails with an error (a dropped connection). */
export function failingStream(good: Buffer): Readable {
  let sent = false
  return new Readable({
    read() {
      if (!sent) {
        sent = true
        this.push(good)
      } else {
        setImmediate(() => this.destroy(new Error('connection reset')))
      }
    },
  })
}
