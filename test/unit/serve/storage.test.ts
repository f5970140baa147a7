// The embedded registry's storage across restarts, and its lifecycle: temporary storage is
// removed on close, a --disk directory keeps blobs, manifests, tags and referrers.

import assert from 'node:assert/strict'
import * as fs from 'node:fs'
import * as path from 'node:path'
import {after, describe, it} from 'node:test'
import {isOcitoolError} from '../../../src/lib/errors.js'
import {startServer} from '../../../src/lib/serve/index.js'
import {tmpDir, type TmpDir} from '../../support/tmp.js'
import {pushBlob, pushManifest, request, sha256, withServer} from './client.js'

const dirs: TmpDir[] = []
after(async () => {
  for (const d of dirs) await d.remove()
})

describe('registry serve: storage', () => {
  it('without --disk, uses a temporary directory and removes it on close', async () => {
    const s = await startServer({address: '127.0.0.1:0'})
    assert.ok(fs.existsSync(s.dir))
    await pushBlob(s.url, 'tmp/repo', 'x')
    await s.close()
    assert.equal(fs.existsSync(s.dir), false)
    await s.close() // twice is fine
  })

  it('with --disk, a restart keeps blobs, manifests, tags and referrers; unfinished uploads are dropped', async () => {
    const d = await tmpDir('serve-disk')
    dirs.push(d)
    const subject = {mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: '', size: 0}
    let upload = ''
    const manifestDigest = await withServer(async (s) => {
      assert.equal(s.dir, d.path)
      const config = await pushBlob(s.url, 'keep/app', '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}')
      const manifest = {schemaVersion: 2, mediaType: subject.mediaType, config: {mediaType: 'application/vnd.oci.image.config.v1+json', digest: config, size: 79}, layers: []}
      const r = await pushManifest(s.url, 'keep/app', 'v1', manifest, subject.mediaType)
      assert.equal(r.status, 201)
      const digest = r.headers['docker-content-digest'] as string
      const referrer = {...manifest, artifactType: 'application/x-note', subject: {...subject, digest, size: JSON.stringify(manifest).length}}
      assert.equal((await pushManifest(s.url, 'keep/app', 'note', referrer, subject.mediaType)).status, 201)
      const open = await request(s.url, '/v2/keep/app/blobs/uploads/', {method: 'POST'})
      upload = open.headers.location as string
      await request(s.url, upload, {method: 'PATCH', body: 'partial'})
      return digest
    }, d.path)
    assert.deepEqual(fs.readdirSync(path.join(d.path, 'uploads')), [], 'close removes unfinished uploads')
    await withServer(async (s) => {
      const m = await request(s.url, '/v2/keep/app/manifests/v1')
      assert.equal(m.status, 200)
      assert.equal(sha256(m.body), manifestDigest)
      assert.equal(m.headers['content-type'], subject.mediaType)
      assert.deepEqual((await request(s.url, '/v2/keep/app/tags/list')).json().tags, ['note', 'v1'])
      assert.deepEqual((await request(s.url, '/v2/_catalog')).json().repositories, ['keep/app'])
      assert.equal((await request(s.url, `/v2/keep/app/referrers/${manifestDigest}`)).json().manifests.length, 1)
      assert.equal((await request(s.url, upload)).status, 404, 'uploads do not survive a restart')
    }, d.path)
    assert.ok(fs.existsSync(path.join(d.path, 'blobs', 'sha256', manifestDigest.slice(7))))
  })

  it('a port in use is an error naming the address', async () => {
    await withServer(async (s) => {
      await assert.rejects(startServer({address: s.host}), (e) => isOcitoolError(e) && e.code === 'LISTEN' && e.message.includes(s.host))
    })
  })

  it('a bad address is a usage error', async () => {
    await assert.rejects(startServer({address: 'nope'}), (e) => isOcitoolError(e) && e.exitCode === 2)
  })
})
