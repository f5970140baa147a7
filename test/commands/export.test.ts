// export against the real distribution registry: a three-layer image whose upper layers replace,
// delete and opaque-replace things, listed with GNU tar; stdout gives the same bytes; a missing
// image exits 3 and leaves no file; an index gives linux/amd64 unless --platform says otherwise.
import assert from 'node:assert/strict'
import * as fsp from 'node:fs/promises'
import * as path from 'node:path'
import {after, before, describe, it} from 'node:test'
import * as zlib from 'node:zlib'

import {parseReference} from '../../src/lib/name/reference.js'
import {Session} from '../../src/lib/remote/session.js'
import {runCli} from '../support/cli.js'
import {run} from '../support/exec.js'
import {MediaTypes, sha256} from '../support/fixtures.js'
import {type RunningRegistry, startRegistry} from '../support/registry.js'
import {type TmpDir, tmpDir} from '../support/tmp.js'
import {type TarItem as Item, layerTar} from '../support/layer-tar.js'


interface Pushed {
  digest: string
  bytes: Buffer
}

/** pushImage pushes an OCI image of gzip layers (bottom first) as repo:tag with our client. */
async function pushImage(reg: RunningRegistry, repoTag: string, layers: Item[][], arch = 'amd64'): Promise<Pushed> {
  const tars = await Promise.all(layers.map(layerTar))
  const gz = tars.map((t) => zlib.gzipSync(t))
  const config = Buffer.from(JSON.stringify({architecture: arch, os: 'linux', rootfs: {type: 'layers', diff_ids: tars.map(sha256)}}))
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaTypes.ociManifest,
      config: {mediaType: MediaTypes.ociConfig, size: config.length, digest: sha256(config)},
      layers: gz.map((b) => ({mediaType: MediaTypes.ociLayerGzip, size: b.length, digest: sha256(b)})),
    }),
  )
  const ref = parseReference(`${reg.host}/${repoTag}`)
  const s = new Session({insecure: true})
  try {
    const repo = s.repository(ref)
    for (const b of [config, ...gz]) await repo.uploadBlob(sha256(b), b.length, b)
    await repo.putManifest(ref.tag!, manifest, MediaTypes.ociManifest)
    return {digest: sha256(manifest), bytes: manifest}
  } finally {
    s.close()
  }
}

async function pushIndex(reg: RunningRegistry, repoTag: string, images: Array<{arch: string; m: Pushed}>): Promise<void> {
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaTypes.ociIndex,
      manifests: images.map(({arch, m}) => ({mediaType: MediaTypes.ociManifest, size: m.bytes.length, digest: m.digest, platform: {os: 'linux', architecture: arch}})),
    }),
  )
  const ref = parseReference(`${reg.host}/${repoTag}`)
  const s = new Session({insecure: true})
  try {
    await s.repository(ref).putManifest(ref.tag!, index, MediaTypes.ociIndex)
  } finally {
    s.close()
  }
}

const bottom: Item[] = [
  {name: 'etc/', type: 'directory'},
  {name: 'etc/hostname', body: 'base\n'},
  {name: 'etc/passwd', body: 'root:x:0:0::/root:/bin/sh\n'},
  {name: 'bin/', type: 'directory'},
  {name: 'bin/busybox', body: '#!busybox\n', mode: 0o755},
  {name: 'bin/sh', type: 'link', linkname: 'bin/busybox', mode: 0o755},
  {name: 'usr/', type: 'directory'},
  {name: 'usr/share/', type: 'directory'},
  {name: 'usr/share/doc/', type: 'directory'},
  {name: 'usr/share/doc/a.txt', body: 'a\n'},
  {name: 'usr/share/doc/b.txt', body: 'b\n'},
  {name: 'tmp/', type: 'directory', mode: 0o1777},
  {name: 'secret', body: 'shh\n', mode: 0o600},
]
const middle: Item[] = [
  {name: './etc/hostname', body: 'middle\n'},
  {name: 'bin/ls', type: 'link', linkname: 'bin/busybox', mode: 0o755},
  {name: 'usr/lib/', type: 'directory'},
  {name: 'lib', type: 'symlink', linkname: '/usr/lib', mode: 0o777},
  {name: 'todelete', body: 'gone\n'},
]
const top: Item[] = [
  {name: '.wh.todelete'},
  {name: 'etc/.wh.passwd'},
  {name: 'usr/share/doc/', type: 'directory', mode: 0o750},
  {name: 'usr/share/doc/.wh..wh..opq'},
  {name: 'usr/share/doc/c.txt', body: 'c\n'},
]

/** the listing `tar --numeric-owner -tvf` must give, in order: [mode, size, name (with link)] */
const want = [
  ['drwxr-xr-x', '0', 'bin/'],
  ['drwxr-xr-x', '0', 'etc/'],
  ['drwxrwxrwt', '0', 'tmp/'],
  ['drwxr-xr-x', '0', 'usr/'],
  ['drwxr-xr-x', '0', 'usr/lib/'],
  ['drwxr-xr-x', '0', 'usr/share/'],
  ['drwxr-x---', '0', 'usr/share/doc/'],
  ['-rwxr-xr-x', '10', 'bin/busybox'],
  ['hrwxr-xr-x', '0', 'bin/sh link to bin/busybox'],
  ['-rw-------', '4', 'secret'],
  ['-rw-r--r--', '7', 'etc/hostname'],
  ['hrwxr-xr-x', '0', 'bin/ls link to bin/busybox'],
  ['lrwxrwxrwx', '0', 'lib -> /usr/lib'],
  ['-rw-r--r--', '2', 'usr/share/doc/c.txt'],
]

/** listing runs GNU tar -tv and keeps mode, size and name of every line */
async function listing(file: string): Promise<string[][]> {
  const r = await run('tar', ['--numeric-owner', '-tvf', file])
  assert.equal(r.code, 0, r.stderr)
  return r.stdout
    .trim()
    .split('\n')
    .map((line) => {
      // drwxr-xr-x 0/0 0 2000-01-01 00:00 etc/
      const m = /^(\S+) (\d+)\/(\d+) +(\d+) \S+ \S+ (.*)$/.exec(line)
      assert.ok(m, `unexpected tar -tv line: ${line}`)
      assert.equal(`${m[2]}/${m[3]}`, '0/0', line)
      return [m[1], m[4], m[5]]
    })
}

async function contentOf(file: string, member: string): Promise<string> {
  const r = await run('tar', ['-xOf', file, member])
  assert.equal(r.code, 0, r.stderr)
  return r.stdout
}

describe('export', () => {
  let reg: RunningRegistry
  let tmp: TmpDir
  let ref: string
  before(async () => {
    reg = await startRegistry({flavour: 'plain'})
    tmp = await tmpDir('export')
    ref = `${reg.host}/flat/app:v1`
    await pushImage(reg, 'flat/app:v1', [bottom, middle, top])
  })
  after(async () => {
    await reg?.stop()
    await tmp?.remove()
  })

  it('writes the flattened filesystem: later layers win, whiteouts and opaque directories applied, links kept', async () => {
    const out = path.join(tmp.path, 'out.tar')
    const r = await runCli(['export', ref, out])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, '')
    assert.deepEqual(await listing(out), want)
    assert.deepEqual((await fsp.readdir(tmp.path)).sort(), ['out.tar'], 'no temporary file left')
    // GNU tar extracts it: contents, and the hard links share the target's inode
    const root = path.join(tmp.path, 'rootfs')
    await fsp.mkdir(root)
    const x = await run('tar', ['-xf', out, '-C', root])
    assert.equal(x.code, 0, x.stderr)
    const read = (p: string) => fsp.readFile(path.join(root, p), 'utf8')
    assert.equal(await read('etc/hostname'), 'middle\n')
    assert.equal(await read('bin/busybox'), '#!busybox\n')
    assert.equal(await read('usr/share/doc/c.txt'), 'c\n')
    assert.equal(await read('secret'), 'shh\n')
    const ino = async (p: string) => (await fsp.stat(path.join(root, p))).ino
    assert.equal(await ino('bin/ls'), await ino('bin/busybox'))
    assert.equal(await ino('bin/sh'), await ino('bin/busybox'))
    assert.equal(await fsp.readlink(path.join(root, 'lib')), '/usr/lib')
    await fsp.rm(root, {recursive: true})
  })

  it('export IMAGE - writes the same bytes to stdout', async () => {
    const out = path.join(tmp.path, 'same.tar')
    const a = await runCli(['export', ref, out])
    assert.equal(a.code, 0, a.stderr)
    const b = await runCli(['export', ref, '-'])
    assert.equal(b.code, 0, b.stderr)
    assert.ok(b.stdoutBytes.length > 0)
    assert.ok(b.stdoutBytes.equals(await fsp.readFile(out)))
  })

  it('a missing image exits 3 and writes no file', async () => {
    const out = path.join(tmp.path, 'missing.tar')
    const r = await runCli(['export', `${reg.host}/flat/nothing:v1`, out])
    assert.equal(r.code, 3, r.stderr)
    assert.match(r.stderr, /^Error: /m)
    assert.equal(r.stdout, '')
    await assert.rejects(fsp.stat(out), /ENOENT/)
    assert.ok(!(await fsp.readdir(tmp.path)).some((n) => n.startsWith('missing.tar')), 'no temporary file left')
  })

  it('an entry outside the root fails with exit 1 and writes no file', async () => {
    await pushImage(reg, 'flat/evil:v1', [[{name: 'ok', body: 'ok'}], [{name: '../evil', body: 'evil'}]])
    const out = path.join(tmp.path, 'evil.tar')
    const r = await runCli(['export', `${reg.host}/flat/evil:v1`, out])
    assert.equal(r.code, 1, r.stderr)
    assert.match(r.stderr, /entry "\.\.\/evil" is outside the image root/)
    assert.ok(!(await fsp.readdir(tmp.path)).some((n) => n.startsWith('evil.tar')), 'no file, no temporary file')
  })

  it('an index gives linux/amd64 by default, --platform another', async () => {
    const amd = await pushImage(reg, 'flat/multi:amd64', [[{name: 'arch', body: 'amd64\n'}]])
    const arm = await pushImage(reg, 'flat/multi:arm64', [[{name: 'arch', body: 'arm64\n'}]], 'arm64')
    await pushIndex(reg, 'flat/multi:v1', [{arch: 'arm64', m: arm}, {arch: 'amd64', m: amd}])
    const a = await runCli(['export', `${reg.host}/flat/multi:v1`, '-'])
    assert.equal(a.code, 0, a.stderr)
    const b = await runCli(['export', `${reg.host}/flat/multi:v1`, '-', '--platform', 'linux/arm64'])
    assert.equal(b.code, 0, b.stderr)
    const file = path.join(tmp.path, 'multi.tar')
    await fsp.writeFile(file, a.stdoutBytes)
    assert.equal(await contentOf(file, 'arch'), 'amd64\n')
    await fsp.writeFile(file, b.stdoutBytes)
    assert.equal(await contentOf(file, 'arch'), 'arm64\n')
    await fsp.rm(file)
  })

  it('an OCI layout exports the same bytes; a FILE in a missing directory is exit 1 before any layer is read', async () => {
    const layout = path.join(tmp.path, 'layout')
    const c = await runCli(['copy', ref, `oci:${layout}:v1`])
    assert.equal(c.code, 0, c.stderr)
    const a = await runCli(['export', `oci:${layout}:v1`, '-'])
    assert.equal(a.code, 0, a.stderr)
    const b = await runCli(['export', ref, '-'])
    assert.ok(a.stdoutBytes.equals(b.stdoutBytes))
    const bad = await runCli(['export', `oci:${layout}:v1`, path.join(tmp.path, 'no', 'such', 'dir.tar')])
    assert.equal(bad.code, 1, bad.stderr)
    assert.match(bad.stderr, /writing .*dir\.tar: no such directory/)
    // a directory that is there but takes no new files (creating one in /proc fails with ENOENT)
    const proc = await runCli(['export', `oci:${layout}:v1`, '/proc/ocitool-export.tar'])
    assert.equal(proc.code, 1, proc.stderr)
    assert.match(proc.stderr, /^Error: writing \/proc\/ocitool-export\.tar: its directory takes no new files\n$/)
    await fsp.rm(layout, {recursive: true})
  })

  it('export - reads a docker archive from stdin', async () => {
    const archive = path.join(tmp.path, 'saved.tar')
    const c = await runCli(['copy', ref, `docker-archive:${archive}`])
    assert.equal(c.code, 0, c.stderr)
    const r = await runCli(['export', '-', '-'], {input: await fsp.readFile(archive)})
    assert.equal(r.code, 0, r.stderr)
    const direct = await runCli(['export', ref, '-'])
    assert.ok(r.stdoutBytes.equals(direct.stdoutBytes))
    await fsp.rm(archive)
  })
})
