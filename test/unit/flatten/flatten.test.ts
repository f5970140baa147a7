import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import {mkdtempSync, readdirSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {PassThrough, Readable} from 'node:stream'
import {describe, it} from 'node:test'
import * as zlib from 'node:zlib'
import * as tar from 'tar-stream'

import {ExitCode, isOcitoolError} from '../../../src/lib/errors.js'
import {verify} from '../../../src/lib/io/verify.js'
import {type FlattenLayer, type FlattenOptions, flatten, normalizeEntryPath} from '../../../src/lib/flatten/index.js'

interface Item {
  name: string
  type?: 'file' | 'directory' | 'symlink' | 'link' | 'fifo'
  body?: string | Buffer
  linkname?: string
  mode?: number
  pax?: Record<string, string>
}

interface OutEntry {
  name: string
  type: string
  mode: number
  linkname?: string
  body: string
  pax?: Record<string, string>
}

/** layerTar packs items into an uncompressed tar, names exactly as given. */
async function layerTar(items: Item[]): Promise<Buffer> {
  const pack = tar.pack()
  const chunks: Buffer[] = []
  const done = (async () => {
    for await (const c of pack) chunks.push(c as Buffer)
  })()
  for (const it of items) {
    const type = it.type ?? 'file'
    const header: Partial<tar.Header> & {name: string} = {
      name: it.name,
      type,
      // tar-stream writes mode 0 as 0644; a file-type bit (masked off when written) keeps the 0
      mode: (it.mode ?? (type === 'directory' ? 0o755 : 0o644)) | 0o100000,
      mtime: new Date(946684800000),
      ...(it.linkname ? {linkname: it.linkname} : {}),
      ...(it.pax ? {pax: it.pax} : {}),
    }
    await new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null) => (err ? reject(err) : resolve())
      if (type === 'file') pack.entry(header, Buffer.from(it.body ?? ''), cb)
      else pack.entry(header, cb)
    })
  }
  pack.finalize()
  await done
  return Buffer.concat(chunks)
}

const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`

/** asLayers turns blobs (bottom first) into verified layers, counting how often each is opened. */
function asLayers(blobs: Buffer[], opened: number[] = []): FlattenLayer[] {
  return blobs.map((b, i) => ({
    what: `layer ${i}`,
    open: async () => {
      opened[i] = (opened[i] ?? 0) + 1
      const v = verify(sha256(b), b.length)
      Readable.from([b]).pipe(v)
      return v
    },
  }))
}

async function run(layers: Item[][], options: FlattenOptions = {}): Promise<{entries: OutEntry[]; warnings: string[]}> {
  const blobs = await Promise.all(layers.map(layerTar))
  return runBlobs(blobs, options)
}

async function runBlobs(blobs: Buffer[], options: FlattenOptions = {}): Promise<{entries: OutEntry[]; warnings: string[]}> {
  const warnings: string[] = []
  const out = new PassThrough()
  const reading = readTar(out)
  await flatten(asLayers(blobs), out, {warn: (m) => warnings.push(m), ...options})
  return {entries: await reading, warnings}
}

async function readTar(stream: Readable): Promise<OutEntry[]> {
  const extract = tar.extract()
  stream.pipe(extract)
  const out: OutEntry[] = []
  for await (const e of extract) {
    const chunks: Buffer[] = []
    for await (const c of e) chunks.push(c as Buffer)
    const h = e.header as tar.Header & {pax?: Record<string, string> | null}
    out.push({
      name: h.name,
      type: h.type ?? '?',
      mode: h.mode ?? -1,
      ...(h.linkname ? {linkname: h.linkname} : {}),
      body: Buffer.concat(chunks).toString(),
      ...(h.pax ? {pax: h.pax} : {}),
    })
  }
  return out
}

const names = (es: OutEntry[]) => es.map((e) => e.name)
const byName = (es: OutEntry[], n: string) => es.find((e) => e.name === n)

describe('normalizeEntryPath', () => {
  for (const c of [
    {in: './a/b', want: 'a/b'},
    {in: '/a//b/', want: 'a/b'},
    {in: 'a/./b/../c', want: 'a/c'},
    {in: './', want: ''},
    {in: '../evil', want: undefined},
    {in: '/abs/../../x', want: undefined},
    {in: 'a/../../x', want: undefined},
  ]) {
    it(`${c.in} → ${String(c.want)}`, () => assert.equal(normalizeEntryPath(c.in), c.want))
  }
})

describe('flatten', () => {
  it('a later layer wins', async () => {
    const {entries} = await run([
      [{name: 'etc/', type: 'directory'}, {name: 'etc/conf', body: 'old'}, {name: 'etc/keep', body: 'keep'}],
      [{name: './etc/conf', body: 'new', mode: 0o600}],
    ])
    assert.deepEqual(names(entries), ['etc/', 'etc/keep', 'etc/conf'])
    assert.equal(byName(entries, 'etc/conf')?.body, 'new')
    assert.equal(byName(entries, 'etc/conf')?.mode, 0o600)
  })

  it('.wh.NAME deletes NAME (and what is under it) from lower layers; whiteouts are not written', async () => {
    const {entries} = await run([
      [{name: 'a', body: 'a'}, {name: 'b', body: 'b'}, {name: 'd/', type: 'directory'}, {name: 'd/x', body: 'x'}],
      [{name: '.wh.a'}, {name: '.wh.d'}],
    ])
    assert.deepEqual(names(entries), ['b'])
  })

  it('.wh..wh..opq hides what lower layers put in the directory, keeps what its own layer adds', async () => {
    const {entries} = await run([
      [{name: 'd/', type: 'directory'}, {name: 'd/old', body: 'old'}, {name: 'd/sub/', type: 'directory'}, {name: 'd/sub/deep', body: 'deep'}, {name: 'other', body: 'o'}],
      [{name: 'd/', type: 'directory', mode: 0o700}, {name: 'd/new', body: 'new'}, {name: 'd/.wh..wh..opq'}],
    ])
    assert.deepEqual(names(entries).sort(), ['d/', 'd/new', 'other'])
    assert.equal(byName(entries, 'd/')?.mode, 0o700)
  })

  it('a file deleted, then added again (in a higher layer, or in the deleting layer)', async () => {
    const {entries} = await run([
      [{name: 'f', body: 'one'}, {name: 'g', body: 'one'}, {name: 'd/', type: 'directory'}, {name: 'd/old', body: 'old'}],
      [{name: '.wh.f'}, {name: '.wh.g'}, {name: 'g', body: 'two'}, {name: '.wh.d'}, {name: 'd/', type: 'directory'}, {name: 'd/new', body: 'new'}],
      [{name: 'f', body: 'three'}],
    ])
    assert.deepEqual(names(entries).sort(), ['d/', 'd/new', 'f', 'g'])
    assert.equal(byName(entries, 'f')?.body, 'three')
    assert.equal(byName(entries, 'g')?.body, 'two')
  })

  it('a hard link to a file in a lower layer comes after its target', async () => {
    const {entries} = await run([
      [{name: 'bin/', type: 'directory'}, {name: 'bin/busybox', body: 'BB', mode: 0o755}],
      [{name: 'bin/sh', type: 'link', linkname: 'bin/busybox'}, {name: 'bin/ls', type: 'link', linkname: './bin/busybox'}],
    ])
    assert.deepEqual(names(entries), ['bin/', 'bin/busybox', 'bin/sh', 'bin/ls'])
    assert.equal(byName(entries, 'bin/sh')?.type, 'link')
    assert.equal(byName(entries, 'bin/sh')?.linkname, 'bin/busybox')
    assert.equal(byName(entries, 'bin/ls')?.linkname, 'bin/busybox')
  })

  it('a hard link whose target was replaced above takes the old content; a second link points at the first', async () => {
    const {entries} = await run([
      [{name: 't', body: 'old'}, {name: 'l1', type: 'link', linkname: 't'}, {name: 'l2', type: 'link', linkname: 't'}],
      [{name: 't', body: 'new'}],
    ])
    assert.deepEqual(
      entries.map((e) => [e.name, e.type, e.linkname ?? e.body]),
      [['l1', 'file', 'old'], ['l2', 'link', 'l1'], ['t', 'file', 'new']],
    )
  })

  it('a hard link whose target is nowhere is left out with a warning', async () => {
    const {entries, warnings} = await run([[{name: 'a', body: 'a'}], [{name: 'l', type: 'link', linkname: 'missing'}]])
    assert.deepEqual(names(entries), ['a'])
    assert.match(warnings.join('\n'), /hard link l: its target is not in the image/)
  })

  it('keeps symlinks as links (absolute targets are data)', async () => {
    const {entries} = await run([[{name: 'lib', type: 'symlink', linkname: '/usr/lib'}, {name: 'up', type: 'symlink', linkname: '../../etc/passwd'}]])
    assert.deepEqual(entries.map((e) => [e.name, e.type, e.linkname]), [['lib', 'symlink', '/usr/lib'], ['up', 'symlink', '../../etc/passwd']])
  })

  it('rejects an entry outside the root', async () => {
    for (const name of ['../evil', '/abs/../../x']) {
      await assert.rejects(run([[{name: 'ok', body: 'ok'}, {name, body: 'evil'}]]), (e: unknown) => {
        assert.ok(isOcitoolError(e))
        assert.equal(e.code, 'UNSAFE_PATH')
        assert.equal(e.exitCode, ExitCode.Other)
        assert.match(e.message, /layer 0: entry ".*" is outside the image root/)
        return true
      })
    }
    await assert.rejects(run([[{name: 'ok', body: 'ok'}, {name: 'l', type: 'link', linkname: '../../etc/shadow'}]]), /hard link target of l "..\/..\/etc\/shadow" is outside/)
  })

  it("with unsafePaths: 'skip', leaves such entries out and normalises the rest", async () => {
    const {entries, warnings} = await run([[{name: '../evil', body: 'x'}, {name: '/abs/../../x', body: 'x'}, {name: '/abs/./y', body: 'y'}, {name: './z', body: 'z'}]], {unsafePaths: 'skip'})
    assert.deepEqual(names(entries), ['abs/y', 'z'])
    assert.equal(warnings.length, 2)
  })

  it('writes directories before their children, also when the directory comes from a higher layer', async () => {
    const {entries} = await run([
      [{name: 'a/b/c', body: 'c'}, {name: 'a/b/', type: 'directory'}, {name: 'z', body: 'z'}],
      [{name: 'a/', type: 'directory', mode: 0o711}, {name: 'a/b/d/', type: 'directory'}, {name: 'a/b/d/e', body: 'e'}],
    ])
    const order = names(entries)
    assert.deepEqual(order.slice(0, 3), ['a/', 'a/b/', 'a/b/d/'])
    for (const [i, n] of order.entries()) {
      const parent = n.replace(/\/$/, '').split('/').slice(0, -1).join('/')
      if (parent) assert.ok(order.indexOf(`${parent}/`) < i, `${parent}/ before ${n}`)
    }
    assert.equal(byName(entries, 'a/')?.mode, 0o711)
  })

  it('a file over a directory hides its lower children; a directory under a path hides a lower file there', async () => {
    const {entries} = await run([
      [{name: 'd/', type: 'directory'}, {name: 'd/x', body: 'x'}, {name: 'f', body: 'file'}, {name: 'lnk', type: 'symlink', linkname: 'd'}],
      [{name: 'd', body: 'now a file'}, {name: 'f/inside', body: 'i'}, {name: 'lnk/added', body: 'a'}],
    ])
    assert.deepEqual(names(entries).sort(), ['d', 'f/inside', 'lnk', 'lnk/added'])
  })

  it('keeps mode 0, pax records (xattrs), fifos; drops nothing else', async () => {
    const {entries} = await run([
      [{name: 'secret', body: 's', mode: 0}, {name: 'ping', body: 'p', mode: 0o755, pax: {'SCHILY.xattr.security.capability': 'cap'}}, {name: 'pipe', type: 'fifo', mode: 0o600}],
    ])
    assert.equal(byName(entries, 'secret')?.mode, 0)
    assert.equal(byName(entries, 'ping')?.pax?.['SCHILY.xattr.security.capability'], 'cap')
    assert.equal(byName(entries, 'pipe')?.type, 'fifo')
  })

  it('reads gzip and zstd layers (told apart by magic bytes)', async () => {
    const low = await layerTar([{name: 'a', body: 'from gzip'}, {name: 'b', body: 'b'}])
    const high = await layerTar([{name: 'a', body: 'from zstd'}])
    const zst = execFileSync('zstd', ['-q', '-c'], {input: high})
    const {entries} = await runBlobs([zlib.gzipSync(low), zst])
    assert.deepEqual(entries.map((e) => [e.name, e.body]), [['b', 'b'], ['a', 'from zstd']])
  })

  it('without zstd in zlib or on PATH, a zstd layer is a clear error', {skip: typeof (zlib as {createZstdDecompress?: unknown}).createZstdDecompress === 'function'}, async () => {
    const zst = execFileSync('zstd', ['-q', '-c'], {input: await layerTar([{name: 'a', body: 'a'}])})
    const saved = process.env.PATH
    process.env.PATH = '/nonexistent'
    try {
      await assert.rejects(runBlobs([zst]), (e: unknown) => isOcitoolError(e) && e.code === 'ZSTD_UNAVAILABLE' && /layer 0: zstd layers need the zstd program on PATH/.test(e.message))
    } finally {
      process.env.PATH = saved
    }
  })

  it('a corrupt zstd layer is an error, not a short tar', async () => {
    const zst = execFileSync('zstd', ['-q', '-c'], {input: await layerTar([{name: 'a', body: 'a'.repeat(5000)}])})
    const bad = Buffer.concat([zst.subarray(0, 20), Buffer.alloc(40, 0x55), zst.subarray(60)])
    await assert.rejects(runBlobs([bad]), (e: unknown) => isOcitoolError(e) && e.code === 'BAD_LAYER')
  })

  it('long names, long link targets and an empty image', async () => {
    const long = `${'d'.repeat(120)}/${'f'.repeat(150)}`
    const {entries} = await run([[{name: long, body: 'x'}, {name: 'l', type: 'symlink', linkname: 't'.repeat(200)}, {name: 'h', type: 'link', linkname: long}]])
    assert.deepEqual(entries.map((e) => [e.name, e.linkname]), [[long, undefined], ['l', 't'.repeat(200)], ['h', long]])
    assert.deepEqual((await runBlobs([])).entries, [])
  })

  it('streams a large file, reading each layer once', async () => {
    const big = Buffer.alloc(24 * 1024 * 1024, 7)
    const blobs = [await layerTar([{name: 'big', body: big}]), await layerTar([{name: 'big', body: 'small'}, {name: 'x', body: 'x'}])]
    const opened: number[] = []
    const out = new PassThrough()
    const reading = readTar(out)
    const r = await flatten(asLayers(blobs, opened), out)
    assert.deepEqual(names(await reading), ['big', 'x'])
    assert.deepEqual(opened, [1, 1])
    assert.equal(r.entries, 2)
  })

  it('files kept between the passes come out intact, in memory or in the spool file, which leaves nothing behind', async () => {
    // 96 × 200 KiB is more than the 16 MiB kept in memory: the rest goes to the spool file
    const bodies = Array.from({length: 96}, (_, i) => Buffer.alloc(200 * 1024 + i, String.fromCharCode(65 + (i % 26))))
    const blobs = await Promise.all([
      layerTar([{name: 'huge', body: Buffer.alloc(2 * 1024 * 1024 + 5, 'h')}, ...bodies.map((body, i) => ({name: `f${i}`, body}))]),
      layerTar([{name: 'top', body: 'top'}]),
    ])
    const dir = mkdtempSync(join(tmpdir(), 'flatten-spool-'))
    try {
      const out = new PassThrough()
      const reading = readTar(out)
      await flatten(asLayers(blobs), out, {spoolDir: dir})
      const entries = await reading
      assert.equal(entries.length, 98)
      assert.equal(byName(entries, 'huge')?.body, 'h'.repeat(2 * 1024 * 1024 + 5))
      for (const [i, body] of bodies.entries()) assert.equal(byName(entries, `f${i}`)?.body, body.toString(), `f${i}`)
      assert.deepEqual(readdirSync(dir), [])
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })

  it('reads a layer again only when a link of its own needs bytes a higher layer replaced', async () => {
    const big = Buffer.alloc(3 * 1024 * 1024, 'b')
    const blobs = await Promise.all([
      layerTar([{name: 'base', body: 'base'}]),
      layerTar([{name: 't', body: big}, {name: 'l', type: 'link', linkname: 't'}, {name: 'u', body: big}]),
      layerTar([{name: 't', body: 'new'}]),
    ])
    const opened: number[] = []
    const out = new PassThrough()
    const reading = readTar(out)
    await flatten(asLayers(blobs, opened), out)
    const entries = await reading
    assert.deepEqual(entries.map((e) => [e.name, e.type, e.body.length]), [['base', 'file', 4], ['l', 'file', big.length], ['u', 'file', big.length], ['t', 'file', 3]])
    assert.equal(byName(entries, 'u')?.body, big.toString())
    assert.deepEqual(opened, [1, 2, 1])
  })

  it('a layer that fails verification fails the export', async () => {
    const good = await layerTar([{name: 'a', body: 'a'}])
    const layer: FlattenLayer = {
      what: 'layer 0',
      open: async () => {
        const v = verify(sha256(Buffer.from('something else')), good.length, {what: 'layer 0 blob'})
        Readable.from([good]).pipe(v)
        return v
      },
    }
    const out = new PassThrough()
    out.resume()
    await assert.rejects(flatten([layer], out), (e: unknown) => isOcitoolError(e) && e.exitCode === ExitCode.Integrity)
  })

  it('a blob that is not a tar is a clear error', async () => {
    const out = new PassThrough()
    out.resume()
    await assert.rejects(runBlobs([Buffer.from('not a tar at all, just some bytes'.repeat(40))]), (e: unknown) => isOcitoolError(e) && e.code === 'BAD_LAYER' && /layer 0: not a readable tar layer/.test(e.message))
  })
})
