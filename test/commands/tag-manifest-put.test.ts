// `tag delete`, `manifest put` and `ratelimit` against the real distribution registry (no tag
// delete: the placeholder method), `registry serve` (tag delete) and a proxy that adds Docker
// Hub's rate-limit headers; `tag IMAGE TAG` and `manifest IMAGE` keep working beside them.
import assert from 'node:assert/strict'
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import {after, before, describe, it} from 'node:test'
import {type RunningServer, startServer} from '../../src/lib/serve/index.js'
import {runCli} from '../support/cli.js'
import {type PushedFixture, pushFixture, sha256} from '../support/fixtures.js'
import {startProxy} from '../support/proxy.js'
import {type RunningRegistry, startRegistry} from '../support/registry.js'
import {tmpDir, type TmpDir} from '../support/tmp.js'

describe('tag delete, manifest put, ratelimit', () => {
  let reg: RunningRegistry
  let serve: RunningServer
  let work: TmpDir
  let img: PushedFixture

  before(async () => {
    ;[reg, serve, work] = await Promise.all([startRegistry({flavour: 'plain'}), startServer({address: '127.0.0.1:0'}), tmpDir('tagdel')])
    img = await pushFixture(reg, 'app/img:v1', 'docker', 'tagdel')
  })
  after(async () => {
    await reg?.stop()
    await serve?.close()
    await work?.remove()
  })

  it('tag delete on distribution: the tag goes, the image stays by digest, the old tag command still works', async () => {
    const t = await runCli(['tag', `${reg.host}/app/img:v1`, 'old'])
    assert.equal(t.code, 0, t.stderr)
    assert.equal(t.stdout, `${reg.host}/app/img@${img.manifestDigest}\n`)
    const d = await runCli(['tag', 'delete', `${reg.host}/app/img:old`, '--json'])
    assert.equal(d.code, 0, d.stderr)
    assert.deepEqual(JSON.parse(d.stdout), {tag: `${reg.host}/app/img:old`, digest: img.manifestDigest, method: 'dummy'})
    const ls = await runCli(['ls', `${reg.host}/app/img`])
    assert.equal(ls.stdout, 'v1\n')
    const byDigest = await runCli(['manifest', `${reg.host}/app/img@${img.manifestDigest}`])
    assert.ok(byDigest.stdoutBytes.equals(img.manifestBytes))
    // the only manifest deleted was the placeholder, never the image
    const deletes = reg.requests().filter((r) => r.method === 'DELETE')
    assert.ok(deletes.some((r) => r.status === 202))
    assert.ok(!deletes.some((r) => r.path.endsWith(img.manifestDigest)), JSON.stringify(deletes))
    // deleting the last tag leaves the image
    const last = await runCli(['tag', 'delete', `${reg.host}/app/img:v1`])
    assert.equal(last.code, 0, last.stderr)
    assert.equal(last.stdout, `${reg.host}/app/img@${img.manifestDigest}\n`)
    assert.equal((await runCli(['digest', `${reg.host}/app/img@${img.manifestDigest}`])).code, 0)
    const back = await runCli(['tag', `${reg.host}/app/img@${img.manifestDigest}`, 'v1'])
    assert.equal(back.code, 0, back.stderr)
  })

  it("tag delete on a registry with its own tag delete uses it", async () => {
    const cp = await runCli(['copy', `${reg.host}/app/img:v1`, `${serve.host}/app/img:v1`])
    assert.equal(cp.code, 0, cp.stderr)
    assert.equal((await runCli(['tag', `${serve.host}/app/img:v1`, 'gone'])).code, 0)
    const d = await runCli(['tag', 'delete', `${serve.host}/app/img:gone`, '--json'])
    assert.equal(d.code, 0, d.stderr)
    assert.equal(JSON.parse(d.stdout).method, 'registry')
    assert.equal((await runCli(['ls', `${serve.host}/app/img`])).stdout, 'v1\n')
  })

  it('tag delete: bad input', async () => {
    const cases: Array<[string[], number, RegExp]> = [
      [['tag', 'delete', `${reg.host}/app/img:nope`], 3, /tag .*:nope: not found/],
      [['tag', 'delete', `${reg.host}/app/img@${img.manifestDigest}`], 2, /name a tag/],
      [['tag', 'delete', `${reg.host}/app/img`], 2, /name a tag/],
    ]
    for (const [args, code, msg] of cases) {
      const r = await runCli(args)
      assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`)
      assert.match(r.stderr, msg)
    }
  })

  it('manifest put: from a file and from stdin, bytes unchanged, digest printed', async () => {
    const file = path.join(work.path, 'm.json')
    // a different byte layout of the same document: a new digest, kept exactly
    const pretty = Buffer.from(JSON.stringify(JSON.parse(img.manifestBytes.toString()), null, 2))
    await fs.writeFile(file, pretty)
    const r = await runCli(['manifest', 'put', `${reg.host}/app/img:pretty`, file])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, `${sha256(pretty)}\n`)
    const got = await runCli(['manifest', `${reg.host}/app/img:pretty`])
    assert.ok(got.stdoutBytes.equals(pretty))
    const s = await runCli(['manifest', 'put', `${reg.host}/app/img@${img.manifestDigest}`, '-'], {input: img.manifestBytes})
    assert.equal(s.code, 0, s.stderr)
    assert.equal(s.stdout, `${img.manifestDigest}\n`)
    const plain = await runCli(['manifest', 'put', `${reg.host}/app/img:stdin`], {input: img.manifestBytes})
    assert.equal(plain.stdout, `${img.manifestDigest}\n`)
    // an OCI manifest without mediaType: its shape says it, or --media-type
    const doc = JSON.parse(img.manifestBytes.toString()) as Record<string, unknown>
    delete doc.mediaType
    const bare = Buffer.from(JSON.stringify({...doc, config: {...(doc.config as object), mediaType: 'application/vnd.oci.image.config.v1+json'}}))
    const o = await runCli(['manifest', 'put', `${reg.host}/app/img:bare`, '-', '--json'], {input: bare})
    assert.equal(o.code, 0, o.stderr)
    assert.equal(JSON.parse(o.stdout).mediaType, 'application/vnd.oci.image.manifest.v1+json')
    assert.ok((await runCli(['manifest', `${reg.host}/app/img:bare`])).stdoutBytes.equals(bare))
  })

  it('manifest put: bad input', async () => {
    const missingBlob = Buffer.from(JSON.stringify({schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: {mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${'0'.repeat(64)}`, size: 2}, layers: []}))
    const cases: Array<[string[], string | Buffer | undefined, number, RegExp]> = [
      [['manifest', 'put', `${reg.host}/app/img:x`, '-'], 'not json', 2, /not a JSON object/],
      [['manifest', 'put', `${reg.host}/app/img:x`, '-'], '{"a":1}', 2, /media type/],
      [['manifest', 'put', `${reg.host}/app/img:x`, path.join(work.path, 'none.json')], undefined, 3, /no such file/],
      [['manifest', 'put', `${reg.host}/app/img@sha256:${'1'.repeat(64)}`, '-'], img.manifestBytes, 6, /hash to/],
      [['manifest', 'put', `${reg.host}/app/img:x`, '-'], missingBlob, 5, /Error: /],
    ]
    for (const [args, input, code, msg] of cases) {
      const r = await runCli(args, {input})
      assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`)
      assert.match(r.stderr, msg)
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
    }
  })

  it('ratelimit: the headers a HEAD answers with, or that there are none', async () => {
    const none = await runCli(['ratelimit', `${reg.host}/app/img:v1`])
    assert.equal(none.code, 0, none.stderr)
    assert.match(none.stdout, /sends no rate-limit headers/)
    assert.deepEqual(JSON.parse((await runCli(['ratelimit', `${reg.host}/app/img:v1`, '--json'])).stdout), {limit: null, remaining: null, source: null})
    const proxy = await startProxy({upstream: reg.url})
    try {
      proxy.addFault({
        match: {method: 'HEAD', path: /\/manifests\//},
        action: {kind: 'status', status: 200, headers: {'ratelimit-limit': '100;w=21600', 'ratelimit-remaining': '76;w=21600', 'docker-ratelimit-source': '192.0.2.1', 'docker-content-digest': img.manifestDigest, 'content-type': img.mediaType}, body: ''},
      })
      const r = await runCli(['ratelimit', `${proxy.host}/app/img:v1`])
      assert.equal(r.code, 0, r.stderr)
      assert.equal(r.stdout, 'limit: 100 per 21600s\nremaining: 76 per 21600s\nsource: 192.0.2.1\n')
      const j = await runCli(['ratelimit', `${proxy.host}/app/img:v1`, '--json'])
      assert.deepEqual(JSON.parse(j.stdout), {limit: {count: 100, windowSeconds: 21600}, remaining: {count: 76, windowSeconds: 21600}, source: '192.0.2.1'})
      assert.ok(proxy.requests().every((q) => q.method !== 'GET' || !q.path.includes('/manifests/')), 'a HEAD only, no counted pull')
    } finally {
      await proxy.stop()
    }
    const missing = await runCli(['ratelimit', `${reg.host}/app/nope:v1`])
    assert.equal(missing.code, 3, missing.stderr)
  })

  it('ratelimit: bad input', async () => {
    for (const args of [['ratelimit', 'Bad Ref!'], ['ratelimit'], ['ratelimit', `${reg.host}/app/img:v1`, 'extra'], ['ratelimit', `${reg.host}/app/img:v1`, '--format', 'x']]) {
      const r = await runCli(args)
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`)
      assert.equal(r.stdout, '')
    }
    const down = await runCli(['ratelimit', '127.0.0.1:1/app/img:v1'])
    assert.equal(down.code, 5, down.stderr)
    assert.equal(down.stderr.trim().split('\n').length, 1, down.stderr)
  })
})
