/**
 * layer: what a user appends (a tar, a gzip or zstd compressed tar, a directory, or stdin) as
 * a layer blob, in one pass and one temporary file.
 *
 *   input → [gunzip | zstd -d] → TarCheck (diff id, headers checked) → [gzip | zstd] → file
 *
 * The compression of an input is read from its first bytes, never its name. An input already
 * compressed as wanted (gzip → gzip, zstd → zstd) is kept byte for byte: its bytes go to the
 * file as they are read, and are decompressed only to check the tar and hash the diff id.
 * Large gzip layers are compressed on worker threads (see layer-compress.ts).
 *
 * The input is streamed, never measured first, so stdin and named pipes work like files. The
 * temporary file (mode 0600) is removed on any error, and by `cleanup()` once the caller has
 * pushed or written the blob.
 */
import {randomBytes} from 'node:crypto'
import {createReadStream} from 'node:fs'
import {type FileHandle, open, rm, stat} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {type Duplex, Readable, Transform, type TransformCallback, Writable, pipeline} from 'node:stream'
import * as zlib from 'node:zlib'

import {InterruptedError, NotFoundError, OcitoolError, UsageError, isOcitoolError} from '../errors.js'
import {createDigester, type Digester} from '../oci/digest.js'
import {MediaType} from '../oci/media-types.js'
import type {Descriptor} from '../oci/types.js'
import {SNIFF_BYTES, detectCompression, type FileCompression} from '../tarball/compression.js'
import {packDir} from '../tarball/pack-dir.js'
import {GzipEncoder, zstdDecoder, zstdEncoder} from './layer-compress.js'
import {TarCheck} from './layer-tar.js'
import type {BlobBytes} from './overlay.js'

const MiB = 1024 * 1024

export type LayerCompressionChoice = 'gzip' | 'zstd' | 'none'

export interface LayerInputOptions {
  /** compression of the blob (default gzip) */
  compression?: LayerCompressionChoice
  /** default 1 for gzip (crane's default: best speed), 3 for zstd; ignored for a kept input */
  level?: number
  /** the base image's kind: decides the layer media type */
  mediaTypes: 'oci' | 'docker'
  /** mtime of a directory's entries, in seconds (default SOURCE_DATE_EPOCH, else 0) */
  mtime?: number
  /** owner of a directory's entries (default 0/0) */
  ownership?: {uid: number; gid: number}
  /** where the temporary file goes (default os.tmpdir()) */
  tmpDir?: string
  signal?: AbortSignal
  warn?: (message: string) => void
  /** read this instead of process.stdin for `-` (tests, embedding) */
  stdin?: Readable
  /** gzip tuning (tests, benchmarks): worker threads, single-member threshold, member size */
  gzip?: {workers?: number; threshold?: number; memberSize?: number}
  /**
   * also written every blob byte, in order, as it is made (an upload under way); a failing tee
   * is dropped without failing the layer, which is still whole in its temporary file
   */
  tee?: Writable
}

export interface PreparedLayer {
  /** mediaType, digest (of the compressed bytes) and size */
  desc: Descriptor
  /** sha256 of the uncompressed tar */
  diffId: string
  /** the compressed bytes, in a temporary file */
  bytes: BlobBytes
  /** removes the temporary file; safe to call more than once */
  cleanup(): Promise<void>
}

const LAYER_TYPES = {
  oci: {gzip: MediaType.ociLayerGzip, zstd: MediaType.ociLayerZstd, none: MediaType.ociLayer},
  docker: {gzip: MediaType.dockerLayer, zstd: MediaType.dockerLayerZstd, none: MediaType.dockerLayerUncompressed},
} as const

/** layerMediaType is the layer media type for a base image's kind and a compression. */
export function layerMediaType(kind: 'oci' | 'docker', compression: LayerCompressionChoice): string {
  return LAYER_TYPES[kind][compression]
}

const LEVELS = {gzip: {min: 0, max: 9, default: 1}, zstd: {min: 1, max: 22, default: 3}} as const

function checkOptions(options: LayerInputOptions): {compression: LayerCompressionChoice; level: number} {
  const compression = options.compression ?? 'gzip'
  if (!(compression in LAYER_TYPES.oci)) throw new UsageError(`unknown layer compression ${JSON.stringify(compression)} (use gzip, zstd or none)`)
  if (options.mediaTypes !== 'oci' && options.mediaTypes !== 'docker') {
    throw new UsageError(`unknown media types ${JSON.stringify(options.mediaTypes)} (oci or docker)`)
  }
  if (compression === 'none') return {compression, level: 0}
  const range = LEVELS[compression]
  const level = options.level ?? range.default
  if (!Number.isInteger(level) || level < range.min || level > range.max) {
    throw new UsageError(`${compression} level must be an integer from ${range.min} to ${range.max}, got ${level}`)
  }
  return {compression, level}
}

/** sourceDateEpoch reads SOURCE_DATE_EPOCH (reproducible-builds.org); undefined when unset. */
function sourceDateEpoch(): number | undefined {
  const v = process.env.SOURCE_DATE_EPOCH
  if (v === undefined || v === '') return undefined
  if (!/^\d+$/.test(v.trim())) throw new UsageError(`SOURCE_DATE_EPOCH ${JSON.stringify(v)} is not a number of seconds`)
  return Number(v.trim())
}

/** Source is the opened input: a stream, and whether it is a packed directory. */
interface Source {
  stream: Readable
  directory: boolean
}

async function openInput(input: string, what: string, options: LayerInputOptions): Promise<Source> {
  if (input === '-') {
    const stream = options.stdin ?? process.stdin
    if ((stream as {isTTY?: boolean}).isTTY) throw new UsageError(`${what}: stdin is a terminal; pipe a tar into it or name a file`)
    return {stream, directory: false}
  }
  let st
  try {
    st = await stat(input)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new NotFoundError(`${what}: no such file or directory`, {cause: e})
    throw new OcitoolError(`${what}: ${(e as Error).message}`, {code: 'READ', cause: e})
  }
  if (st.isDirectory()) {
    const mtime = options.mtime ?? sourceDateEpoch() ?? 0
    // tar-stream writes mtimes as 32-bit seconds
    if (!Number.isInteger(mtime) || mtime < 0 || mtime > 0x7fffffff) {
      throw new UsageError(`${what}: mtime must be a whole number of seconds from 0 to ${0x7fffffff}, got ${mtime}`)
    }
    const {uid, gid} = options.ownership ?? {uid: 0, gid: 0}
    return {stream: packDir(input, {mtime, uid, gid, warn: options.warn, signal: options.signal, what}), directory: true}
  }
  if (st.isSocket()) throw new UsageError(`${what}: is a socket, not a tar file or directory`)
  // files, named pipes and character devices alike: streamed, never sized first
  return {stream: createReadStream(input, {highWaterMark: MiB}), directory: false}
}

/**
 * sniff reads the first `n` bytes (fewer if the input is shorter) and puts them back, so the
 * stream still yields everything from its first byte.
 */
async function sniff(stream: Readable, n: number): Promise<{head: Buffer; stream: Readable}> {
  const parts: Buffer[] = []
  let have = 0
  let ended = false
  while (have < n && !ended) {
    const chunk = stream.read() as Buffer | null
    if (chunk !== null) {
      parts.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)
      have += chunk.length
      continue
    }
    if (stream.readableEnded) {
      ended = true
      break
    }
    await new Promise<void>((resolve, reject) => {
      const done = (e?: Error) => {
        stream.off('readable', onReadable)
        stream.off('end', onEnd)
        stream.off('error', done)
        if (e) reject(e)
        else resolve()
      }
      const onReadable = () => done()
      const onEnd = () => {
        ended = true
        done()
      }
      stream.on('readable', onReadable)
      stream.on('end', onEnd)
      stream.on('error', done)
    })
  }
  const head = Buffer.concat(parts)
  if (ended) return {head, stream: Readable.from(head.length > 0 ? [head] : [])}
  if (head.length > 0) stream.unshift(head)
  return {head, stream}
}

/** Output writes the blob to the temporary file (and the tee), hashing it (unless told not to) and counting. */
class Output {
  readonly digester: Digester | undefined
  size = 0
  private tee: Writable | undefined
  /** why the tee was dropped, if it was */
  teeError: Error | undefined

  constructor(
    private readonly fh: FileHandle,
    hash: boolean,
    tee?: Writable,
  ) {
    this.digester = hash ? createDigester('sha256') : undefined
    this.tee = tee
    tee?.once('error', (e) => this.dropTee(e))
  }

  async write(chunks: Buffer[]): Promise<void> {
    for (const c of chunks) {
      this.digester?.update(c)
      this.size += c.length
    }
    await Promise.all([this.writeFile(chunks), this.writeTee(chunks)])
  }

  private dropTee(e: Error): void {
    this.teeError ??= e
    this.tee = undefined
  }

  private async writeTee(chunks: Buffer[]): Promise<void> {
    const tee = this.tee
    if (!tee) return
    if (tee.destroyed) {
      this.dropTee(new Error('the upload stopped'))
      return
    }
    let full = false
    for (const c of chunks) full = !tee.write(c) || full
    if (!full || tee.destroyed) return
    await new Promise<void>((resolve) => {
      const done = () => {
        tee.off('drain', done)
        tee.off('close', done)
        resolve()
      }
      tee.on('drain', done)
      tee.on('close', done)
    })
  }

  private async writeFile(chunks: Buffer[]): Promise<void> {
    let list = chunks
    while (list.length > 0) {
      let {bytesWritten: n} = await this.fh.writev(list)
      const rest: Buffer[] = []
      for (const b of list) {
        if (n >= b.length) n -= b.length
        else {
          rest.push(b.subarray(n))
          n = 0
        }
      }
      list = rest
    }
  }
}

/** fileSink ends a pipeline in the temporary file. */
function fileSink(out: Output): Writable {
  return new Writable({
    highWaterMark: 4 * MiB,
    writev(chunks, cb) {
      out.write(chunks.map((c) => c.chunk as Buffer)).then(() => cb(), cb)
    },
  })
}

/** keepTap writes what passes to the temporary file as it is, and passes it on. */
function keepTap(out: Output): Transform {
  return new Transform({
    highWaterMark: MiB,
    transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback) {
      this.push(chunk)
      out.write([chunk]).then(() => cb(), cb)
    },
  })
}

function discard(): Writable {
  return new Writable({highWaterMark: 4 * MiB, write: (_c, _e, cb) => cb()})
}

function decoder(kind: FileCompression, what: string): Duplex | undefined {
  if (kind === 'gzip') return zlib.createGunzip({chunkSize: MiB})
  if (kind === 'zstd') return zstdDecoder(what)
  return undefined
}

/**
 * prepareLayer turns `input` (a path, or `-` for stdin) into a compressed layer blob in a
 * temporary file, with its descriptor and diff id. Errors are one line, naming the input:
 * UsageError (exit 2) for what is not a tar, a corrupt or truncated one, or an entry that
 * escapes the root; NotFoundError for a missing path.
 */
export async function prepareLayer(input: string, options: LayerInputOptions): Promise<PreparedLayer> {
  const {compression, level} = checkOptions(options)
  const what = input === '-' ? 'layer stdin' : `layer ${input}`
  if (options.signal?.aborted) throw new InterruptedError()
  const opened = await openInput(input, what, options)

  const dir = options.tmpDir ?? tmpdir()
  const path = join(dir, `ocitool-layer-${randomBytes(8).toString('hex')}.tmp`)
  let fh: FileHandle
  try {
    fh = await open(path, 'wx', 0o600)
  } catch (e) {
    opened.stream.destroy()
    throw new OcitoolError(`${what}: cannot create a temporary file in ${dir}: ${(e as Error).message}`, {code: 'WRITE', cause: e})
  }
  const cleanup = () => rm(path, {force: true})

  let decompress: Duplex | undefined
  let decompressError: Error | undefined
  let encoder: GzipEncoder | undefined
  try {
    let source = opened.stream
    let found: FileCompression = 'none'
    if (!opened.directory) {
      const sniffed = await sniff(source, SNIFF_BYTES)
      source = sniffed.stream
      found = detectCompression(sniffed.head)
    }
    const keep = found === compression && compression !== 'none'
    const out = new Output(fh, compression !== 'none', options.tee)
    const check = new TarCheck(what, options.warn)
    decompress = decoder(found, what)
    decompress?.once('error', (e) => (decompressError = e))
    const stages: (Readable | Writable | Duplex)[] = [source]
    if (keep) stages.push(keepTap(out))
    if (decompress) stages.push(decompress)
    stages.push(check)
    if (!keep && compression === 'gzip') stages.push((encoder = new GzipEncoder({level, ...options.gzip})))
    if (!keep && compression === 'zstd') stages.push(zstdEncoder(level, what))
    stages.push(keep ? discard() : fileSink(out))
    await run(stages, options.signal)
    await fh.close()
    if (out.teeError) options.tee?.destroy()
    const digest = out.digester?.digest() ?? check.diffId()
    return {
      desc: {mediaType: layerMediaType(options.mediaTypes, compression), digest, size: out.size},
      diffId: check.diffId(),
      bytes: {file: path},
      cleanup,
    }
  } catch (e) {
    opened.stream.destroy()
    options.tee?.destroy()
    // its worker threads have stopped once it closed: none outlives a failed layer
    if (encoder !== undefined && !encoder.closed) await new Promise((resolve) => encoder!.destroy().once('close', resolve))
    await fh.close().catch(() => {})
    await cleanup()
    throw explain(e, what, decompressError, options.signal)
  }
}

/** run pipes the stages into each other; an abort destroys them with an InterruptedError. */
function run(stages: (Readable | Writable | Duplex)[], signal: AbortSignal | undefined): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => stages[0].destroy(new InterruptedError())
    signal?.addEventListener('abort', onAbort, {once: true})
    pipeline(stages as NodeJS.ReadWriteStream[], (err) => {
      signal?.removeEventListener('abort', onAbort)
      if (err) reject(err)
      else resolve()
    })
  })
}

/** explain turns what failed into one line naming the input. */
function explain(e: unknown, what: string, decompressError: Error | undefined, signal: AbortSignal | undefined): Error {
  if (signal?.aborted) return isOcitoolError(e) && e instanceof InterruptedError ? e : new InterruptedError('interrupted', {cause: e})
  if (isOcitoolError(e)) return e
  const err = e as NodeJS.ErrnoException
  if (decompressError !== undefined && (e === decompressError || /^Z_/.test(String(err.code)))) {
    if (err.code === 'Z_BUF_ERROR') return new UsageError(`${what}: truncated gzip data (unexpected end of file)`, {code: 'BAD_LAYER', cause: e})
    return new UsageError(`${what}: corrupt gzip data: ${err.message}`, {code: 'BAD_LAYER', cause: e})
  }
  if (err.code === 'ENOSPC') return new OcitoolError(`${what}: no space left on device for the temporary file`, {code: 'WRITE', cause: e})
  if (err.code === 'EACCES' || err.code === 'EPERM') return new OcitoolError(`${what}: permission denied`, {code: 'READ', cause: e})
  if (err.code === 'EISDIR') return new UsageError(`${what}: is a directory`, {cause: e})
  return new OcitoolError(`${what}: ${err.message ?? String(e)}`, {code: 'LAYER', cause: e})
}
