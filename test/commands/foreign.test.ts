// Foreign (non-distributable) layers (issue 16 item 4), against the real registry: a Windows-
// style image whose first layer is only at its descriptor's `urls` (a loopback HTTP server).
// copy/pull with --allow-nondistributable-artifacts fetch it from there, verified; a plain pull
// to a tarball never writes an archive without the layer's file; the archive pushes back with
// the manifest digest kept.
import assert from 'node:assert/strict'
import {existsSync} from 'node:fs'
import {readdir} from 'node:fs/promises'
import {type Server, createServer} from 'node:http'
import type {AddressInfo} from 'node:net'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {gzipSync} from 'node:zlib'
import {parseReference} from '../../src/lib/name/reference.js'
import {webUrls} from '../../src/lib/remote/foreign.js'
import {Session} from '../../src/lib/remote/session.js'
import {runCli} from '../support/cli.js'
import {MediaTypes, makeLayerTar, sha256} from '../support/fixtures.js'
import {run} from '../support/exec.js'
import {type RunningRegistry, startRegistry} from '../support/registry.js'
import {type TmpDir, tmpDir} from '../support/tmp.js'

const FOREIGN = 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip'

interface Pushed {
  digest: string
  foreign: string
  local: string
}

describe('foreign layers', () => {
  let reg: RunningRegistry
  let tmp: TmpDir
  let server: Server
  let base: string
  let good: Pushed
  const files = new Map<string, Buffer>()

  /** pushes an image whose first layer is foreign, served (or not) at `path` of the web server */
  async function pushWindowsLike(repoTag: string, seed: string, urls: (digest: string) => string[], serve: (gz: Buffer) => Buffer | undefined): Promise<Pushed> {
    const [fraw, lraw] = await Promise.all([makeLayerTar(`${seed}-foreign`), makeLayerTar(`${seed}-local`)])
    const fgz = gzipSync(fraw)
    const lgz = gzipSync(lraw)
    const fdigest = sha256(fgz)
    const served = serve(fgz)
    if (served) files.set(`/${seed}.tar.gz`, served)
    const config = Buffer.from(JSON.stringify({architecture: 'amd64', os: 'windows', rootfs: {type: 'layers', diff_ids: [sha256(fraw), sha256(lraw)]}, config: {}}))
    const manifest = Buffer.from(JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaTypes.dockerManifest,
      config: {mediaType: MediaTypes.dockerConfig, size: config.length, digest: sha256(config)},
      layers: [
        {mediaType: FOREIGN, size: fgz.length, digest: fdigest, urls: urls(fdigest)},
        {mediaType: MediaTypes.dockerLayerGzip, size: lgz.length, digest: sha256(lgz)},
      ],
    }))
    const ref = parseReference(`${reg.host}/${repoTag}`)
    const s = new Session({})
    try {
      const repo = s.repository(ref)
      for (const b of [config, lgz]) await repo.uploadBlob(sha256(b), b.length, b)
      await repo.putManifest(ref.tag!, manifest, MediaTypes.dockerManifest)
    } finally {
      s.close()
    }
    return {digest: sha256(manifest), foreign: fdigest, local: sha256(lgz)}
  }

  before(async () => {
    // a registry that takes any url in a manifest (distribution: validation.manifests.urls.allow)
    reg = await startRegistry({flavour: 'plain', extraConfig: {validation: {manifests: {urls: {allow: ['.*']}}}}})
    tmp = await tmpDir('foreign')
    server = createServer((req, res) => {
      const body = files.get(req.url ?? '')
      if (!body) return res.writeHead(404).end()
      res.writeHead(200, {'content-length': body.length}).end(body)
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    good = await pushWindowsLike('fl/win:1', 'good', () => [`${base}/missing.tar.gz`, `${base}/good.tar.gz`], (gz) => gz)
  })
  after(async () => {
    await reg?.stop()
    await tmp?.remove()
    server?.close()
  })

  it('copy and pull --allow-nondistributable-artifacts fetch the layer from its urls', async () => {
    const c = await runCli(['copy', `${reg.host}/fl/win:1`, `${reg.host}/fl/copy:1`, '--allow-nondistributable-artifacts'])
    assert.equal(c.code, 0, c.stderr)
    assert.equal(c.stdout, `${reg.host}/fl/copy@${good.digest}\n`)
    const blob = await runCli(['blob', `${reg.host}/fl/copy@${good.foreign}`])
    assert.equal(blob.code, 0, blob.stderr)
    assert.equal(sha256(blob.stdoutBytes), good.foreign, 'the registry now holds the foreign layer')
    const lay = join(tmp.path, 'lay')
    const p = await runCli(['pull', '--format', 'oci', '--allow-nondistributable-artifacts', `${reg.host}/fl/win:1`, lay])
    assert.equal(p.code, 0, p.stderr)
    assert.ok(existsSync(join(lay, 'blobs', 'sha256', good.foreign.slice(7))))
  })

  it('a plain pull to a tarball holds every layer file, and pushes back with the digest kept', async () => {
    const file = join(tmp.path, 'win.tar')
    const p = await runCli(['pull', `${reg.host}/fl/win:1`, file])
    assert.equal(p.code, 0, p.stderr)
    const names = (await run('tar', ['-tf', file])).stdout.split('\n')
    assert.ok(names.includes(`${good.foreign.slice(7)}.tar.gz`), names.join(' '))
    assert.ok(names.includes(`${good.local.slice(7)}.tar.gz`))
    const back = await runCli(['push', file, `${reg.host}/fl/back:1`])
    assert.equal(back.code, 0, back.stderr)
    assert.equal(back.stdout, `${reg.host}/fl/back@${good.digest}\n`)
    const d = await runCli(['digest', `${reg.host}/fl/back:1`])
    assert.equal(d.stdout.trim(), good.digest)
  })

  it('a layer nobody serves, or wrong bytes at its url: an error and no file; only http(s) urls', async () => {
    await pushWindowsLike('fl/gone:1', 'gone', () => [`${base}/gone.tar.gz`], () => undefined)
    await pushWindowsLike('fl/bad:1', 'bad', () => [`${base}/bad.tar.gz`], (gz) => Buffer.concat([gz, Buffer.from('x')]))
    for (const [repo, code, msg] of [
      ['fl/gone:1', 3, /neither in the registry nor at an http\(s\) url|not at its urls/],
      ['fl/bad:1', 6, /./],
    ] as const) {
      const file = join(tmp.path, `${repo.replace(/\W/g, '-')}.tar`)
      const p = await runCli(['pull', `${reg.host}/${repo}`, file])
      assert.equal(p.code, code, `${repo}: ${p.stderr}`)
      assert.match(p.stderr, msg)
      assert.equal(existsSync(file), false, `${repo}: no archive written`)
    }
    // only http(s) urls are ever fetched (distribution itself refuses a manifest with others)
    assert.deepEqual(webUrls({mediaType: FOREIGN, digest: good.foreign, size: 1, urls: ['file:///etc/passwd', 'ftp://x/y', `${base}/a`, 'HTTPS://h/b']}), [`${base}/a`, 'HTTPS://h/b'])
    assert.deepEqual((await readdir(tmp.path)).filter((n) => n.includes('.tmp-')), [])
  })
})
