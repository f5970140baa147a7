import assert from 'node:assert/strict'
import * as fsp from 'node:fs/promises'
import * as path from 'node:path'
import {after, before, describe, it} from 'node:test'
import * as zlib from 'node:zlib'
import * as tar from 'tar-stream'

import {ExitCode, isOcitoolError} from '../../../src/lib/errors.js'
import {TarReader, normalizeName} from '../../../src/lib/tarball/reader.js'
import {seededBytes} from '../../support/fixtures.js'
import {type TmpDir, tmpDir} from '../../support/tmp.js'
import {packTar, padded, rawHeader, readAll} from './helpers.js'

let tmp: TmpDir
before(async () => {
  tmp = await tmpDir('tar-reader')
})
after(async () => {
  await tmp.remove()
})

async function writeTar(name: string, bytes: Buffer): Promise<string> {
  const file = path.join(tmp.path, name)
  await fsp.writeFile(file, bytes)
  return file
}

function code(e: unknown): {code: string; exitCode: number; message: string} {
  assert.ok(isOcitoolError(e), `not an OcitoolError: ${String(e)}`)
  return {code: e.code, exitCode: e.exitCode, message: e.message}
}

const LONG_FLAT = `${'x'.repeat(150)}.tar.gz` // no slash: needs PAX
const LONG_DEEP = `${'d'.repeat(80)}/${'e'.repeat(80)}/layer.tar` // ustar prefix + name
const BIG = seededBytes('big', 3 * 1024 * 1024 + 17)

const ITEMS = [
  {name: 'manifest.json', body: '[{"Config":"c.json"}]'},
  {name: './dotted/file.txt', body: 'dotted'},
  {name: 'dir', type: 'directory' as const},
  {name: LONG_FLAT, body: 'long flat name'},
  {name: LONG_DEEP, body: 'long deep name'},
  {name: 'a/layer.tar', body: BIG},
  {name: 'b/layer.tar', type: 'symlink' as const, linkname: '../a/layer.tar'},
  {name: 'c/layer.tar', type: 'link' as const, linkname: 'a/layer.tar'},
  {name: 'loop1', type: 'symlink' as const, linkname: 'loop2'},
  {name: 'loop2', type: 'symlink' as const, linkname: 'loop1'},
  {name: 'dangling', type: 'symlink' as const, linkname: 'nowhere'},
  {name: 'empty', body: ''},
  {name: 'dup', body: 'first'},
  {name: 'dup', body: 'second'},
]

describe('normalizeName', () => {
  for (const c of [
    {in: './a/b', want: 'a/b'},
    {in: '/a/b/', want: 'a/b'},
    {in: 'a//b/./c', want: 'a/b/c'},
    {in: './', want: ''},
    {in: 'sha256:abc', want: 'sha256:abc'},
  ]) {
    it(c.in, () => assert.equal(normalizeName(c.in), c.want))
  }
})

describe('TarReader over a tar-stream archive', () => {
  let file: string
  let reader: TarReader
  before(async () => {
    file = await writeTar('mixed.tar', await packTar(ITEMS))
    reader = await TarReader.open(file, 'test:mixed.tar')
  })

  it('indexes names, normalised', () => {
    for (const n of ['manifest.json', 'dotted/file.txt', './dotted/file.txt', 'dir', LONG_FLAT, LONG_DEEP, 'a/layer.tar']) {
      assert.ok(reader.has(n), n)
    }
    assert.equal(reader.entry('dir')?.type, 'directory')
  })

  it('reads entries with long names (PAX and ustar prefix)', async () => {
    assert.equal((await readAll(reader.open(LONG_FLAT))).toString(), 'long flat name')
    assert.equal((await readAll(reader.open(LONG_DEEP))).toString(), 'long deep name')
  })

  it('streams a multi-megabyte entry exactly', async () => {
    assert.ok((await readAll(reader.open('a/layer.tar'))).equals(BIG))
    assert.ok((await readAll(reader.open('a/layer.tar', 1000))).equals(BIG.subarray(1000)))
  })

  it('follows relative symlinks and hard links to the same bytes', async () => {
    const target = reader.resolve('a/layer.tar')
    assert.equal(reader.resolve('b/layer.tar').offset, target.offset)
    assert.equal(reader.resolve('c/layer.tar').offset, target.offset)
    assert.ok((await readAll(reader.open('b/layer.tar'))).equals(BIG))
  })

  it('the later of two same-named entries wins', async () => {
    assert.equal((await reader.readBytes('dup', 100)).toString(), 'second')
  })

  it('reads an empty entry', async () => {
    assert.equal((await readAll(reader.open('empty'))).length, 0)
    assert.equal((await reader.readBytes('empty', 10)).length, 0)
  })

  it('agrees with tar-stream extract on every entry', async () => {
    const extract = tar.extract()
    const seen = new Map<string, Buffer>()
    const done = (async () => {
      for await (const entry of extract) {
        const body = await readAll(entry)
        if (entry.header.type === 'file') seen.set(normalizeName(entry.header.name), body)
      }
    })()
    extract.end(await fsp.readFile(file))
    await done
    for (const [name, body] of seen) {
      assert.ok((await readAll(reader.open(name))).equals(body), name)
    }
    assert.deepEqual(
      [...seen.keys()].sort(),
      reader.entries().filter((e) => e.type === 'file').map((e) => e.name).sort(),
    )
  })

  it('a missing entry is NotFoundError naming archive and entry', () => {
    assert.throws(
      () => reader.open('nope/layer.tar'),
      (e) => {
        const c = code(e)
        return c.exitCode === ExitCode.NotFound && c.message.includes('test:mixed.tar') && c.message.includes('nope/layer.tar')
      },
    )
  })

  for (const name of ['dangling', 'loop1', 'dir']) {
    it(`${name}: not a file is NotFoundError`, () => {
      assert.throws(() => reader.resolve(name), (e) => code(e).exitCode === ExitCode.NotFound)
    })
  }

  it('readBytes refuses an entry over the limit', async () => {
    await assert.rejects(reader.readBytes('a/layer.tar', 1024), (e) => code(e).code === 'TOO_LARGE')
  })
})

describe('TarReader over hand-made headers', () => {
  it('reads GNU long names and long link names', async () => {
    const longName = `gnu/${'n'.repeat(200)}/layer.tar`
    const longLink = `gnu/${'l'.repeat(200)}/link`
    const body = Buffer.from('gnu body')
    const tarBytes = Buffer.concat([
      rawHeader('././@LongLink', longName.length + 1, 'L', {gnu: true}),
      padded(Buffer.from(`${longName}\0`)),
      rawHeader(longName.slice(0, 100), body.length, '0', {gnu: true}),
      padded(body),
      rawHeader('././@LongLink', longLink.length + 1, 'L', {gnu: true}),
      padded(Buffer.from(`${longLink}\0`)),
      rawHeader('././@LongLink', longName.length + 1, 'K', {gnu: true}),
      padded(Buffer.from(`${longName}\0`)),
      rawHeader(longLink.slice(0, 100), 0, '1', {gnu: true, linkname: longName.slice(0, 100)}),
      Buffer.alloc(1024),
    ])
    const reader = await TarReader.open(await writeTar('gnu.tar', tarBytes))
    assert.equal((await readAll(reader.open(longName))).toString(), 'gnu body')
    assert.equal((await readAll(reader.open(longLink))).toString(), 'gnu body')
  })

  it('applies PAX path and size records, and global records', async () => {
    const body = Buffer.from('pax sized body')
    const record = (k: string, v: string) => {
      const rest = ` ${k}=${v}\n`
      let len = rest.length + 1
      while (String(len).length + rest.length !== len) len = String(len).length + rest.length
      return `${len}${rest}`
    }
    const global = Buffer.from(record('comment', 'hello'))
    const pax = Buffer.from(record('path', 'pax/renamed.txt') + record('size', String(body.length)))
    const tarBytes = Buffer.concat([
      rawHeader('pax_global_header', global.length, 'g'),
      padded(global),
      rawHeader('PaxHeader/x', pax.length, 'x'),
      padded(pax),
      rawHeader('short-name', body.length, '0'),
      padded(body),
      Buffer.alloc(1024),
    ])
    const reader = await TarReader.open(await writeTar('pax.tar', tarBytes))
    assert.ok(!reader.has('short-name'))
    assert.equal((await readAll(reader.open('pax/renamed.txt'))).toString(), 'pax sized body')
  })

  it('reads GNU tar output (system tar, gnu format)', async () => {
    const src = path.join(tmp.path, 'gnu-src')
    const deep = path.join(src, 'a'.repeat(120), 'b'.repeat(60))
    await fsp.mkdir(deep, {recursive: true})
    await fsp.writeFile(path.join(deep, 'layer.tar'), 'from gnu tar')
    await fsp.symlink('../../x.txt', path.join(deep, 'sym'))
    await fsp.writeFile(path.join(src, 'x.txt'), 'x')
    const out = path.join(tmp.path, 'system.tar')
    const {execFileSync} = await import('node:child_process')
    execFileSync('tar', ['--format=gnu', '-C', src, '-cf', out, '.'])
    const reader = await TarReader.open(out)
    const name = `${'a'.repeat(120)}/${'b'.repeat(60)}/layer.tar`
    assert.equal((await readAll(reader.open(name))).toString(), 'from gnu tar')
    assert.equal((await readAll(reader.open(`./${'a'.repeat(120)}/${'b'.repeat(60)}/sym`))).toString(), 'x')
  })
})

describe('TarReader errors', () => {
  let whole: Buffer
  before(async () => {
    whole = await packTar([
      {name: 'one', body: seededBytes('one', 2000)},
      {name: 'two', body: seededBytes('two', 3000)},
    ])
  })

  it('a missing archive is NotFoundError (exit 3)', async () => {
    await assert.rejects(TarReader.open(path.join(tmp.path, 'absent.tar'), 'docker-archive:absent.tar'), (e) => {
      const c = code(e)
      return c.exitCode === ExitCode.NotFound && c.message.startsWith('docker-archive:absent.tar')
    })
  })

  it('an archive cut inside an entry is IntegrityError (exit 6) naming the entry', async () => {
    // "two" starts after one's header (512) + 2048 body bytes; its header is 512 more.
    const cut = await writeTar('cut-body.tar', whole.subarray(0, 512 + 2048 + 512 + 1000))
    await assert.rejects(TarReader.open(cut, 'docker-archive:cut.tar'), (e) => {
      const c = code(e)
      return c.exitCode === ExitCode.Integrity && c.code === 'TRUNCATED_ARCHIVE' && c.message.includes('"two"') && c.message.includes('docker-archive:cut.tar')
    })
  })

  it('an archive cut inside a header is IntegrityError', async () => {
    const cut = await writeTar('cut-header.tar', whole.subarray(0, 512 + 2048 + 100))
    await assert.rejects(TarReader.open(cut), (e) => code(e).code === 'TRUNCATED_ARCHIVE')
  })

  it('an entry claiming more bytes than the file has (base-256 size) is IntegrityError', async () => {
    const bogus = await writeTar('huge.tar', Buffer.concat([rawHeader('huge', 2 ** 40, '0', {base256Size: true}), Buffer.alloc(4096)]))
    await assert.rejects(TarReader.open(bogus), (e) => code(e).code === 'TRUNCATED_ARCHIVE' && code(e).message.includes('"huge"'))
  })

  it('a corrupt header after the first is IntegrityError', async () => {
    const bad = Buffer.from(whole)
    bad[512 + 2048 + 10] ^= 0xff // inside the name of "two"'s header
    await assert.rejects(TarReader.open(await writeTar('corrupt.tar', bad)), (e) => code(e).code === 'CORRUPT_ARCHIVE' && code(e).exitCode === ExitCode.Integrity)
  })

  it('a gzip file is NOT_A_TAR with a hint', async () => {
    const gz = await writeTar('x.tar.gz', zlib.gzipSync(whole))
    await assert.rejects(TarReader.open(gz), (e) => {
      assert.ok(isOcitoolError(e))
      return e.code === 'NOT_A_TAR' && e.message.includes('gzip') && e.suggestions.some((s) => s.includes('decompress'))
    })
  })

  it('random bytes and an empty file are NOT_A_TAR', async () => {
    await assert.rejects(TarReader.open(await writeTar('random.bin', seededBytes('r', 5000))), (e) => code(e).code === 'NOT_A_TAR')
    await assert.rejects(TarReader.open(await writeTar('empty.tar', Buffer.alloc(0))), (e) => code(e).code === 'NOT_A_TAR')
  })

  it('an archive without end blocks but cut at an entry boundary is read', async () => {
    const reader = await TarReader.open(await writeTar('no-eof.tar', whole.subarray(0, whole.length - 1024)))
    assert.equal((await reader.readBytes('two', 5000)).length, 3000)
  })
})
