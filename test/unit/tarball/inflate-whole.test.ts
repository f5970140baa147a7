// inflateWhole (src/lib/tarball/decompress.ts): a small blob held in memory inflated on the
// main thread, or left to the stream path (undefined) when it cannot be done cleanly there.
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {gzipSync} from 'node:zlib'
import {inflateWhole} from '../../../src/lib/tarball/decompress.js'

describe('inflateWhole', () => {
  const tar = Buffer.concat([Buffer.from('a file of a tar'), Buffer.alloc(1009)])

  it('inflates gzip, also several members one after another, and passes a plain tar as it is', () => {
    assert.deepEqual(inflateWhole(gzipSync(tar)), tar)
    const two = Buffer.concat([gzipSync(tar.subarray(0, 100)), gzipSync(tar.subarray(100))])
    assert.deepEqual(inflateWhole(two), tar, 'a multi-member gzip (as parallel compressors write) is one stream')
    assert.equal(inflateWhole(tar), tar)
  })

  it('leaves zstd, corrupt gzip and what inflates past 16 MiB to the stream path', () => {
    assert.equal(inflateWhole(Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), Buffer.alloc(60)])), undefined)
    const corrupt = gzipSync(tar)
    corrupt[corrupt.length - 6] ^= 0xff // the CRC
    assert.equal(inflateWhole(corrupt), undefined)
    assert.equal(inflateWhole(gzipSync(tar).subarray(0, 20)), undefined, 'truncated')
    const bomb = gzipSync(Buffer.alloc(17 * 1024 * 1024))
    assert.ok(bomb.length < 64 * 1024)
    assert.equal(inflateWhole(bomb), undefined)
  })
})
