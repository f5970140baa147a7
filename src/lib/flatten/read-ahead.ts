/**
 * read-ahead: the blobs of an image's small layers, read into memory (verified) ahead of
 * flatten's first pass and inflated there, so that many small layers are neither fetched one
 * round trip after another nor each sent through a stream and zlib's thread pool.
 */
import {Readable} from 'node:stream'

import {OcitoolError} from '../errors.js'
import {inflateWhole} from '../tarball/decompress.js'
import type {FlattenLayer} from './flatten.js'

/**
 * ReadAhead reads the blobs of small layers (verified) ahead of pass 1, a few at a time: an
 * image of many small layers is then not fetched one round trip after another (40 small
 * layers: sequential requests were half of flatten's time). Bounded: layers up to 1 MiB, 16 MiB
 * in all; larger ones stream. A blob is dropped once pass 1 took it.
 */
export class ReadAhead {
  static readonly LAYER_MAX = 1024 * 1024
  static readonly TOTAL_MAX = 16 * 1024 * 1024
  static readonly AHEAD = 8
  private readonly reads = new Map<number, Promise<Buffer>>()

  /** `layers` in the order pass 1 reads them (top first) */
  constructor(layers: Array<{index: number; layer: FlattenLayer}>) {
    let total = 0
    const small = layers.filter(({layer}) => {
      const size = layer.size
      if (size === undefined || size > ReadAhead.LAYER_MAX || total + size > ReadAhead.TOTAL_MAX) return false
      total += size
      return true
    })
    let next = 0
    const start = (): void => {
      if (next >= small.length) return
      const {index, layer} = small[next++]
      const read = readSmall(layer)
      read.catch(() => {}).finally(start)
      this.reads.set(index, read)
    }
    for (let k = 0; k < ReadAhead.AHEAD; k++) start()
  }

  /** open gives layer `i`: from memory when it is a small one, inflated there when it can be */
  open(i: number, layer: FlattenLayer): () => Promise<Readable | InflatedTar> {
    const read = this.reads.get(i)
    this.reads.delete(i)
    if (!read) return layer.open
    return async () => {
      const blob = await read
      const tar = inflateWhole(blob)
      return tar ? new InflatedTar(tar) : Readable.from([blob])
    }
  }

  close(): void {
    this.reads.clear()
  }
}

/** readSmall reads a small layer's blob whole; the stream ends only after it passed verification. */
async function readSmall(layer: FlattenLayer): Promise<Buffer> {
  const chunks: Buffer[] = []
  let have = 0
  for await (const chunk of await layer.open()) {
    have += (chunk as Buffer).length
    if (have > (layer.size ?? 0)) throw new OcitoolError(`${layer.what}: more than its ${layer.size} bytes`, {code: 'SIZE_MISMATCH'})
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks, have)
}

/** InflatedTar: a layer's tar already inflated in memory (ReadAhead) */
export class InflatedTar {
  constructor(readonly tar: Buffer) {}
}
