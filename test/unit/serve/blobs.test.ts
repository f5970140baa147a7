// The embedded registry's blob endpoints, spoken to in raw HTTP: chunked and monolithic
// uploads, Content-Range checks, Range reads, mounts, deletes, parallel uploads.

import assert from 'node:assert/strict'
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import {Readable} from 'node:stream'
import {after, before, describe, it} from 'node:test'
import {startServer, type RunningServer} from '../../../src/lib/serve/index.js'
import {errorCode, pushBlob, request, sha256} from './client.js'

let s: RunningServer
before(async () => {
  s = await startServer({address: '127.0.0.1:0'})
})
after(() => s.close())

const bytes = (n: number, seed = 'x') => {
  const out = Buffer.alloc(n)
  for (let i = 0; i < n; i += 32) crypto.createHash('sha256').update(`${seed}${i}`).digest().copy(out, i)
  return out
}

async function open(repo: string): Promise<string> {
  const r = await request(s.url, `/v2/${repo}/blobs/uploads/`, {method: 'POST'})
  assert.equal(r.status, 202)
  assert.equal(r.headers.range, '0-0')
  assert.ok(r.headers['docker-upload-uuid'])
  assert.match(r.headers.location!, new RegExp(`^/v2/${repo}/blobs/uploads/${r.headers['docker-upload-uuid']}$`))
  return r.headers.location!
}

describe('registry serve: base', () => {
  it('GET /v2/ answers 200 with the API version header', async () => {
    const r = await request(s.url, '/v2/')
    assert.equal(r.status, 200)
    assert.equal(r.headers['docker-distribution-api-version'], 'registry/2.0')
  })
  it('an unknown path is 404 UNSUPPORTED in the error envelope', async () => {
    const r = await request(s.url, '/v2/foo/bar/nothing')
    assert.equal(r.status, 404)
    assert.equal(errorCode(r), 'UNSUPPORTED')
  })
  it('a method a route does not take is 405', async () => {
    const r = await request(s.url, '/v2/foo/tags/list', {method: 'POST'})
    assert.equal(r.status, 405)
    assert.equal(errorCode(r), 'UNSUPPORTED')
  })
})

describe('registry serve: chunked uploads', () => {
  const blob = bytes(100_000, 'chunked')
  const digest = sha256(blob)

  it('PATCH chunks with Content-Range, PUT with the digest, then HEAD and GET', async () => {
    const loc = await open('chunky/repo')
    const cuts = [0, 30_000, 65_536, 99_000]
    for (let i = 0; i < cuts.length; i++) {
      const start = cuts[i]
      const end = (cuts[i + 1] ?? blob.length) - 1
      const chunk = blob.subarray(start, end + 1)
      const r = await request(s.url, loc, {method: 'PATCH', body: chunk, headers: {'Content-Range': `${start}-${end}`, 'Content-Length': chunk.length, 'Content-Type': 'application/octet-stream'}})
      assert.equal(r.status, 202, r.body.toString())
      assert.equal(r.headers.range, `0-${end}`)
    }
    const status = await request(s.url, loc)
    assert.equal(status.status, 204)
    assert.equal(status.headers.range, `0-${blob.length - 1}`)
    const put = await request(s.url, `${loc}?digest=${digest}`, {method: 'PUT'})
    assert.equal(put.status, 201, put.body.toString())
    assert.equal(put.headers['docker-content-digest'], digest)
    assert.equal(put.headers.location, `/v2/chunky/repo/blobs/${digest}`)
    const head = await request(s.url, `/v2/chunky/repo/blobs/${digest}`, {method: 'HEAD'})
    assert.equal(head.status, 200)
    assert.equal(head.headers['content-length'], String(blob.length))
    assert.equal(head.headers['docker-content-digest'], digest)
    assert.equal(head.body.length, 0)
    const get = await request(s.url, `/v2/chunky/repo/blobs/${digest}`)
    assert.equal(get.status, 200)
    assert.ok(get.body.equals(blob))
    assert.ok(fs.existsSync(path.join(s.dir, 'blobs', 'sha256', digest.slice(7))), 'content-addressed on disk')
  })

  it('an out-of-order chunk is 416 and leaves the upload as it was', async () => {
    const loc = await open('chunky/order')
    assert.equal((await request(s.url, loc, {method: 'PATCH', body: blob.subarray(0, 10), headers: {'Content-Range': '0-9'}})).status, 202)
    const gap = await request(s.url, loc, {method: 'PATCH', body: blob.subarray(20, 30), headers: {'Content-Range': '20-29'}})
    assert.equal(gap.status, 416)
    assert.equal(gap.headers.range, '0-9')
    assert.equal(errorCode(gap), 'BLOB_UPLOAD_INVALID')
    const again = await request(s.url, loc, {method: 'PATCH', body: blob.subarray(0, 10), headers: {'Content-Range': '0-9'}})
    assert.equal(again.status, 416, 'a repeated chunk is out of order too')
    const mismatch = await request(s.url, loc, {method: 'PATCH', body: blob.subarray(10, 15), headers: {'Content-Range': '10-19'}})
    assert.equal(mismatch.status, 416, 'Content-Range and Content-Length disagree')
    assert.equal((await request(s.url, loc)).headers.range, '0-9')
    // the last chunk can come with the PUT
    const rest = blob.subarray(10)
    const put = await request(s.url, `${loc}?digest=${digest}`, {method: 'PUT', body: rest, headers: {'Content-Range': `10-${blob.length - 1}`}})
    assert.equal(put.status, 201, put.body.toString())
    assert.ok((await request(s.url, `/v2/chunky/order/blobs/${digest}`)).body.equals(blob))
  })

  it('a streamed (chunked-encoding) PATCH without Content-Range appends', async () => {
    const loc = await open('chunky/stream')
    const r = await request(s.url, loc, {method: 'PATCH', body: Readable.from([blob.subarray(0, 50_000), blob.subarray(50_000)])})
    assert.equal(r.status, 202)
    assert.equal(r.headers.range, `0-${blob.length - 1}`)
    assert.equal((await request(s.url, `${loc}?digest=${digest}`, {method: 'PUT'})).status, 201)
  })

  it('a PUT with the wrong digest is DIGEST_INVALID and ends the upload', async () => {
    const loc = await open('chunky/wrong')
    await request(s.url, loc, {method: 'PATCH', body: 'abc'})
    const put = await request(s.url, `${loc}?digest=${sha256('abd')}`, {method: 'PUT'})
    assert.equal(put.status, 400)
    assert.equal(errorCode(put), 'DIGEST_INVALID')
    assert.equal(errorCode(await request(s.url, loc)), 'BLOB_UPLOAD_UNKNOWN')
    assert.equal((await request(s.url, `/v2/chunky/wrong/blobs/${sha256('abd')}`, {method: 'HEAD'})).status, 404)
  })

  it('a PUT without a digest, or with a malformed one, is DIGEST_INVALID', async () => {
    const loc = await open('chunky/nodigest')
    for (const q of ['', '?digest=sha256:123', '?digest=md5:abc']) {
      const r = await request(s.url, `${loc}${q}`, {method: 'PUT'})
      assert.equal(r.status, 400)
      assert.equal(errorCode(r), 'DIGEST_INVALID')
    }
  })

  it('DELETE cancels an upload; unknown uploads are BLOB_UPLOAD_UNKNOWN', async () => {
    const loc = await open('chunky/cancel')
    assert.equal((await request(s.url, loc, {method: 'DELETE'})).status, 204)
    for (const method of ['GET', 'PATCH', 'DELETE']) {
      const r = await request(s.url, loc, {method})
      assert.equal(r.status, 404)
      assert.equal(errorCode(r), 'BLOB_UPLOAD_UNKNOWN')
    }
    const other = await open('chunky/mine')
    const wrongRepo = other.replace('chunky/mine', 'chunky/theirs')
    assert.equal(errorCode(await request(s.url, wrongRepo)), 'BLOB_UPLOAD_UNKNOWN', 'an upload belongs to its repository')
  })

  it('monolithic POST ?digest= stores the body (and an empty blob)', async () => {
    const small = Buffer.from('monolithic')
    const d = sha256(small)
    const r = await request(s.url, `/v2/mono/blobs/uploads/?digest=${d}`, {method: 'POST', body: small})
    assert.equal(r.status, 201)
    assert.equal(r.headers['docker-content-digest'], d)
    assert.equal(r.headers.location, `/v2/mono/blobs/${d}`)
    assert.equal((await request(s.url, `/v2/mono/blobs/${d}`)).body.toString(), 'monolithic')
    const empty = await request(s.url, `/v2/mono/blobs/uploads/?digest=${sha256('')}`, {method: 'POST', body: ''})
    assert.equal(empty.status, 201)
    const get = await request(s.url, `/v2/mono/blobs/${sha256('')}`)
    assert.equal(get.status, 200)
    assert.equal(get.body.length, 0)
    const bad = await request(s.url, `/v2/mono/blobs/uploads/?digest=${sha256('other')}`, {method: 'POST', body: small})
    assert.equal(bad.status, 400)
    assert.equal(errorCode(bad), 'DIGEST_INVALID')
  })

  it('parallel uploads, of the same blob and of different ones, all land intact', async () => {
    const uploadsBefore = fs.readdirSync(path.join(s.dir, 'uploads')).length
    const blobs = Array.from({length: 12}, (_, i) => bytes(40_000 + i, `par${i % 4}`).subarray(0, 40_000 + (i % 4)))
    const digests = await Promise.all(
      blobs.map(async (b, i) => {
        const loc = await open(`parallel/r${i % 3}`)
        const half = 20_000
        assert.equal((await request(s.url, loc, {method: 'PATCH', body: b.subarray(0, half), headers: {'Content-Range': `0-${half - 1}`}})).status, 202)
        const put = await request(s.url, `${loc}?digest=${sha256(b)}`, {method: 'PUT', body: b.subarray(half), headers: {'Content-Range': `${half}-${b.length - 1}`}})
        assert.equal(put.status, 201, put.body.toString())
        return sha256(b)
      }),
    )
    for (let i = 0; i < blobs.length; i++) {
      const r = await request(s.url, `/v2/parallel/r${i % 3}/blobs/${digests[i]}`)
      assert.equal(r.status, 200)
      assert.ok(r.body.equals(blobs[i]))
    }
    assert.equal(fs.readdirSync(path.join(s.dir, 'uploads')).length, uploadsBefore, 'no upload files left behind')
  })
})

describe('registry serve: reading and deleting blobs', () => {
  const blob = Buffer.from('0123456789abcdefghij')
  let digest: string
  before(async () => {
    digest = await pushBlob(s.url, 'reads/one', blob)
  })

  for (const c of [
    {range: 'bytes=0-4', status: 206, body: '01234', contentRange: 'bytes 0-4/20'},
    {range: 'bytes=15-', status: 206, body: 'fghij', contentRange: 'bytes 15-19/20'},
    {range: 'bytes=-3', status: 206, body: 'hij', contentRange: 'bytes 17-19/20'},
    {range: 'bytes=10-100', status: 206, body: 'abcdefghij', contentRange: 'bytes 10-19/20'},
    {range: 'bytes=20-', status: 416, body: '', contentRange: 'bytes */20'},
  ]) {
    it(`Range ${c.range} → ${c.status}`, async () => {
      const r = await request(s.url, `/v2/reads/one/blobs/${digest}`, {headers: {Range: c.range}})
      assert.equal(r.status, c.status)
      assert.equal(r.body.toString(), c.body)
      assert.equal(r.headers['content-range'], c.contentRange)
    })
  }

  it('an unknown blob, or one of another repository, is 404 BLOB_UNKNOWN', async () => {
    for (const p of [`/v2/reads/one/blobs/${sha256('nope')}`, `/v2/reads/other/blobs/${digest}`]) {
      const r = await request(s.url, p)
      assert.equal(r.status, 404)
      assert.equal(errorCode(r), 'BLOB_UNKNOWN')
      assert.equal(r.headers['content-type'], 'application/json')
    }
  })

  it('a malformed digest is 400 DIGEST_INVALID; a bad name is 400 NAME_INVALID', async () => {
    const bad = await request(s.url, '/v2/reads/one/blobs/sha256:xyz')
    assert.equal(bad.status, 400)
    assert.equal(errorCode(bad), 'DIGEST_INVALID')
    for (const name of ['Reads/one', 'reads//one', 'reads/-one']) {
      const r = await request(s.url, `/v2/${name}/blobs/${digest}`)
      assert.equal(r.status, 400, name)
      assert.equal(errorCode(r), 'NAME_INVALID')
    }
  })

  it('mounts a blob from another repository (201), or opens an upload when it cannot (202)', async () => {
    const m = await request(s.url, `/v2/reads/mounted/blobs/uploads/?mount=${digest}&from=reads/one`, {method: 'POST'})
    assert.equal(m.status, 201)
    assert.equal(m.headers['docker-content-digest'], digest)
    assert.equal(m.headers.location, `/v2/reads/mounted/blobs/${digest}`)
    assert.ok((await request(s.url, `/v2/reads/mounted/blobs/${digest}`)).body.equals(blob))
    const miss = await request(s.url, `/v2/reads/mounted2/blobs/uploads/?mount=${digest}&from=reads/nothing`, {method: 'POST'})
    assert.equal(miss.status, 202)
    assert.ok(miss.headers['docker-upload-uuid'])
    const unknown = await request(s.url, `/v2/reads/mounted2/blobs/uploads/?mount=${sha256('unknown')}&from=reads/one`, {method: 'POST'})
    assert.equal(unknown.status, 202)
  })

  it('DELETE removes the blob from the repository only (202), then 404', async () => {
    await request(s.url, `/v2/reads/del/blobs/uploads/?mount=${digest}&from=reads/one`, {method: 'POST'})
    const del = await request(s.url, `/v2/reads/del/blobs/${digest}`, {method: 'DELETE'})
    assert.equal(del.status, 202)
    assert.equal((await request(s.url, `/v2/reads/del/blobs/${digest}`, {method: 'HEAD'})).status, 404)
    assert.equal((await request(s.url, `/v2/reads/one/blobs/${digest}`, {method: 'HEAD'})).status, 200)
    const again = await request(s.url, `/v2/reads/del/blobs/${digest}`, {method: 'DELETE'})
    assert.equal(again.status, 404)
    assert.equal(errorCode(again), 'BLOB_UNKNOWN')
  })
})
