/**
 * tar-header: decoding of the 512-byte headers of a tar archive (POSIX ustar, GNU, PAX), so
 * `reader.ts` can index an archive by reading its headers only and skipping every body.
 *
 * Covers what `docker save`, GNU tar, Go's archive/tar and tar-stream write: ustar `prefix`
 * for names up to 255 bytes, GNU long names and link names (`L`, `K`), PAX extended headers
 * (`x`, and global `g`) for `path`, `linkpath` and `size`, and base-256 sizes beyond 8 GiB.
 * Bodies of header-only types (links, directories, devices, FIFOs) are not skipped, as Go's
 * archive/tar does, since some writers put a size in those headers without a body.
 *
 * https://pubs.opengroup.org/onlinepubs/9699919799/utilities/pax.html#tag_20_92_13_06
 */

export const BLOCK = 512

/** TarEntryType is what an indexed entry is; devices, FIFOs and unknown types are `other`. */
export type TarEntryType = 'file' | 'link' | 'symlink' | 'directory' | 'other'

/** RawHeader is one decoded header block, before long-name and PAX records are applied. */
export interface RawHeader {
  name: string
  linkname: string
  size: number
  /** the type flag character: `0`, `1`, `2`, `5`, `L`, `K`, `x`, `g`, … (`\0` reads as `0`) */
  flag: string
}

/** HeaderError: a block that is not a valid tar header (checksum or number fields). */
export class HeaderError extends Error {}

const USTAR_MAGIC = Buffer.from('ustar\x00', 'latin1')
const GNU_MAGIC = Buffer.from('ustar ', 'latin1')

/** METADATA_FLAGS are headers whose body describes the next entry instead of being one. */
export const METADATA_FLAGS: ReadonlySet<string> = new Set(['L', 'K', 'x', 'g'])

const HEADER_ONLY_FLAGS: ReadonlySet<string> = new Set(['1', '2', '3', '4', '5', '6'])

/** bodySize is how many bytes follow a header before the next one (rounded up to blocks). */
export function bodySize(h: RawHeader): number {
  const size = HEADER_ONLY_FLAGS.has(h.flag) ? 0 : h.size
  return Math.ceil(size / BLOCK) * BLOCK
}

/** entryType maps a type flag to the types the reader distinguishes. */
export function entryType(flag: string): TarEntryType {
  switch (flag) {
    case '0':
    case '7': // contiguous file: a regular file for every practical purpose
      return 'file'
    case '1':
      return 'link'
    case '2':
      return 'symlink'
    case '5':
      return 'directory'
    default:
      return 'other'
  }
}

function cString(block: Buffer, start: number, length: number): string {
  const field = block.subarray(start, start + length)
  const nul = field.indexOf(0)
  return field.subarray(0, nul === -1 ? field.length : nul).toString('utf8')
}

/** parseNumber reads an octal field (space or NUL terminated) or a GNU base-256 one. */
function parseNumber(block: Buffer, start: number, length: number, what: string): number {
  const field = block.subarray(start, start + length)
  if (field[0] & 0x80) {
    if (field[0] === 0xff) throw new HeaderError(`negative ${what}`)
    let n = field[0] & 0x7f
    for (let i = 1; i < field.length; i++) n = n * 256 + field[i]
    if (!Number.isSafeInteger(n)) throw new HeaderError(`${what} too large`)
    return n
  }
  const text = field.toString('latin1').replace(/\0.*$/s, '').trim()
  if (text === '') return 0
  if (!/^[0-7]+$/.test(text)) throw new HeaderError(`${what} ${JSON.stringify(text)} is not an octal number`)
  return parseInt(text, 8)
}

function checksumMatches(block: Buffer): boolean {
  const want = parseNumber(block, 148, 8, 'checksum')
  let unsigned = 0
  let signed = 0
  for (let i = 0; i < BLOCK; i++) {
    const b = i >= 148 && i < 156 ? 0x20 : block[i]
    unsigned += b
    signed += b > 127 ? b - 256 : b
  }
  // Some old tars summed signed chars; accept both, as GNU tar does.
  return want === unsigned || want === signed
}

/** isZeroBlock is true for the all-zero blocks that end an archive. */
export function isZeroBlock(block: Buffer): boolean {
  for (let i = 0; i < block.length; i++) if (block[i] !== 0) return false
  return true
}

/**
 * decodeHeader decodes one 512-byte header block; it returns null for a zero block (end of
 * archive) and throws HeaderError for a block that is not a header.
 */
export function decodeHeader(block: Buffer): RawHeader | null {
  if (block.length !== BLOCK) throw new HeaderError('short header block')
  if (isZeroBlock(block)) return null
  if (!checksumMatches(block)) throw new HeaderError('header checksum mismatch')
  const flag = block[156] === 0 ? '0' : String.fromCharCode(block[156])
  let name = cString(block, 0, 100)
  const magic = block.subarray(257, 263)
  if (magic.equals(USTAR_MAGIC)) {
    const prefix = cString(block, 345, 155)
    if (prefix !== '') name = `${prefix}/${name}`
  } else if (!magic.equals(GNU_MAGIC) && !isZeroBlock(magic)) {
    throw new HeaderError('unknown header format')
  }
  return {
    name,
    linkname: cString(block, 157, 100),
    size: parseNumber(block, 124, 12, 'size'),
    // Old (v7) tars mark directories only by a trailing slash.
    flag: flag === '0' && name.endsWith('/') ? '5' : flag,
  }
}

/** PaxRecords are the key=value records of a PAX extended header. */
export type PaxRecords = Record<string, string>

/** decodePax parses `<length> <key>=<value>\n` records; throws HeaderError when malformed. */
export function decodePax(body: Buffer): PaxRecords {
  const out: PaxRecords = {}
  let pos = 0
  while (pos < body.length) {
    if (body[pos] === 0) break // padding after the last record
    const space = body.indexOf(0x20, pos)
    if (space === -1) throw new HeaderError('malformed PAX record')
    const length = Number(body.subarray(pos, space).toString('latin1'))
    if (!Number.isSafeInteger(length) || length <= space - pos || pos + length > body.length) {
      throw new HeaderError('malformed PAX record length')
    }
    const record = body.subarray(space + 1, pos + length - 1).toString('utf8')
    const eq = record.indexOf('=')
    if (eq === -1) throw new HeaderError('malformed PAX record')
    out[record.slice(0, eq)] = record.slice(eq + 1)
    pos += length
  }
  return out
}

/** decodeLongName reads the body of a GNU `L`/`K` header: a NUL-terminated name. */
export function decodeLongName(body: Buffer): string {
  const nul = body.indexOf(0)
  return body.subarray(0, nul === -1 ? body.length : nul).toString('utf8')
}

/** PendingMeta collects GNU long names and PAX records until the entry they describe. */
export interface PendingMeta {
  longName?: string
  longLink?: string
  pax?: PaxRecords
  globalPax: PaxRecords
}

/**
 * applyMeta returns the header with pending long names and PAX records applied (PAX wins over
 * GNU, local PAX over global), and clears the per-entry part of `meta`.
 */
export function applyMeta(h: RawHeader, meta: PendingMeta): RawHeader {
  const pax = {...meta.globalPax, ...meta.pax}
  const out: RawHeader = {...h}
  if (meta.longName !== undefined) out.name = meta.longName
  if (meta.longLink !== undefined) out.linkname = meta.longLink
  if (pax.path !== undefined) out.name = pax.path
  if (pax.linkpath !== undefined) out.linkname = pax.linkpath
  if (pax.size !== undefined) {
    const size = Number(pax.size)
    if (!Number.isSafeInteger(size) || size < 0) throw new HeaderError(`bad PAX size ${JSON.stringify(pax.size)}`)
    out.size = size
  }
  delete meta.longName
  delete meta.longLink
  delete meta.pax
  return out
}
