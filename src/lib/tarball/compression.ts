/**
 * compression: what a layer file in an archive is (by its magic bytes, never its name), and
 * the deterministic gzip that turns an uncompressed legacy `docker save` layer into the
 * compressed blob a registry expects.
 *
 * Determinism: zlib's deflate output depends only on the input bytes and the options (level,
 * window, memLevel, strategy), not on how the input is split into chunks, and Node's gzip
 * header has no name and a zero mtime. So compressing the same file twice with `gzipLayer()`
 * in the same process gives the same bytes: the digest measured when the source lists its
 * roots is the digest of what `blob()` streams later (the engine verifies it).
 */
import type {Readable} from 'node:stream'
import {Transform, Writable} from 'node:stream'
import {pipeline} from 'node:stream/promises'
import * as zlib from 'node:zlib'

import {createDigester} from '../oci/digest.js'

/** Compression of a layer file, as its first bytes say. */
export type FileCompression = 'gzip' | 'zstd' | 'none'

/** SNIFF_BYTES is how many leading bytes `detectCompression` needs. */
export const SNIFF_BYTES = 4

/** detectCompression looks at magic bytes: gzip `1f 8b`, zstd `28 b5 2f fd`, else none. */
export function detectCompression(head: Uint8Array): FileCompression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip'
  if (head.length >= 4 && head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'zstd'
  return 'none'
}

/**
 * LAYER_GZIP_OPTIONS fix every zlib parameter that affects the output. Level 6 is zlib's
 * (and Go's, and so docker's) default: the size registries usually see.
 */
export const LAYER_GZIP_OPTIONS: Readonly<zlib.ZlibOptions> = Object.freeze({
  level: 6,
  windowBits: 15,
  memLevel: 8,
  strategy: 0, // zlib.constants.Z_DEFAULT_STRATEGY, written out so that loading this module does not load zlib
  chunkSize: 64 * 1024,
})

/** gzipLayer returns a gzip Transform with the fixed options: same input, same output. */
export function gzipLayer(): zlib.Gzip {
  return zlib.createGzip(LAYER_GZIP_OPTIONS)
}

/** GzipMeasure is what compressing a layer gives: the blob's digest and size, and its diff id. */
export interface GzipMeasure {
  /** sha256 of the gzip bytes: the blob digest */
  digest: string
  /** size of the gzip bytes */
  size: number
  /** sha256 of the uncompressed input: the diff id */
  diffId: string
}

/**
 * measureGzip compresses `input` with `gzipLayer()` in one streaming pass, hashing both
 * sides and keeping nothing.
 */
export async function measureGzip(input: Readable): Promise<GzipMeasure> {
  const raw = createDigester('sha256')
  const gz = createDigester('sha256')
  const tap = new Transform({
    highWaterMark: 1024 * 1024,
    transform(chunk: Buffer, _enc, cb) {
      raw.update(chunk)
      cb(null, chunk)
    },
  })
  const sink = new Writable({
    highWaterMark: 1024 * 1024,
    write(chunk: Buffer, _enc, cb) {
      gz.update(chunk)
      cb()
    },
  })
  await pipeline(input, tap, gzipLayer(), sink)
  return {digest: gz.digest(), size: gz.size, diffId: raw.digest()}
}
