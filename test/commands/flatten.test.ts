// flatten against the real distribution registry: an image whose upper layer deletes a file,
// replaces one and opaque-replaces a directory becomes one layer, and `umoci unpack` of the
// result gives the same tree as `umoci unpack` of the original (types, modes, contents, link
// targets, hard links). The local form writes the filesystem and the config to files.
import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import * as fsp from 'node:fs/promises'
import * as path from 'node:path'
import {after, before, describe, it} from 'node:test'
import * as zlib from 'node:zlib'

import {parseReference} from '../../src/lib/name/reference.js'
import {Session} from '../../src/lib/remote/session.js'
import {runCli} from '../support/cli.js'
import {run} from '../support/exec.js'
import {MediaTypes, type PushedFixture, pushFixture, sha256, skopeo} from '../support/fixtures.js'
import {type RunningRegistry, startRegistry} from '../support/registry.js'
import {type TmpDir, tmpDir} from '../support/tmp.js'
import {type TarItem as Item, layerTar} from '../support/layer-tar.js'

type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any


/** pushImage pushes an OCI image of gzip layers (bottom first) as repo:tag with our client. */
async function pushImage(reg: RunningRegistry, repoTag: string, layers: Item[][]): Promise<{digest: string; config: Buffer}> {
  const tars = await Promise.all(layers.map(layerTar))
  const gz = tars.map((t) => zlib.gzipSync(t))
  const config = Buffer.from(
    JSON.stringify({
      created: '2000-01-01T00:00:00Z',
      architecture: 'amd64',
      os: 'linux',
      config: {Env: ['PATH=/bin'], Cmd: ['/bin/sh']},
      rootfs: {type: 'layers', diff_ids: tars.map(sha256)},
      history: tars.map((_, i) => ({created: '2000-01-01T00:00:00Z', created_by: `layer ${i}`})),
    }),
  )
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaTypes.ociManifest,
      config: {mediaType: MediaTypes.ociConfig, size: config.length, digest: sha256(config)},
      layers: gz.map((b) => ({mediaType: MediaTypes.ociLayerGzip, size: b.length, digest: sha256(b)})),
    }),
  )
  const ref = parseReference(`${reg.host}/${repoTag}`)
  const s = new Session({})
  try {
    const repo = s.repository(ref)
    for (const b of [config, ...gz]) await repo.uploadBlob(sha256(b), b.length, b)
    await repo.putManifest(ref.tag!, manifest, MediaTypes.ociManifest)
    return {digest: sha256(manifest), config}
  } finally {
    s.close()
  }
}

const bottom: Item[] = [
  {name: 'etc/', type: 'directory'},
  {name: 'etc/hostname', body: 'base\n'},
  {name: 'etc/passwd', body: 'root:x:0:0::/root:/bin/sh\n', mode: 0o600},
  {name: 'bin/', type: 'directory'},
  {name: 'bin/busybox', body: '#!busybox\n', mode: 0o755},
  {name: 'bin/sh', type: 'link', linkname: 'bin/busybox', mode: 0o755},
  {name: 'opt/', type: 'directory'},
  {name: 'opt/old.txt', body: 'old\n'},
  {name: 'opt/sub/', type: 'directory'},
  {name: 'opt/sub/deep.txt', body: 'deep\n'},
  {name: 'tmp/', type: 'directory', mode: 0o1777},
  {name: 'lib', type: 'symlink', linkname: '/usr/lib', mode: 0o777},
]
const top: Item[] = [
  {name: 'etc/.wh.passwd'},
  {name: 'etc/hostname', body: 'top\n', mode: 0o640},
  {name: 'opt/', type: 'directory', mode: 0o750},
  {name: 'opt/.wh..wh..opq'},
  {name: 'opt/new.txt', body: 'new\n'},
  {name: 'bin/ls', type: 'symlink', linkname: 'busybox', mode: 0o777},
  {name: 'usr/', type: 'directory'},
  {name: 'usr/lib/', type: 'directory'},
  {name: 'usr/lib/x.so', body: 'elf\n', mode: 0o755},
]

/** tree describes an unpacked rootfs: per path its type, mode, link target or content hash, and hard-link group. */
async function tree(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  const inodes = new Map<number, string>()
  const walk = async (dir: string) => {
    for (const name of (await fsp.readdir(dir)).sort()) {
      const p = path.join(dir, name)
      const rel = path.relative(root, p)
      const st = await fsp.lstat(p)
      const mode = (st.mode & 0o7777).toString(8)
      if (st.isDirectory()) {
        out[rel] = `dir ${mode}`
        await walk(p)
      } else if (st.isSymbolicLink()) {
        out[rel] = `symlink -> ${await fsp.readlink(p)}`
      } else {
        const first = st.nlink > 1 ? inodes.get(st.ino) : undefined
        if (st.nlink > 1 && !first) inodes.set(st.ino, rel)
        out[rel] = `file ${mode} ${createHash('sha256').update(await fsp.readFile(p)).digest('hex').slice(0, 16)}${st.nlink > 1 ? ` links=${st.nlink} group=${first ?? rel}` : ''}`
      }
    }
  }
  await walk(root)
  return out
}

describe('flatten', () => {
  let reg: RunningRegistry
  let tmp: TmpDir
  let orig: {digest: string; config: Buffer}
  let index: PushedFixture
  before(async () => {
    reg = await startRegistry({flavour: 'plain'})
    tmp = await tmpDir('flatten-test')
    orig = await pushImage(reg, 'fl/app:v1', [bottom, top])
    index = await pushFixture(reg, 'fl/index:v1', 'index', 'fl-index')
  })
  after(async () => {
    await reg?.stop()
    await tmp?.remove()
  })

  /** unpack copies a registry image into an OCI layout with skopeo and unpacks it with umoci; returns the tree. */
  async function unpack(ref: string, name: string): Promise<Record<string, string>> {
    const layout = path.join(tmp.path, `layout-${name}`)
    const c = await skopeo(['copy', '--src-tls-verify=false', `docker://${reg.host}/${ref}`, `oci:${layout}:${name}`])
    assert.equal(c.code, 0, c.stderr)
    const bundle = path.join(tmp.path, `bundle-${name}`)
    const u = await run('umoci', ['unpack', '--rootless', '--image', `${layout}:${name}`, bundle])
    assert.equal(u.code, 0, u.stderr)
    return tree(path.join(bundle, 'rootfs'))
  }

  it('one layer with the applied filesystem: umoci unpacks the same tree; config and history collapsed', async () => {
    const r = await runCli(['flatten', `${reg.host}/fl/app:v1`, '-t', `${reg.host}/fl/app:flat`], {env: {SOURCE_DATE_EPOCH: '978307200'}})
    assert.equal(r.code, 0, r.stderr)
    const rawManifest = await skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/fl/app:flat`])
    assert.equal(r.stdout, `${reg.host}/fl/app@${sha256(rawManifest.stdoutBytes)}\n`)
    const manifest = JSON.parse(rawManifest.stdout)
    assert.equal(manifest.layers.length, 1)
    assert.equal(manifest.layers[0].mediaType, MediaTypes.ociLayerGzip)
    const config = JSON.parse((await skopeo(['inspect', '--config', '--raw', '--tls-verify=false', `docker://${reg.host}/fl/app:flat`])).stdout)
    assert.equal(config.rootfs.diff_ids.length, 1)
    assert.deepEqual(config.history, [{created: '2001-01-01T00:00:00.000Z', created_by: 'ocitool flatten', comment: `2 layer(s) of ${orig.digest} flattened`}])
    const before = JSON.parse(orig.config.toString())
    assert.deepEqual([config.os, config.architecture, config.config, config.created], [before.os, before.architecture, before.config, before.created])

    const want = await unpack('fl/app:v1', 'orig')
    const got = await unpack('fl/app:flat', 'flat')
    assert.deepEqual(got, want)
    // the case is what it claims to be: deletion, replacement, opaque directory, hard link
    assert.equal(want['etc/passwd'], undefined)
    assert.equal(want['opt/old.txt'], undefined)
    assert.equal(want['opt/sub'], undefined)
    assert.equal(want['opt'], 'dir 750')
    assert.match(want['etc/hostname'], /^file 640 /)
    assert.match(want['bin/sh'], /links=2 group=bin\/busybox$/)

    const again = await runCli(['flatten', `${reg.host}/fl/app:v1`, '-t', `${reg.host}/fl/app:flat2`], {env: {SOURCE_DATE_EPOCH: '978307200'}})
    assert.equal(again.stdout.split('@')[1], r.stdout.split('@')[1], 'the same image flattens to the same digest')
  })

  it('an index: every platform, or only the --platform ones (the others keep their digests)', async () => {
    const r = await runCli(['flatten', `${reg.host}/fl/index:v1`, '--platform', 'linux/arm64', '-t', `${reg.host}/fl/index:flat`, '--json'])
    assert.equal(r.code, 0, r.stderr)
    const json = JSON.parse(r.stdout)
    const got = JSON.parse((await skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/fl/index:flat`])).stdout)
    assert.equal(json.images[0].mediaType, MediaTypes.ociIndex)
    const digests = got.manifests.map((m: Json) => m.digest)
    const orig = index.images.map((i) => i.manifestDigest)
    assert.equal(digests[0], orig[0])
    assert.notEqual(digests[1], orig[1])
    assert.equal(digests[2], orig[2])
    const arm = JSON.parse((await skopeo(['inspect', '--config', '--raw', '--tls-verify=false', `docker://${reg.host}/fl/index@${digests[1]}`])).stdout)
    assert.equal(arm.history.length, 1)
    assert.equal(arm.created, '2000-01-01T00:00:00.000Z')
    assert.equal(arm.history[0].created, arm.created, 'without SOURCE_DATE_EPOCH, the image\'s own created time')
  })

  it('local form: --tarball FILE --filesystem OUT.tar --metadata OUT.json', async () => {
    const archive = path.join(tmp.path, 'app.tar')
    const c = await skopeo(['copy', '--src-tls-verify=false', `docker://${reg.host}/fl/app:v1`, `docker-archive:${archive}:fl/app:v1`])
    assert.equal(c.code, 0, c.stderr)
    const out = path.join(tmp.path, 'local')
    await fsp.mkdir(out)
    const r = await runCli(['flatten', '--tarball', archive, '--filesystem', path.join(out, 'fs.tar'), '--metadata', path.join(out, 'config.json')])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, '')
    assert.deepEqual((await fsp.readdir(out)).sort(), ['config.json', 'fs.tar'])
    assert.deepEqual(await fsp.readFile(path.join(out, 'config.json')), orig.config)
    // the filesystem is the flattened layer of the pushed image, byte for byte
    const flatConfig = JSON.parse((await skopeo(['inspect', '--config', '--raw', '--tls-verify=false', `docker://${reg.host}/fl/app:flat`])).stdout)
    assert.equal(sha256(await fsp.readFile(path.join(out, 'fs.tar'))), flatConfig.rootfs.diff_ids[0])

    const bad = await runCli(['flatten', '--tarball', archive, '--filesystem', path.join(out, 'nodir', 'fs.tar'), '--metadata', path.join(out, 'c2.json')])
    assert.equal(bad.code, 1, bad.stderr)
    assert.match(bad.stderr, /^Error: writing .*nodir\/fs\.tar: no such directory\n$/)
    assert.deepEqual((await fsp.readdir(out)).sort(), ['config.json', 'fs.tar'], 'nothing left behind')
  })

  it('bad input: one line, the exit code of its class, nothing pushed', async () => {
    const cases: Array<{args: string[]; code: number; msg: RegExp}> = [
      {args: ['flatten', `${reg.host}/fl/missing:v1`, '-t', `${reg.host}/fl/out:a`], code: 3, msg: /fl\/missing/},
      {args: ['flatten', 'oci:./no-such-layout'], code: 2, msg: /a local image needs --tag/},
      {args: ['flatten', '--tarball', 'x.tar'], code: 2, msg: /filesystem/},
      {args: ['flatten', `${reg.host}/fl/index:v1`, '-t', `${reg.host}/fl/out:b`, '--platform', 'linux/s390x'], code: 3, msg: /no image for platform linux\/s390x/},
      {args: ['flatten', `${reg.host}/fl/app:v1`, '-t', `${reg.host}/fl/out:c`, '--compression', 'gzip', '--compression-level', '12'], code: 2, msg: /gzip level must be an integer from 0 to 9/},
    ]
    for (const c of cases) {
      const r = await runCli(c.args)
      assert.equal(r.code, c.code, `${c.args.join(' ')}: ${r.stderr}`)
      assert.equal(r.stdout, '')
      assert.match(r.stderr, /^Error: [^\n]+\n$/)
      assert.match(r.stderr, c.msg)
    }
    for (const t of ['a', 'b', 'c']) assert.notEqual((await skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/fl/out:${t}`])).code, 0)
  })
})
