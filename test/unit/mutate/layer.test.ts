import assert from 'node:assert/strict'
import {execFileSync, spawn} from 'node:child_process'
import {createHash, randomBytes} from 'node:crypto'
import {chmodSync, linkSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync} from 'node:fs'
import {createServer} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {Readable} from 'node:stream'
import {after, before, describe, it} from 'node:test'
import * as zlib from 'node:zlib'
import * as tar from 'tar-stream'

import {ExitCode, isOcitoolError} from '../../../src/lib/errors.js'
import {MediaType} from '../../../src/lib/oci/media-types.js'
import {type LayerInputOptions, type PreparedLayer, prepareLayer} from '../../../src/lib/mutate/layer.js'
import {escapesRoot} from '../../../src/lib/mutate/layer-tar.js'
import {GzipPool} from '../../../src/lib/mutate/gzip-pool.js'

const sha256 = (b: Uint8Array) => `sha256:${createHash('sha256').update(b).digest('hex')}`

function hasProgram(name: string): boolean {
  try {
    execFileSync(name, ['--version'], {stdio: 'ignore'})
    return true
  } catch {
    return false
  }
}
const HAS_ZSTD = hasProgram('zstd')

interface Item {
  name: string
  body?: Buffer | string
  type?: 'file' | 'directory' | 'symlink' | 'link'
  linkname?: string
  pax?: Record<string, string>
}

/** tarOf packs items with tar-stream, names exactly as given (no normalisation). */
async function tarOf(items: Item[]): Promise<Buffer> {
  const pack = tar.pack()
  const chunks: Buffer[] = []
  const done = (async () => {
    for await (const c of pack) chunks.push(c as Buffer)
  })()
  for (const it of items) {
    const type = it.type ?? 'file'
    const header = {name: it.name, type, mtime: new Date(0), mode: type === 'directory' ? 0o755 : 0o644, linkname: it.linkname, pax: it.pax}
    await new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null) => (err ? reject(err) : resolve())
      if (type === 'file') pack.entry(header, Buffer.from(it.body ?? ''), cb)
      else pack.entry(header, cb).end(undefined)
    })
  }
  pack.finalize()
  await done
  return Buffer.concat(chunks)
}

interface Listed {
  name: string
  type: string
  mode: number
  uid: number
  gid: number
  uname: string
  gname: string
  mtime: number
  linkname: string | null
  body: string
}

async function list(tarBytes: Buffer): Promise<Listed[]> {
  const ex = tar.extract()
  const out: Listed[] = []
  const done = (async () => {
    for await (const e of ex) {
      const chunks: Buffer[] = []
      for await (const c of e) chunks.push(c as Buffer)
      const h = e.header
      out.push({
        name: h.name,
        type: h.type ?? '',
        mode: h.mode ?? 0,
        uid: h.uid ?? -1,
        gid: h.gid ?? -1,
        uname: h.uname ?? '',
        gname: h.gname ?? '',
        mtime: (h.mtime?.getTime() ?? -1) / 1000,
        linkname: h.linkname ?? null,
        body: Buffer.concat(chunks).toString(),
      })
    }
  })()
  ex.end(tarBytes)
  await done
  return out
}

/** a tar of about `bytes` bytes: files of random (incompressible) and repetitive (compressible) data */
async function bigTar(bytes: number): Promise<Buffer> {
  const items: Item[] = []
  for (let i = 0, total = 0; total < bytes; i++) {
    const size = 300_000 + ((i * 7919) % 500_000)
    const body = i % 2 === 0 ? randomBytes(size) : Buffer.from(`line ${i} of a text file that compresses well\n`.repeat(Math.ceil(size / 44)))
    items.push({name: `data/file-${String(i).padStart(4, '0')}.bin`, body})
    total += body.length + 512
  }
  return tarOf(items)
}

const read = (l: PreparedLayer) => readFileSync((l.bytes as {file: string}).file)
const fileOf = (l: PreparedLayer) => (l.bytes as {file: string}).file

let root: string
let tmp: string
const work = (name: string) => join(root, name)

before(() => {
  root = mkdtempSync(join(tmpdir(), 'ocitool-layer-test-'))
})
after(() => rmSync(root, {recursive: true, force: true}))

/** a fresh, empty directory for temporary files, so a test can check nothing is left behind */
function freshTmp(): string {
  tmp = mkdtempSync(join(root, 'tmp-'))
  return tmp
}

async function prepare(input: string, options: Partial<LayerInputOptions> = {}): Promise<PreparedLayer> {
  return prepareLayer(input, {mediaTypes: 'oci', tmpDir: freshTmp(), ...options})
}

/** expectUsage: prepareLayer fails with a one-line UsageError matching `re`, and leaves no temporary file */
async function expectUsage(input: string, re: RegExp, options: Partial<LayerInputOptions> = {}): Promise<void> {
  await assert.rejects(prepare(input, options), (e: unknown) => {
    assert.ok(isOcitoolError(e), `not an OcitoolError: ${String(e)}`)
    assert.equal(e.exitCode, ExitCode.Usage, e.message)
    assert.match(e.message, re)
    assert.ok(!e.message.includes('\n'), 'one line')
    return true
  })
  assert.deepEqual(readdirSync(tmp), [], 'temporary file removed')
}

describe('prepareLayer: tar files', () => {
  it('gzips a tar: digest of the file, diff id of the tar, mode 0600, cleanup removes it', async () => {
    const t = await tarOf([{name: 'etc/', type: 'directory'}, {name: 'etc/hello', body: 'hello\n'}])
    writeFileSync(work('plain.tar'), t)
    const l = await prepare(work('plain.tar'))
    assert.equal(l.desc.mediaType, MediaType.ociLayerGzip)
    assert.equal(l.diffId, sha256(t))
    const blob = read(l)
    assert.equal(l.desc.digest, sha256(blob))
    assert.equal(l.desc.size, blob.length)
    assert.deepEqual(zlib.gunzipSync(blob), t)
    assert.equal(statSync(fileOf(l)).mode & 0o777, 0o600)
    assert.equal(readdirSync(tmp).length, 1, 'one temporary file')
    await l.cleanup()
    await l.cleanup()
    assert.deepEqual(readdirSync(tmp), [])
  })

  it('chooses media types by the base kind and the compression', async () => {
    const t = await tarOf([{name: 'a', body: 'a'}])
    writeFileSync(work('mt.tar'), t)
    const none = await prepare(work('mt.tar'), {mediaTypes: 'docker', compression: 'none'})
    assert.equal(none.desc.mediaType, MediaType.dockerLayerUncompressed)
    assert.equal(none.desc.digest, sha256(t))
    assert.equal(none.diffId, sha256(t))
    assert.deepEqual(read(none), t)
    const gz = await prepare(work('mt.tar'), {mediaTypes: 'docker'})
    assert.equal(gz.desc.mediaType, MediaType.dockerLayer)
    const oci = await prepare(work('mt.tar'), {compression: 'none'})
    assert.equal(oci.desc.mediaType, MediaType.ociLayer)
    for (const l of [none, gz, oci]) await l.cleanup()
  })

  it('keeps a gzip tar byte for byte (digest = file hash), whatever its name', async () => {
    const t = await tarOf([{name: 'x/y', body: 'y'.repeat(10_000)}])
    const gz = zlib.gzipSync(t, {level: 9})
    writeFileSync(work('layer.bin'), gz)
    const l = await prepare(work('layer.bin'), {level: 1})
    assert.deepEqual(read(l), gz)
    assert.equal(l.desc.digest, sha256(gz))
    assert.equal(l.desc.size, gz.length)
    assert.equal(l.diffId, sha256(t))
    await l.cleanup()
  })

  it('decompresses a gzip tar when the blob is to be uncompressed', async () => {
    const t = await tarOf([{name: 'f', body: 'f'}])
    writeFileSync(work('in.tgz'), zlib.gzipSync(t))
    const l = await prepare(work('in.tgz'), {compression: 'none', mediaTypes: 'docker'})
    assert.deepEqual(read(l), t)
    assert.equal(l.desc.digest, sha256(t))
    await l.cleanup()
  })

  it('zstd: compresses a tar, keeps a zstd tar, and recompresses one as gzip', {skip: !HAS_ZSTD && 'no zstd program'}, async () => {
    const t = await tarOf([{name: 'z', body: 'zstd '.repeat(5000)}])
    writeFileSync(work('z.tar'), t)
    const z = await prepare(work('z.tar'), {compression: 'zstd', mediaTypes: 'docker'})
    assert.equal(z.desc.mediaType, MediaType.dockerLayerZstd)
    assert.equal(z.diffId, sha256(t))
    const zbytes = read(z)
    assert.equal(z.desc.digest, sha256(zbytes))
    assert.deepEqual(execFileSync('zstd', ['-dc'], {input: zbytes}), t)

    writeFileSync(work('z.tar.zst'), zbytes)
    const kept = await prepare(work('z.tar.zst'), {compression: 'zstd'})
    assert.equal(kept.desc.mediaType, MediaType.ociLayerZstd)
    assert.deepEqual(read(kept), zbytes)
    assert.equal(kept.desc.digest, z.desc.digest)
    assert.equal(kept.diffId, sha256(t))

    const gz = await prepare(work('z.tar.zst'))
    assert.deepEqual(zlib.gunzipSync(read(gz)), t)
    assert.equal(gz.diffId, sha256(t))
    for (const l of [z, kept, gz]) await l.cleanup()
  })

  it('refuses a corrupt zstd tar', {skip: !HAS_ZSTD && 'no zstd program'}, async () => {
    const t = await tarOf([{name: 'z', body: randomBytes(50_000)}])
    const zbytes = execFileSync('zstd', ['-c', '-q'], {input: t})
    writeFileSync(work('cut.zst'), zbytes.subarray(0, zbytes.length - 100))
    await expectUsage(work('cut.zst'), /^layer .*cut\.zst: corrupt or truncated zstd data/)
  })

  it('a missing zstd program is a clear error', async () => {
    const t = await tarOf([{name: 'z', body: 'z'}])
    writeFileSync(work('nozstd.tar'), t)
    const path = process.env.PATH
    process.env.PATH = join(root, 'no-such-bin')
    try {
      await assert.rejects(prepare(work('nozstd.tar'), {compression: 'zstd'}), (e: unknown) => {
        assert.ok(isOcitoolError(e))
        assert.match(e.message, /^layer .*nozstd\.tar: zstd needs the zstd program on PATH/)
        return true
      })
    } finally {
      process.env.PATH = path
    }
    assert.deepEqual(readdirSync(tmp), [])
  })

  it('checks options: compression, level', async () => {
    writeFileSync(work('opt.tar'), await tarOf([{name: 'a'}]))
    await assert.rejects(prepare(work('opt.tar'), {level: 12}), /gzip level must be an integer from 0 to 9/)
    await assert.rejects(prepare(work('opt.tar'), {compression: 'xz' as 'gzip'}), /unknown layer compression "xz"/)
  })
})

describe('prepareLayer: large layers (parallel gzip members)', () => {
  let big: Buffer
  before(async () => {
    big = await bigTar(20 * 1024 * 1024 + 12345)
    writeFileSync(work('big.tar'), big)
  })

  it('beyond 16 MiB: a multi-member gzip that gunzip, gzip -d and zlib read as the input', async () => {
    const l = await prepare(work('big.tar'))
    const blob = read(l)
    assert.equal(l.diffId, sha256(big))
    assert.equal(l.desc.digest, sha256(blob))
    assert.equal(l.desc.size, blob.length)
    assert.deepEqual(zlib.gunzipSync(blob), big)
    assert.deepEqual(execFileSync('gzip', ['-dc', fileOf(l)], {maxBuffer: 64 * 1024 * 1024}), big)
    // the last member holds what follows the last 1 MiB boundary (its ISIZE trailer), so there are several
    assert.equal(blob.readUInt32LE(blob.length - 4), big.length % (1024 * 1024) || 1024 * 1024)
    // the same bytes give the same blob: members are cut at fixed offsets of the tar
    const again = await prepare(work('big.tar'), {gzip: {workers: 3}})
    assert.equal(again.desc.digest, l.desc.digest)
    await l.cleanup()
    await again.cleanup()
  })

  it('an escaping entry after compression went parallel: the error, no temporary file', async () => {
    const evil = Buffer.concat([big.subarray(0, big.length - 1024), await tarOf([{name: '../evil', body: 'x'}])])
    writeFileSync(work('big-evil.tar'), evil)
    await expectUsage(work('big-evil.tar'), /big-evil\.tar: entry "\.\.\/evil" escapes the root$/)
  })

  it('below the threshold: one member', async () => {
    const l = await prepare(work('big.tar'), {gzip: {threshold: 64 * 1024 * 1024}})
    const blob = read(l)
    assert.equal(blob.readUInt32LE(blob.length - 4), big.length)
    assert.deepEqual(zlib.gunzipSync(blob), big)
    await l.cleanup()
  })

  it('small members from a stream of odd-sized chunks', async () => {
    const pieces: Buffer[] = []
    for (let i = 0; i < big.length; ) {
      const n = 1 + ((i * 31) % 200_000)
      pieces.push(big.subarray(i, i + n))
      i += n
    }
    const l = await prepare('-', {stdin: Readable.from(pieces), gzip: {threshold: 1024 * 1024, memberSize: 333_333, workers: 2}})
    const blob = read(l)
    assert.equal(l.diffId, sha256(big))
    assert.deepEqual(zlib.gunzipSync(blob), big)
    assert.equal(blob.readUInt32LE(blob.length - 4), big.length % 333_333 || 333_333)
    await l.cleanup()
  })
})

describe('prepareLayer: directories', () => {
  let dir: string
  before(() => {
    dir = work('tree')
    mkdirSync(join(dir, 'bin'), {recursive: true})
    mkdirSync(join(dir, 'etc', 'conf.d'), {recursive: true})
    writeFileSync(join(dir, 'bin', 'tool'), '#!/bin/sh\necho hi\n')
    chmodSync(join(dir, 'bin', 'tool'), 0o4755)
    writeFileSync(join(dir, 'etc', 'secret'), 'shh')
    chmodSync(join(dir, 'etc', 'secret'), 0o600)
    writeFileSync(join(dir, 'etc', 'conf.d', 'a.conf'), 'a=1\n')
    writeFileSync(join(dir, 'etc', 'Z-upper'), '')
    linkSync(join(dir, 'etc', 'conf.d', 'a.conf'), join(dir, 'etc', 'hard.conf'))
    symlinkSync('../bin/tool', join(dir, 'etc', 'tool-link'))
    symlinkSync('/no/such/target', join(dir, 'dangling'))
    chmodSync(join(dir, 'etc', 'conf.d'), 0o750)
    execFileSync('mkfifo', [join(dir, 'pipe')])
  })

  it('packs reproducibly: sorted, fixed mtime, owner 0/0, modes, links; the same digest twice', async () => {
    const a = await prepare(dir, {mtime: 1_700_000_000})
    const b = await prepare(dir, {mtime: 1_700_000_000})
    assert.equal(a.desc.digest, b.desc.digest)
    assert.equal(a.diffId, b.diffId)
    const t = zlib.gunzipSync(read(a))
    assert.equal(a.diffId, sha256(t))
    const entries = await list(t)
    assert.deepEqual(
      entries.map((e) => e.name),
      ['bin/', 'bin/tool', 'dangling', 'etc/', 'etc/Z-upper', 'etc/conf.d/', 'etc/conf.d/a.conf', 'etc/hard.conf', 'etc/secret', 'etc/tool-link', 'pipe'],
    )
    const by = new Map(entries.map((e) => [e.name, e]))
    for (const e of entries) {
      assert.equal(e.mtime, 1_700_000_000, e.name)
      assert.deepEqual([e.uid, e.gid, e.uname, e.gname], [0, 0, '', ''], e.name)
    }
    assert.equal(by.get('bin/tool')!.mode, 0o4755)
    assert.equal(by.get('bin/tool')!.body, '#!/bin/sh\necho hi\n')
    assert.equal(by.get('etc/secret')!.mode, 0o600)
    assert.equal(by.get('etc/conf.d/')!.mode, 0o750)
    assert.deepEqual([by.get('etc/tool-link')!.type, by.get('etc/tool-link')!.linkname], ['symlink', '../bin/tool'])
    assert.deepEqual([by.get('dangling')!.type, by.get('dangling')!.linkname], ['symlink', '/no/such/target'])
    assert.deepEqual([by.get('etc/hard.conf')!.type, by.get('etc/hard.conf')!.linkname], ['link', 'etc/conf.d/a.conf'])
    assert.equal(by.get('pipe')!.type, 'fifo')

    // GNU tar reads it the same way
    const listing = execFileSync('tar', ['-tvzf', fileOf(a)], {env: {...process.env, TZ: 'UTC', LC_ALL: 'C'}}).toString()
    assert.match(listing, /^-rwsr-xr-x 0\/0 +18 2023-11-14 22:13 bin\/tool$/m)
    assert.match(listing, /^lrwxrwxrwx 0\/0 +0 2023-11-14 22:13 etc\/tool-link -> \.\.\/bin\/tool$/m)
    assert.match(listing, /^hrw-r--r-- 0\/0 +0 2023-11-14 22:13 etc\/hard\.conf link to etc\/conf\.d\/a\.conf$/m)
    assert.match(listing, /^drwxr-x--- 0\/0 +0 2023-11-14 22:13 etc\/conf\.d\/$/m)
    assert.match(listing, /^prw-r--r-- 0\/0 +0 2023-11-14 22:13 pipe$/m)
    await a.cleanup()
    await b.cleanup()
  })

  it('mtime: SOURCE_DATE_EPOCH when unset, else 0; ownership when asked', async () => {
    const saved = process.env.SOURCE_DATE_EPOCH
    try {
      process.env.SOURCE_DATE_EPOCH = '1234567890'
      const withEpoch = await prepare(dir, {compression: 'none', ownership: {uid: 1000, gid: 100}})
      const es = await list(read(withEpoch))
      assert.ok(es.every((e) => e.mtime === 1_234_567_890 && e.uid === 1000 && e.gid === 100 && e.uname === ''))
      delete process.env.SOURCE_DATE_EPOCH
      const zero = await prepare(dir, {compression: 'none'})
      assert.ok((await list(read(zero))).every((e) => e.mtime === 0 && e.uid === 0))
      process.env.SOURCE_DATE_EPOCH = 'yesterday'
      await assert.rejects(prepare(dir), /SOURCE_DATE_EPOCH "yesterday" is not a number of seconds/)
      await withEpoch.cleanup()
      await zero.cleanup()
    } finally {
      if (saved === undefined) delete process.env.SOURCE_DATE_EPOCH
      else process.env.SOURCE_DATE_EPOCH = saved
    }
  })

  it('skips sockets with a warning', async () => {
    const sdir = work('with-socket')
    mkdirSync(sdir)
    writeFileSync(join(sdir, 'file'), 'x')
    const server = createServer()
    await new Promise<void>((resolve) => server.listen(join(sdir, 'sock'), resolve))
    try {
      const warnings: string[] = []
      const l = await prepare(sdir, {compression: 'none', warn: (m) => warnings.push(m)})
      assert.deepEqual((await list(read(l))).map((e) => e.name), ['file'])
      assert.equal(warnings.length, 1)
      assert.match(warnings[0], /skipping socket sock/)
      await l.cleanup()
    } finally {
      await new Promise((resolve) => server.close(resolve))
    }
  })
})

describe('prepareLayer: stdin and named pipes', () => {
  it('reads `-` from an injected stream', async () => {
    const t = await tarOf([{name: 'from/stdin', body: 'piped'}])
    const gz = zlib.gzipSync(t)
    const chunks = [gz.subarray(0, 1), gz.subarray(1, 3), gz.subarray(3)] // the magic split across chunks
    const l = await prepare('-', {stdin: Readable.from(chunks)})
    assert.deepEqual(read(l), gz, 'kept as is')
    assert.equal(l.diffId, sha256(t))
    await l.cleanup()
  })

  it('reads the real stdin of a process', async () => {
    const t = await tarOf([{name: 'child', body: 'stdin of a child'}])
    const script = `
      import {prepareLayer} from ${JSON.stringify(new URL('../../../src/lib/mutate/layer.ts', import.meta.url).href)}
      const l = await prepareLayer('-', {mediaTypes: 'docker', tmpDir: ${JSON.stringify(freshTmp())}})
      process.stdout.write(JSON.stringify({desc: l.desc, diffId: l.diffId}))
      await l.cleanup()`
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {stdio: ['pipe', 'pipe', 'inherit']})
    const out: Buffer[] = []
    child.stdout.on('data', (c: Buffer) => out.push(c))
    child.stdin.end(t)
    const code = await new Promise((resolve) => child.on('close', resolve))
    assert.equal(code, 0)
    const got = JSON.parse(Buffer.concat(out).toString()) as {desc: {mediaType: string}; diffId: string}
    assert.equal(got.diffId, sha256(t))
    assert.equal(got.desc.mediaType, MediaType.dockerLayer)
  })

  it('streams a named pipe', async () => {
    const t = await tarOf([{name: 'fifo/data', body: randomBytes(300_000)}])
    writeFileSync(work('fifo-src.tar'), t)
    const fifo = work('layer.fifo')
    execFileSync('mkfifo', [fifo])
    const writer = spawn('sh', ['-c', 'cat "$1" > "$2"', 'sh', work('fifo-src.tar'), fifo], {stdio: 'ignore'})
    const written = new Promise((resolve) => writer.on('close', resolve))
    const l = await prepare(fifo, {compression: 'none'})
    assert.deepEqual(read(l), t)
    assert.equal(l.diffId, sha256(t))
    assert.equal(await written, 0)
    await l.cleanup()
  })
})

describe('prepareLayer: bad inputs', () => {
  it('not a tar', async () => {
    writeFileSync(work('notes.txt'), 'these are notes, not a tar archive\n'.repeat(40))
    await expectUsage(work('notes.txt'), /^layer .*notes\.txt: not a tar archive$/)
    writeFileSync(work('short.txt'), 'tiny')
    await expectUsage(work('short.txt'), /^layer .*short\.txt: not a tar archive$/)
    writeFileSync(work('empty'), '')
    await expectUsage(work('empty'), /^layer .*empty: not a tar archive \(no bytes\)$/)
    await expectUsage('-', /^layer stdin: not a tar archive/, {stdin: Readable.from([Buffer.from('hello')])})
  })

  it('an entry escaping the root with ../', async () => {
    writeFileSync(work('dotdot.tar'), await tarOf([{name: 'ok'}, {name: 'a/../../x', body: 'evil'}]))
    await expectUsage(work('dotdot.tar'), /^layer .*dotdot\.tar: entry "a\/\.\.\/\.\.\/x" escapes the root$/)
    writeFileSync(work('dotdot.tgz'), zlib.gzipSync(await tarOf([{name: '../x'}])))
    await expectUsage(work('dotdot.tgz'), /: entry "\.\.\/x" escapes the root$/)
  })

  it('an absolute path, a PAX path and a hard link escaping the root', async () => {
    writeFileSync(work('abs.tar'), await tarOf([{name: '/etc/passwd', body: 'root::0:0'}, {name: '/../../etc/shadow', body: 'x'}]))
    await expectUsage(work('abs.tar'), /: entry "\/\.\.\/\.\.\/etc\/shadow" escapes the root$/)
    writeFileSync(work('pax.tar'), await tarOf([{name: 'innocent', pax: {path: 'x/../../../etc/shadow'}}]))
    await expectUsage(work('pax.tar'), /: entry "x\/\.\.\/\.\.\/\.\.\/etc\/shadow" escapes the root$/)
    writeFileSync(work('hard.tar'), await tarOf([{name: 'h', type: 'link', linkname: '../../etc/passwd'}]))
    await expectUsage(work('hard.tar'), /: entry "h" is a hard link to "\.\.\/\.\.\/etc\/passwd", outside the root$/)
  })

  it('a truncated gzip, corrupt gzip, truncated tar', async () => {
    const t = await tarOf([{name: 'f', body: randomBytes(200_000)}])
    const gz = zlib.gzipSync(t)
    writeFileSync(work('cut.tgz'), gz.subarray(0, gz.length - 5000))
    await expectUsage(work('cut.tgz'), /^layer .*cut\.tgz: truncated gzip data \(unexpected end of file\)$/)
    await expectUsage(work('cut.tgz'), /truncated gzip data/, {compression: 'none'})
    const bad = Buffer.from(gz)
    bad[20] ^= 0xff
    bad[21] ^= 0xff
    writeFileSync(work('bad.tgz'), bad)
    await expectUsage(work('bad.tgz'), /^layer .*bad\.tgz: corrupt gzip data: /)
    writeFileSync(work('cut.tar'), t.subarray(0, 100_000))
    await expectUsage(work('cut.tar'), /^layer .*cut\.tar: truncated tar archive \(it ends inside an entry, at byte 100000\)$/)
  })

  it('absolute names inside the root (tar -P) are accepted, with one warning', async () => {
    const t = await tarOf([{name: '/usr/', type: 'directory'}, {name: '/usr/lib/x', body: 'x'}])
    writeFileSync(work('minus-p.tar'), t)
    const warnings: string[] = []
    const l = await prepare(work('minus-p.tar'), {warn: (m) => warnings.push(m)})
    assert.equal(l.diffId, sha256(t))
    assert.deepEqual(warnings, [`layer ${work('minus-p.tar')}: entries have absolute names ("/usr/"); they extract relative to the root`])
    await l.cleanup()
  })

  it('a missing path is not found (exit 3)', async () => {
    await assert.rejects(prepare(work('nope.tar')), (e: unknown) => isOcitoolError(e) && e.exitCode === ExitCode.NotFound && /no such file/.test(e.message))
  })

  it('an abort stops it and removes the temporary file', async () => {
    const ac = new AbortController()
    const endless = new Readable({
      read() {
        setTimeout(() => this.push(Buffer.alloc(64 * 1024)), 1)
      },
    })
    const p = prepare('-', {stdin: endless, signal: ac.signal})
    setTimeout(() => ac.abort(), 50)
    await assert.rejects(p, (e: unknown) => isOcitoolError(e) && e.exitCode === ExitCode.Interrupted)
    assert.deepEqual(readdirSync(tmp), [])
  })
})

describe('GzipPool', () => {
  it('gzips pieces of any size into members, and gives the pieces back', async () => {
    const pool = new GzipPool(2, 1)
    try {
      for (const size of [0, 10, 5000, 70_000, 1024 * 1024]) {
        const data = randomBytes(size)
        const piece = Buffer.allocUnsafeSlow(size)
        data.copy(piece)
        const {member, piece: back} = await pool.compress(piece)
        assert.deepEqual(zlib.gunzipSync(member), data, `${size} bytes`)
        assert.equal(back.buffer, piece.buffer, 'the piece comes back')
        assert.deepEqual(zlib.gzipSync(data, {level: 1, windowBits: 15, memLevel: 9}), member, 'the bytes gzipSync gives')
      }
      const members = await Promise.all([1, 2, 3, 4, 5].map((n) => pool.compress(Buffer.from(`member ${n}\n`.repeat(1000)))))
      const joined = zlib.gunzipSync(Buffer.concat(members.map((m) => m.member))).toString()
      assert.equal(joined, [1, 2, 3, 4, 5].map((n) => `member ${n}\n`.repeat(1000)).join(''))
    } finally {
      await pool.close()
    }
    await assert.rejects(pool.compress(Buffer.alloc(1)), /closed/)
  })
})

describe('escapesRoot', () => {
  it('normalises before deciding', () => {
    for (const ok of ['a', './a', 'a/b/../c', 'a/./b/', './', '.', '', 'a/..', '..a', 'a/..b', '/a', '//a', '/a/../b']) {
      assert.equal(escapesRoot(ok), false, ok)
    }
    for (const bad of ['..', '../', 'a/../..', './../a', 'a/b/../../../c', '/..', '/../a', '//a/../../b']) assert.equal(escapesRoot(bad), true, bad)
  })
})
