// gunzip-here: gzip inflated on the calling thread gives what zlib gives: every member of a
// multi-member stream, an error for a truncated or corrupt stream, and a highly compressed blob
// a megabyte at a time (never all at once); small input pieces come out in pieces of 256 KiB or more.
import assert from 'node:assert/strict'
import {randomBytes} from 'node:crypto'
import {Readable} from 'node:stream'
import {describe, it} from 'node:test'
import * as zlib from 'node:zlib'

import {gunzipHere} from '../../../src/lib/tarball/gunzip-here.js'

/** pieces cuts a buffer into pieces of `n` bytes */
function pieces(b: Buffer, n: number): Buffer[] {
  const out: Buffer[] = []
  for (let i = 0; i < b.length; i += n) out.push(b.subarray(i, i + n))
  return out
}

async function inflate(gz: Buffer, piece = 64 * 1024): Promise<{bytes: Buffer; largest: number; sizes: number[]}> {
  const r = gunzipHere(Readable.from(pieces(gz, piece)))
  assert.ok(r, 'this Node has the zlib handle gunzipHere drives')
  const parts: Buffer[] = []
  let largest = 0
  const sizes: number[] = []
  for await (const c of r) {
    parts.push(Buffer.from(c as Buffer))
    largest = Math.max(largest, (c as Buffer).length)
    sizes.push((c as Buffer).length)
  }
  return {bytes: Buffer.concat(parts), largest, sizes}
}

describe('gunzipHere', () => {
  it('inflates stored, compressed and multi-member gzip as zlib does, in any piece size', async () => {
    const random = randomBytes(3 * 1024 * 1024 + 17)
    const text = Buffer.from('layer '.repeat(500_000))
    for (const [name, gz, want] of [
      ['stored', zlib.gzipSync(random, {level: 0}), random],
      ['compressed', zlib.gzipSync(text), text],
      ['two members', Buffer.concat([zlib.gzipSync(text), zlib.gzipSync(random, {level: 1})]), Buffer.concat([text, random])],
      ['empty', zlib.gzipSync(Buffer.alloc(0)), Buffer.alloc(0)],
    ] as const) {
      for (const piece of [1, 4096, 1024 * 1024]) {
        if (piece === 1 && gz.length > 100_000) continue
        const {bytes} = await inflate(gz, piece)
        assert.ok(bytes.equals(want), `${name}, pieces of ${piece}`)
      }
    }
  })

  it('small input pieces give output pieces of 256 KiB or more (but the last)', async () => {
    const random = randomBytes(3 * 1024 * 1024 + 5)
    const {bytes, sizes} = await inflate(zlib.gzipSync(random, {level: 0}), 4096)
    assert.ok(bytes.equals(random))
    assert.ok(sizes.slice(0, -1).every((n) => n >= 256 * 1024), sizes.join(' '))
  })

  it('a truncated stream and a corrupt one are errors', async () => {
    const gz = zlib.gzipSync(randomBytes(200_000))
    await assert.rejects(inflate(gz.subarray(0, gz.length - 100)), /unexpected end of file/)
    const bad = Buffer.from(gz)
    bad[20] ^= 0xff
    bad[21] ^= 0xff
    await assert.rejects(inflate(bad), (e: Error) => /invalid|incorrect|unexpected/i.test(e.message))
  })

  it('a small blob that inflates to much more comes out a megabyte at a time', async () => {
    const zeros = Buffer.alloc(64 * 1024 * 1024)
    const gz = zlib.gzipSync(zeros, {level: 9})
    assert.ok(gz.length < 100 * 1024)
    const {bytes, largest} = await inflate(gz, gz.length)
    assert.equal(bytes.length, zeros.length)
    assert.ok(largest <= 1024 * 1024, `largest piece ${largest}`)
  })
})
