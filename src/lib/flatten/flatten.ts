/**
 * flatten: the filesystem of an image as one tar (`crane export`): layers applied in order,
 * later layers win, whiteouts applied and never written, hard links kept (after their
 * targets), symlinks kept as links. See plan.ts for the rules.
 *
 * Each layer is fetched, verified and inflated once. Pass 1 reads the layers from the top down,
 * decides what survives (plan.ts), and keeps the header and bytes of every entry that may be
 * written (spool.ts: small ones in memory, the rest in a temporary file; small layers are read
 * ahead into memory, read-ahead.ts). Pass 2 writes the
 * surviving directories (parents first), then each layer's survivors from the bottom up, from
 * what pass 1 kept. Memory grows with the number of paths, never with layer sizes. A layer is
 * read a second time only when one of its hard links needs the bytes of an entry a higher layer
 * replaced (pass 1 did not know to keep them). Every entry is read to the end, so a layer is
 * always verified whole, and nothing is written before every layer was.
 *
 * Names are normalised (`./a`, `/a`, `a/` → `a`; `.` and `..` resolved); a name, or a hard
 * link's target, that climbs out of the root fails the export (code UNSAFE_PATH) or, with
 * `unsafePaths: 'skip'`, is warned about and left out. Symlink targets are data, kept as
 * written; but an entry whose parent resolves, through the image's own symlinks, outside the
 * root (`var/run -> /run` then `var/run/x`, `rel -> ../..` then `rel/f`) would be written
 * outside by whoever extracts the tar: it is written where the link leads inside the root, as a
 * container sees it (`run/x`, `f`). An entry under a symlink loop is refused (or skipped).
 * Inside-root links (`lib -> usr/lib`, `lib/x`) are written as they are. Written headers keep
 * mode (also 0), owners, times, device numbers and PAX records (xattrs, sub-second times), not
 * the input's path/size records.
 */
import {Readable, type Writable} from 'node:stream'
import {pipeline} from 'node:stream/promises'
import * as tar from 'tar-stream'

import {InterruptedError, OcitoolError, isOcitoolError} from '../errors.js'
import {decompressLayer} from '../tarball/decompress.js'
import {type Action, type EntryKind, type FlattenPlan, FlattenPlanner} from './plan.js'
import {InflatedTar, ReadAhead} from './read-ahead.js'
import {Spool, type Spooled} from './spool.js'

/**
 * LAYER_PIECE: layer blobs are best read in pieces of at least this size (VerifyOptions.coalesce):
 * sockets deliver ~64 KiB, and every piece costs a hash update, a trip through zlib's thread pool
 * and a tar parser step
 */
export const LAYER_PIECE = 1024 * 1024

/** FlattenLayer is one layer, bottom first in the list; `open` gives a fresh (verified) blob stream per call. */
export interface FlattenLayer {
  /** for messages: `layer 2 sha256:…` */
  what: string
  /** the layer blob: gzip, zstd or a plain tar (told apart by magic bytes) */
  open: () => Promise<Readable>
  /** the blob's size, when known: small layers are then read once for both passes */
  size?: number
}

export interface FlattenOptions {
  /** 'error' (default) fails on an entry outside the root; 'skip' warns and leaves it out */
  unsafePaths?: 'error' | 'skip'
  warn?: (message: string) => void
  signal?: AbortSignal
  /** end `out` when done (default true; false for stdout) */
  end?: boolean
  /** where bytes waiting to be written are kept (default os.tmpdir()); see spool.ts */
  spoolDir?: string
}

export interface FlattenResult {
  /** entries written */
  entries: number
  /** file content bytes written */
  bytes: number
}

type Header = Partial<Omit<tar.Header, 'pax'>> & {name: string; pax?: Record<string, string> | null}
/** an entry of tar-stream's extract: a streamx Readable with its header */
type Entry = tar.Extract extends AsyncIterable<infer S> ? S : never
/** tar-stream's extract options (its types omit them): old v7 headers without the ustar magic are accepted */
const EXTRACT_OPTIONS = {allowUnknownFormat: true} as Parameters<typeof tar.extract>[0]

/** PAX records that tar-stream writes itself from the header (or that would contradict it). */
const OWN_PAX = new Set(['path', 'linkpath', 'size'])
/** tar-stream turns mode 0 into 0644: a file-type bit keeps it non-zero; only 0o7777 is written. */
const KEEP_MODE = 0o100000
const MAX_OCTAL_ID = 0o777777
const EMPTY = Buffer.alloc(0)

/** flatten writes the flattened filesystem of `layers` (bottom first) to `out` as a tar. */
export async function flatten(layers: FlattenLayer[], out: Writable, options: FlattenOptions = {}): Promise<FlattenResult> {
  const planner = new FlattenPlanner<Header>({unsafePaths: options.unsafePaths, warn: options.warn})
  const ahead = new ReadAhead(layers.map((layer, index) => ({index, layer})).reverse())
  const spool = new Spool(options.spoolDir)
  /** `layer:ordinal` → what pass 1 kept of an entry pass 2 may write */
  const kept = new Map<string, Kept>()
  try {
    for (let i = layers.length - 1; i >= 0; i--) {
      planner.beginLayer(i, layers[i].what)
      await eachEntry(layers[i], ahead.open(i, layers[i]), options.signal, async (entry, ordinal) => {
        const h = entry.header as Header
        const kind = kindOf(h)
        const keep = planner.entry({ordinal, name: h.name, kind, linkname: h.linkname ?? undefined, header: kind === 'directory' ? outHeader(h, '') : undefined})
        if (!keep || kind === 'directory') {
          entry.resume()
          return
        }
        const size = kind === 'file' ? (h.size ?? 0) : 0
        if (size === 0) entry.resume()
        kept.set(`${i}:${ordinal}`, {header: h, body: size > 0 ? await spool.take(bytesOf(entry), size) : undefined})
      })
      planner.endLayer()
    }
    const plan = planner.finish()
    return await write(plan, layers, kept, spool, out, options)
  } finally {
    ahead.close()
    await spool.close()
  }
}

/** Kept: an entry's header and, for a file, its bytes, from pass 1 */
interface Kept {
  header: Header
  body?: Spooled
}

/**
 * write is pass 2: the surviving directories (parents first), then each layer's surviving
 * entries, bottom layer first, from what pass 1 kept; a layer of which pass 1 did not keep all
 * that is needed (a hard link to a file its own layer has and a higher layer replaced) is read again.
 */
async function write(plan: FlattenPlan<Header>, layers: FlattenLayer[], kept: Map<string, Kept>, spool: Spool, out: Writable, options: FlattenOptions): Promise<FlattenResult> {
  const pack = tar.pack()
  pack.on('error', () => {}) // seen through `writing` and the entry callbacks
  // through a Node Readable: given a streamx source, Node's pipeline ignores `end: false`
  const writing = pipeline(Readable.from(pack, {objectMode: false}), out, {end: options.end ?? true, signal: options.signal})
  let writeFailure: unknown
  writing.catch((e: unknown) => {
    writeFailure = e
  })
  const result: FlattenResult = {entries: 0, bytes: 0}
  try {
    for (const d of plan.directories) {
      // tar-stream does not add the trailing slash GNU tar and docker write for directories
      await add(pack, {...d.header, name: `${d.path}/`, type: 'directory'})
      result.entries++
    }
    for (const [i, layer] of layers.entries()) {
      const actions = plan.actions.get(i)
      if (!actions) continue
      const ordinals = [...actions.keys()].sort((a, b) => a - b)
      if (ordinals.every((o) => kept.has(`${i}:${o}`))) {
        for (const o of ordinals) {
          if (options.signal?.aborted) throw new InterruptedError()
          const k = kept.get(`${i}:${o}`) as Kept
          kept.delete(`${i}:${o}`)
          result.bytes += await emit(pack, k.header, actions.get(o) as Action, k.body === undefined ? undefined : spool.read(k.body))
          result.entries++
        }
        continue
      }
      await eachEntry(layer, layer.open, options.signal, async (entry, ordinal) => {
        const a = actions.get(ordinal)
        if (!a) {
          entry.resume()
          return
        }
        result.bytes += await emit(pack, entry.header as Header, a, bytesOf(entry))
        result.entries++
      })
    }
    pack.finalize()
    await writing
  } catch (e) {
    pack.destroy(e instanceof Error ? e : new Error(String(e)))
    await writing.catch(() => {})
    // when the output failed, the pack's own complaint ("pack stream destroyed") says less
    throw writeFailure !== undefined && !isOcitoolError(e) ? writeFailure : e
  }
  return result
}

/** eachEntry streams one layer's tar, calling `fn` for every entry in order; `fn` must consume the entry. */
async function eachEntry(layer: FlattenLayer, open: () => Promise<Readable | InflatedTar>, signal: AbortSignal | undefined, fn: (entry: Entry, ordinal: number) => Promise<void>): Promise<void> {
  if (signal?.aborted) throw new InterruptedError()
  let input: Readable | undefined
  const extract = tar.extract(EXTRACT_OPTIONS)
  try {
    const opened = await open()
    input = opened instanceof InflatedTar ? Readable.from([opened.tar]) : await decompressLayer(opened, layer.what, layer.size)
    const feeding = pipeline(input, extract)
    feeding.catch(() => {})
    let ordinal = 0
    for await (const entry of extract) {
      if (signal?.aborted) throw new InterruptedError()
      try {
        await fn(entry, ordinal++)
      } catch (e) {
        throw new Passed(e)
      }
    }
    await feeding
  } catch (e) {
    input?.destroy()
    extract.destroy()
    if (signal?.aborted && !isOcitoolError(e)) throw new InterruptedError('interrupted', {cause: e})
    if (e instanceof Passed) throw e.error // the consumer's own error (the output failed), as it is
    if (isOcitoolError(e)) throw e
    const message = e instanceof Error ? e.message : String(e)
    throw new OcitoolError(`${layer.what}: not a readable tar layer: ${message}`, {code: 'BAD_LAYER', cause: e})
  }
}

/** Passed carries an error of eachEntry's callback past the wrapping of tar errors. */
class Passed {
  constructor(readonly error: unknown) {}
}

/** emit writes one entry as the action says, its bytes (a file's) from `body`; returns the content bytes written. */
async function emit(pack: tar.Pack, h: Header, a: Action, body: AsyncIterable<Buffer> & {resume?: () => void} | undefined): Promise<number> {
  const size = kindOf(h) === 'file' && a.kind !== 'link' ? (h.size ?? 0) : 0
  if (size === 0) body?.resume?.()
  if (a.kind === 'link') {
    await add(pack, {...outHeader(h, a.path), type: 'link', linkname: a.target, size: 0})
    return 0
  }
  const header = outHeader(h, a.path)
  if (kindOf(h) !== 'file') {
    await add(pack, header)
    return 0
  }
  header.type = 'file'
  header.size = size
  if (size === 0 || !body) {
    await add(pack, header, EMPTY)
    return 0
  }
  await new Promise<void>((resolve, reject) => {
    const sink = pack.entry(header, (err) => (err ? reject(err) : resolve()))
    ;(async () => {
      for await (const piece of body) if (!sink.write(piece)) await drained(sink)
      sink.end(() => {})
    })().catch((e: unknown) => {
      sink.destroy(e as Error)
      reject(e)
    })
  })
  return size
}

/** bytesOf types a tar-stream entry (a streamx Readable of Buffers) as what it is */
const bytesOf = (entry: Entry) => entry as unknown as AsyncIterable<Buffer> & {resume: () => void}

/** drained resolves when a streamx writable wants more, or is gone (its callback then tells why). */
function drained(sink: tar.Pack extends {entry(...args: never[]): infer W} ? W : never): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      sink.off('drain', done)
      sink.off('close', done)
      resolve()
    }
    sink.on('drain', done)
    sink.on('close', done)
  })
}

/** add adds a header-only entry (or a small body) and waits until the pack took it. */
function add(pack: tar.Pack, header: Header, body?: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const cb = (err?: Error | null) => (err ? reject(err) : resolve())
    if (body) pack.entry(header, body, cb)
    else pack.entry(header, cb)
  })
}

function kindOf(h: Header): EntryKind {
  switch (h.type) {
    case 'file':
    case 'contiguous-file':
      return 'file'
    case 'directory':
      return 'directory'
    case 'symlink':
      return h.linkname ? 'symlink' : 'unsupported'
    case 'link':
      return 'link'
    case 'character-device':
    case 'block-device':
    case 'fifo':
      return 'other'
    default:
      return 'unsupported'
  }
}

/** outHeader is what to write for an input header under `name`. */
function outHeader(h: Header, name: string): Header {
  const pax: Record<string, string> = {}
  for (const [k, v] of Object.entries(h.pax ?? {}) as Array<[string, string]>) if (!OWN_PAX.has(k)) pax[k] = v
  const uid = h.uid ?? 0
  const gid = h.gid ?? 0
  if (uid > MAX_OCTAL_ID) pax.uid ??= String(uid)
  if (gid > MAX_OCTAL_ID) pax.gid ??= String(gid)
  const seconds = Math.floor((h.mtime?.getTime() ?? 0) / 1000)
  const fitsHeader = seconds >= 0 && seconds <= 0x7fffffff
  if (!fitsHeader) pax.mtime ??= String(seconds)
  const out: Header = {
    name,
    type: h.type === 'contiguous-file' ? 'file' : h.type,
    mode: ((h.mode ?? 0) & 0o7777) | KEEP_MODE,
    uid: uid > MAX_OCTAL_ID ? 0 : uid,
    gid: gid > MAX_OCTAL_ID ? 0 : gid,
    uname: h.uname ?? '',
    gname: h.gname ?? '',
    mtime: fitsHeader ? (h.mtime ?? new Date(0)) : new Date(0),
    size: 0,
  }
  if (h.type === 'symlink') out.linkname = h.linkname ?? ''
  if (h.type === 'character-device' || h.type === 'block-device') {
    out.devmajor = h.devmajor ?? 0
    out.devminor = h.devminor ?? 0
  }
  if (Object.keys(pax).length > 0) out.pax = pax
  return out
}
