import assert from 'node:assert/strict'
import * as fsp from 'node:fs/promises'
import * as path from 'node:path'
import {PassThrough, Readable} from 'node:stream'
import {after, before, describe, it} from 'node:test'

import {ExitCode, isOcitoolError} from '../../../src/lib/errors.js'
import {TarReader} from '../../../src/lib/tarball/reader.js'
import {TarWriter} from '../../../src/lib/tarball/tar-writer.js'
import {seededBytes} from '../../support/fixtures.js'
import {type TmpDir, tmpDir} from '../../support/tmp.js'
import {listDir, readAll} from './helpers.js'

let tmp: TmpDir
before(async () => {
  tmp = await tmpDir('tar-writer')
})
after(async () => {
  await tmp.remove()
})

/** failingStream yields `good` bytes in chunks, then errors. */
function failingStream(good: Buffer, error = new Error('connection reset')): Readable {
  return Readable.from(
    (async function* () {
      yield good.subarray(0, good.length / 2)
      yield good.subarray(good.length / 2)
      throw error
    })(),
  )
}

const A = seededBytes('a', 1500)
const B = seededBytes('b', 3 * 1024 * 1024 + 3)
const C = seededBytes('c', 10)

describe('TarWriter', () => {
  it('writes entries readable by TarReader, through a temporary file', async () => {
    const dir = path.join(tmp.path, 'basic')
    await fsp.mkdir(dir)
    const file = path.join(dir, 'out.tar')
    const w = new TarWriter(file, 'test:out.tar')
    await w.add('a', A.length, A)
    await w.add('dir/b', B.length, Readable.from([B.subarray(0, 100), B.subarray(100)]))
    const during = await listDir(dir)
    assert.equal(during.length, 1)
    assert.match(during[0], /^out\.tar\.tmp-[0-9a-f]{8}\.\d+\.[0-9a-f]+$/)
    await w.commit()
    assert.deepEqual(await listDir(dir), ['out.tar'])
    const r = await TarReader.open(file)
    assert.ok((await readAll(r.open('a'))).equals(A))
    assert.ok((await readAll(r.open('dir/b'))).equals(B))
  })

  it('writes empty entries, from bytes and from a stream', async () => {
    const file = path.join(tmp.path, 'empty.tar')
    const w = new TarWriter(file, 'test')
    await w.add('e1', 0, Buffer.alloc(0))
    await w.add('e2', 0, Readable.from([]))
    await w.add('c', C.length, C)
    await w.commit()
    const r = await TarReader.open(file)
    assert.deepEqual(r.entries().map((e) => [e.name, e.size]), [['e1', 0], ['e2', 0], ['c', C.length]])
    assert.equal((await readAll(r.open('e2'))).length, 0)
  })

  it('is deterministic: same entries, same bytes', async () => {
    const write = async (name: string) => {
      const file = path.join(tmp.path, name)
      const w = new TarWriter(file, name)
      await w.add('a', A.length, A)
      await w.add('c', C.length, Readable.from([C]))
      await w.commit()
      return fsp.readFile(file)
    }
    assert.ok((await write('d1.tar')).equals(await write('d2.tar')))
  })

  it('undoes an entry whose data fails, so the next one (a retry) fits', async () => {
    const file = path.join(tmp.path, 'retry.tar')
    const w = new TarWriter(file, 'test:retry.tar')
    await w.add('a', A.length, A)
    await assert.rejects(w.add('b', B.length, failingStream(B.subarray(0, 2 * 1024 * 1024))), /connection reset/)
    await w.add('b', B.length, Readable.from([B]))
    await w.add('c', C.length, C)
    await w.commit()
    const r = await TarReader.open(file)
    assert.deepEqual(r.entries().map((e) => e.name), ['a', 'b', 'c'])
    assert.ok((await readAll(r.open('b'))).equals(B))
    assert.equal((await fsp.stat(file)).size, r.entries()[2].offset + 512 + 1024)
  })

  it('a body of the wrong size is an IntegrityError and is undone', async () => {
    const file = path.join(tmp.path, 'size.tar')
    const w = new TarWriter(file, 'test:size.tar')
    await assert.rejects(w.add('short', 100, Readable.from([C])), (e) => isOcitoolError(e) && e.exitCode === ExitCode.Integrity)
    await assert.rejects(w.add('long', 5, Readable.from([C])), (e) => isOcitoolError(e) && e.code === 'SIZE_MISMATCH')
    await w.add('c', C.length, C)
    await w.commit()
    assert.deepEqual((await TarReader.open(file)).entries().map((e) => e.name), ['c'])
  })

  it('abort removes the temporary file and leaves no output', async () => {
    const dir = path.join(tmp.path, 'abort')
    await fsp.mkdir(dir)
    const w = new TarWriter(path.join(dir, 'out.tar'), 'test')
    await w.add('a', A.length, A)
    await w.abort()
    assert.deepEqual(await listDir(dir), [])
    await assert.rejects(w.add('c', C.length, C), (e) => isOcitoolError(e) && e.code === 'STORE_CLOSED')
  })

  it('abort while an entry waits for data ends it', async () => {
    const dir = path.join(tmp.path, 'abort-inflight')
    await fsp.mkdir(dir)
    const w = new TarWriter(path.join(dir, 'out.tar'), 'test')
    const stalled = new PassThrough()
    stalled.write(B.subarray(0, 1000))
    const adding = w.add('b', B.length, stalled)
    await new Promise((r) => setTimeout(r, 50))
    await w.abort()
    await assert.rejects(adding)
    assert.deepEqual(await listDir(dir), [])
  })

  it('writes to a stream for "-", and refuses more after a failed entry', async () => {
    const out = new PassThrough()
    const collected = readAll(out)
    const w = new TarWriter('-', 'docker-archive:-', out)
    await w.add('a', A.length, A)
    await w.add('c', C.length, Readable.from([C]))
    await w.commit()
    out.end()
    const file = path.join(tmp.path, 'from-stdout.tar')
    await fsp.writeFile(file, await collected)
    const r = await TarReader.open(file)
    assert.ok((await readAll(r.open('c'))).equals(C))

    const w2 = new TarWriter('-', 'docker-archive:-', new PassThrough().resume())
    await assert.rejects(w2.add('b', B.length, failingStream(B.subarray(0, 1000))))
    await assert.rejects(w2.add('c', C.length, C), (e) => isOcitoolError(e) && e.code === 'TAR_WRITE')
  })

  it('a missing directory is a clear error', async () => {
    const w = new TarWriter(path.join(tmp.path, 'no', 'such', 'out.tar'), 'docker-archive:no/such/out.tar')
    await assert.rejects(w.add('a', A.length, A), (e) => isOcitoolError(e) && e.message.includes('does not exist'))
  })
})
