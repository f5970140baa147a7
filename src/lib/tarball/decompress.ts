/**
 * decompress: a layer blob as the tar inside it, whatever the media type says: the
 * first bytes decide (gzip `1f 8b`, zstd `28 b5 2f fd`, else an uncompressed tar).
 * gzip is inflated by zlib's stream, on the thread pool. Inflating on the main thread (driving
 * zlib's handle as zlib.gunzipSync does) was tried: export CPU was the same within noise (three
 * series of 5-6 runs: -10 %, 0, +4 %) and the wall time no better, so it was not kept.
 *
 * zstd: Node 20's zlib has no zstd. When zlib has `createZstdDecompress` (Node 22.15+), it is
 * used; otherwise the `zstd` program on PATH decompresses in a child process (`zstd -d -c`),
 * whose exit status is checked before the stream ends, so a corrupt frame is an error, never a
 * short tar. Without either, the export fails with a clear message.
 */
import {spawn} from 'node:child_process'
import {PassThrough, Readable, Transform, pipeline} from 'node:stream'
import * as zlib from 'node:zlib'

import {OcitoolError} from '../errors.js'
import {SNIFF_BYTES, detectCompression} from './compression.js'

/**
 * zlib's output chunk: at 64 KiB, each chunk's round trip through the thread pool cost more than
 * inflating it (a stored 48 MiB layer: 0.11 CPU-s at 64 KiB, 0.04 at 256 KiB; 384 MiB, 1 MiB
 * input pieces: 0.43 CPU-s at 256 KiB, 0.36 at 1 MiB)
 */
const GUNZIP_CHUNK = 1024 * 1024
/**
 * a blob known to be small gets small output chunks: zlib allocates a whole chunk for every
 * output piece, and 1 MiB for each of 40 layers of 1 KiB made flatten's garbage (0.55 -> 0.47
 * CPU-s with 64 KiB)
 */
const SMALL_GUNZIP_CHUNK = 64 * 1024

/**
 * decompressLayer returns the uncompressed tar of a layer blob stream; `what` names it in
 * errors, `size` (the blob's compressed size, when known) sizes zlib's output pieces.
 */
export async function decompressLayer(input: Readable, what: string, size?: number): Promise<Readable> {
  const {head, stream} = await peek(input, SNIFF_BYTES)
  switch (detectCompression(head)) {
    case 'gzip':
      return pipeline(stream, zlib.createGunzip({chunkSize: size !== undefined && size < GUNZIP_CHUNK ? SMALL_GUNZIP_CHUNK : GUNZIP_CHUNK}), () => {})
    case 'zstd': {
      const native = (zlib as unknown as {createZstdDecompress?: () => Transform}).createZstdDecompress
      if (typeof native === 'function') return pipeline(stream, native(), () => {})
      return zstdProcess(stream, what)
    }
    default:
      return stream
  }
}

/** the most a whole small blob may inflate to on the main thread (inflateWhole); a larger one streams */
const INFLATE_WHOLE_MAX = 16 * 1024 * 1024

/**
 * inflateWhole: the tar inside a whole small blob held in memory, inflated at once on the main
 * thread: no stream and no thread-pool round trip, which for 40 layers of a KiB were most of
 * flatten's zlib time. undefined for zstd, for gzip that does not inflate cleanly, and past
 * INFLATE_WHOLE_MAX: the caller then streams it (decompressLayer), which words the errors.
 */
export function inflateWhole(blob: Buffer): Buffer | undefined {
  switch (detectCompression(blob.subarray(0, SNIFF_BYTES))) {
    case 'gzip':
      try {
        return zlib.gunzipSync(blob, {maxOutputLength: INFLATE_WHOLE_MAX})
      } catch {
        return undefined
      }
    case 'zstd':
      return undefined
    default:
      return blob
  }
}

/**
 * peek reads at least `n` bytes (fewer at the end) and puts them back (`unshift`), so `input`
 * itself still yields everything from the first byte: no stream of our own in front of every
 * chunk.
 */
async function peek(input: Readable, n: number): Promise<{head: Buffer; stream: Readable}> {
  const first: Buffer[] = []
  let have = 0
  while (have < n) {
    const chunk = input.read() as Buffer | null
    if (chunk !== null) {
      first.push(chunk)
      have += chunk.length
      continue
    }
    if (input.errored) throw input.errored
    if (input.readableEnded || input.destroyed) break
    await new Promise<void>((resolve) => {
      const done = () => {
        input.off('readable', done)
        input.off('end', done)
        input.off('error', done)
        input.off('close', done)
        resolve()
      }
      input.on('readable', done)
      input.on('end', done)
      input.on('error', done)
      input.on('close', done)
    })
  }
  const head = Buffer.concat(first)
  if (head.length > 0) input.unshift(head)
  return {head, stream: input}
}

/** zstdProcess pipes the input through `zstd -d -c`; the output ends only after zstd exited 0. */
function zstdProcess(input: Readable, what: string): Readable {
  const out = new PassThrough({highWaterMark: 64 * 1024})
  const child = spawn('zstd', ['-d', '-c', '-q'], {stdio: ['pipe', 'pipe', 'pipe']})
  let stderr = ''
  let settled = false
  const fail = (e: Error) => {
    if (settled) return
    settled = true
    out.destroy(e)
    input.destroy()
    child.kill()
  }
  child.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') {
      fail(
        new OcitoolError(`${what}: zstd layers need the zstd program on PATH (Node ${process.version} cannot decompress zstd)`, {
          code: 'ZSTD_UNAVAILABLE',
          suggestions: ['install zstd (e.g. apt-get install zstd), or run on Node 22.15 or later'],
        }),
      )
    } else {
      fail(new OcitoolError(`${what}: running zstd: ${e.message}`, {code: 'ZSTD_FAILED', cause: e}))
    }
  })
  child.stderr.setEncoding('utf8').on('data', (s: string) => {
    if (stderr.length < 4096) stderr += s
  })
  // input errors (a digest mismatch) win; zstd closing its stdin early shows in its exit status
  pipeline(input, child.stdin, (e) => {
    if (e && (e as NodeJS.ErrnoException).code !== 'EPIPE' && e.name !== 'AbortError' && !/premature close/i.test(e.message)) fail(e)
  })
  child.stdout.pipe(out, {end: false})
  child.on('close', (code, signal) => {
    if (settled) return
    if (code === 0) {
      settled = true
      out.end()
      return
    }
    const why = stderr.trim().split('\n').pop() || (signal ? `killed by ${signal}` : `exit status ${code}`)
    fail(new OcitoolError(`${what}: zstd could not decompress the layer: ${why}`, {code: 'BAD_LAYER'}))
  })
  out.on('close', () => {
    if (!settled) {
      settled = true
      input.destroy()
      child.kill()
    }
  })
  return out
}
