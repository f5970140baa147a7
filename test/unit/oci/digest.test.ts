import assert from 'node:assert/strict'
import {Readable} from 'node:stream'
import {describe, it} from 'node:test'

import {isOcitoolError} from '../../../src/lib/errors.js'
import {
  algorithmOf,
  createDigester,
  digestOf,
  digestOfStream,
  isDigest,
  parseDigest,
  verifyBytes,
} from '../../../src/lib/oci/digest.js'

const EMPTY_SHA256 = 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'
const EMPTY_SHA512 =
  'sha512:cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e'
const ABC_SHA256 = 'sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'
// The OCI empty descriptor's content, `{}`, and its well-known digest.
const EMPTY_JSON_SHA256 = 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a'

describe('digestOf', () => {
  for (const c of [
    {in: '', alg: undefined, want: EMPTY_SHA256},
    {in: '', alg: 'sha256' as const, want: EMPTY_SHA256},
    {in: '', alg: 'sha512' as const, want: EMPTY_SHA512},
    {in: 'abc', alg: undefined, want: ABC_SHA256},
    {in: '{}', alg: undefined, want: EMPTY_JSON_SHA256},
  ]) {
    it(`${c.alg ?? 'default'}(${JSON.stringify(c.in)})`, () => assert.equal(digestOf(Buffer.from(c.in), c.alg), c.want))
  }
  it('accepts a plain Uint8Array', () => assert.equal(digestOf(new TextEncoder().encode('abc')), ABC_SHA256))
  it('refuses an unsupported algorithm', () => {
    assert.throws(() => digestOf(Buffer.from(''), 'md5'), (e: unknown) => isOcitoolError(e) && e.code === 'USAGE' && /md5/.test(e.message))
  })
})

describe('createDigester', () => {
  it('matches digestOf across chunks', () => {
    const d = createDigester()
    d.update(Buffer.from('a')).update(Buffer.from('bc'))
    assert.equal(d.size, 3)
    assert.equal(d.digest(), ABC_SHA256)
    assert.equal(d.digest(), ABC_SHA256, 'digest() is idempotent')
  })
  it('sha512', () => assert.equal(createDigester('sha512').digest(), EMPTY_SHA512))
  it('refuses update after digest()', () => {
    const d = createDigester()
    d.digest()
    assert.throws(() => d.update(Buffer.from('x')))
  })
})

describe('digestOfStream', () => {
  it('hashes a Readable', async () => {
    const got = await digestOfStream(Readable.from([Buffer.from('a'), Buffer.from('b'), Buffer.from('c')]))
    assert.deepEqual(got, {digest: ABC_SHA256, size: 3})
  })
  it('hashes an empty stream', async () => {
    assert.deepEqual(await digestOfStream(Readable.from([])), {digest: EMPTY_SHA256, size: 0})
  })
})

describe('parseDigest', () => {
  for (const c of [
    {in: EMPTY_SHA256, want: {algorithm: 'sha256', hex: EMPTY_SHA256.slice(7)}},
    {in: EMPTY_SHA512, want: {algorithm: 'sha512', hex: EMPTY_SHA512.slice(7)}},
  ]) {
    it(c.in.slice(0, 20), () => {
      assert.deepEqual(parseDigest(c.in), c.want)
      assert.equal(isDigest(c.in), true)
      assert.equal(algorithmOf(c.in), c.want.algorithm)
    })
  }
  for (const c of [
    {in: '', want: 'algorithm:hex'},
    {in: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', want: 'algorithm:hex'},
    {in: ':abc', want: 'algorithm is empty'},
    {in: 'sha256:', want: 'got 0'},
    {in: 'sha256:abc', want: 'got 3'},
    {in: EMPTY_SHA256 + '0', want: 'got 65'},
    {in: EMPTY_SHA256.toUpperCase().replace('SHA256', 'sha256'), want: 'lowercase hex'},
    {in: 'SHA256:' + EMPTY_SHA256.slice(7), want: 'unsupported digest algorithm "SHA256"'},
    {in: 'sha256:' + 'z'.repeat(64), want: '64 lowercase hex'},
    {in: 'sha512:' + 'a'.repeat(64), want: 'sha512 digest must be 128'},
    {in: 'md5:' + 'a'.repeat(32), want: 'unsupported digest algorithm "md5"'},
    {in: 'sha384:' + 'a'.repeat(96), want: 'unsupported'},
    {in: 'sha256+b64u:LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564', want: 'unsupported'},
  ]) {
    it(`rejects ${JSON.stringify(c.in).slice(0, 40)}`, () => {
      assert.equal(isDigest(c.in), false)
      assert.throws(
        () => parseDigest(c.in),
        (e: unknown) => isOcitoolError(e) && e.exitCode === 2 && e.message.startsWith('invalid digest ') && e.message.includes(c.want),
      )
    })
  }
  it('isDigest is false for non-strings', () => {
    assert.equal(isDigest(undefined), false)
    assert.equal(isDigest(42), false)
  })
})

describe('verifyBytes', () => {
  it('passes matching bytes', () => verifyBytes(Buffer.from('abc'), ABC_SHA256, 'blob', 3))
  it('uses the expected digest\'s algorithm', () => verifyBytes(Buffer.from(''), EMPTY_SHA512))
  it('throws IntegrityError on a digest mismatch', () => {
    assert.throws(
      () => verifyBytes(Buffer.from('abd'), ABC_SHA256, 'blob x'),
      (e: unknown) => isOcitoolError(e) && e.exitCode === 6 && e.message.startsWith('blob x: digest mismatch: expected ' + ABC_SHA256),
    )
  })
  it('throws IntegrityError on a size mismatch', () => {
    assert.throws(() => verifyBytes(Buffer.from('abc'), ABC_SHA256, 'blob', 4), (e: unknown) => isOcitoolError(e) && e.exitCode === 6 && /size mismatch/.test(e.message))
  })
})
