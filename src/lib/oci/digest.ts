/**
 * digest: content digests (`algorithm:hex`) as the OCI image spec registers them, and
 * hashing of bytes and streams. Only sha256 and sha512 are accepted: they are the
 * registered algorithms every registry supports (descriptor.md#registered-algorithms).
 * Hex must be lower case, as the spec's grammar for both requires.
 */
import {createHash, type Hash} from 'node:crypto'

import {IntegrityError, UsageError} from '../errors.js'

/** DIGEST_ALGORITHMS maps each supported algorithm to the length of its hex encoding. */
export const DIGEST_ALGORITHMS = {sha256: 64, sha512: 128} as const

/** DigestAlgorithm is a supported digest algorithm. */
export type DigestAlgorithm = keyof typeof DIGEST_ALGORITHMS

/** ParsedDigest is a digest split into its algorithm and hex-encoded value. */
export interface ParsedDigest {
  readonly algorithm: DigestAlgorithm
  readonly hex: string
}

/** Digester hashes chunks as they arrive; `digest()` ends it and returns `algorithm:hex`. */
export interface Digester {
  update(chunk: Uint8Array): Digester
  digest(): string
  /** Bytes seen so far. */
  readonly size: number
}

const HEX = /^[0-9a-f]*$/

/** isDigestAlgorithm is true for a supported algorithm name. */
export function isDigestAlgorithm(s: string): s is DigestAlgorithm {
  return Object.hasOwn(DIGEST_ALGORITHMS, s)
}

/**
 * digestProblem returns why s is not a valid digest, in a few words, or undefined when it
 * is valid. Shared by `parseDigest` and the reference parser so their messages agree.
 */
export function digestProblem(s: string): string | undefined {
  const colon = s.indexOf(':')
  if (colon === -1) return 'a digest is algorithm:hex, like sha256:<64 hex characters>'
  const algorithm = s.slice(0, colon)
  const hex = s.slice(colon + 1)
  if (algorithm === '') return 'digest algorithm is empty'
  if (!isDigestAlgorithm(algorithm)) {
    return `unsupported digest algorithm ${JSON.stringify(algorithm)} (use sha256 or sha512)`
  }
  const want = DIGEST_ALGORITHMS[algorithm]
  if (!HEX.test(hex)) {
    return HEX.test(hex.toLowerCase())
      ? `${algorithm} digest must be lowercase hex`
      : `${algorithm} digest must be ${want} lowercase hex characters`
  }
  if (hex.length !== want) return `${algorithm} digest must be ${want} lowercase hex characters, got ${hex.length}`
  return undefined
}

/** isDigest is true when s is a valid sha256 or sha512 digest. */
export function isDigest(s: unknown): s is string {
  return typeof s === 'string' && digestProblem(s) === undefined
}

/** parseDigest splits a digest into algorithm and hex; it throws UsageError naming the problem. */
export function parseDigest(s: string): ParsedDigest {
  const problem = digestProblem(s)
  if (problem !== undefined) throw new UsageError(`invalid digest ${JSON.stringify(s)}: ${problem}`)
  const colon = s.indexOf(':')
  return {algorithm: s.slice(0, colon) as DigestAlgorithm, hex: s.slice(colon + 1)}
}

/** algorithmOf returns the algorithm of a valid digest (UsageError otherwise). */
export function algorithmOf(digest: string): DigestAlgorithm {
  return parseDigest(digest).algorithm
}

function checkAlgorithm(algorithm: string): DigestAlgorithm {
  if (!isDigestAlgorithm(algorithm)) {
    throw new UsageError(`unsupported digest algorithm ${JSON.stringify(algorithm)} (use sha256 or sha512)`)
  }
  return algorithm
}

/**
 * digestOf returns the digest of bytes, `sha256:…` unless another algorithm is asked for;
 * an unsupported algorithm is a UsageError.
 */
export function digestOf(bytes: Uint8Array, algorithm: DigestAlgorithm | (string & {}) = 'sha256'): string {
  const alg = checkAlgorithm(algorithm)
  return `${alg}:${createHash(alg).update(bytes).digest('hex')}`
}

/** createDigester returns an incremental hasher for streamed content. */
export function createDigester(algorithm: DigestAlgorithm | (string & {}) = 'sha256'): Digester {
  const alg = checkAlgorithm(algorithm)
  const hash: Hash = createHash(alg)
  let size = 0
  let result: string | undefined
  const digester: Digester = {
    update(chunk: Uint8Array) {
      if (result !== undefined) throw new Error('digester: update after digest()')
      hash.update(chunk)
      size += chunk.byteLength
      return digester
    },
    digest() {
      result ??= `${alg}:${hash.digest('hex')}`
      return result
    },
    get size() {
      return size
    },
  }
  return digester
}

/**
 * digestOfStream hashes every chunk of a stream (any async iterable of bytes, such as a
 * Node Readable) and returns its digest and size. The stream is consumed.
 */
export async function digestOfStream(
  stream: AsyncIterable<Uint8Array | string>,
  algorithm: DigestAlgorithm | (string & {}) = 'sha256',
): Promise<{digest: string; size: number}> {
  const d = createDigester(algorithm)
  for await (const chunk of stream) d.update(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)
  return {digest: d.digest(), size: d.size}
}

/**
 * verifyBytes checks bytes against the digest (and size, when given) they were fetched by,
 * using the digest's own algorithm; it throws IntegrityError on a mismatch. `what` names
 * the content for the message, e.g. `manifest example.com/app@sha256:…`.
 */
export function verifyBytes(bytes: Uint8Array, expected: string, what = 'content', size?: number): void {
  const algorithm = algorithmOf(expected)
  if (size !== undefined && bytes.byteLength !== size) {
    throw new IntegrityError(`${what}: size mismatch: expected ${size} bytes, got ${bytes.byteLength}`)
  }
  const actual = digestOf(bytes, algorithm)
  if (actual !== expected) throw new IntegrityError(`${what}: digest mismatch: expected ${expected}, got ${actual}`)
}
