// registry info: the capability probe against the real distribution registry (2.8): catalog yes,
// referrers API no, chunked upload resumable, mount yes, tag delete no (by digest only), no
// rate-limit headers; read-only without --write (nothing written on the log). Behind a proxy that
// answers as other registries do, each answer flips: catalog no, OCI-Chunk-Min-Length, mount no,
// tag delete yes, rate-limit headers.
import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'
import {runCli} from '../support/cli.js'
import {startProxy} from '../support/proxy.js'
import {type RunningRegistry, startRegistry} from '../support/registry.js'

describe('registry info', () => {
  let reg: RunningRegistry
  before(async () => {
    reg = await startRegistry({flavour: 'plain'})
  })
  after(async () => {
    await reg?.stop()
  })

  it('probes read-only by default', async () => {
    const r = await runCli(['registry', 'info', reg.host, '--json'])
    assert.equal(r.code, 0, r.stderr)
    const info = JSON.parse(r.stdout)
    assert.equal(info.apiVersion, 'registry/2.0')
    assert.equal(info.catalog.supported, true)
    assert.equal(info.referrers.supported, false)
    assert.equal(info.chunkedUpload.supported, undefined)
    assert.equal(info.rateLimit.supported, false)
    assert.ok(reg.requests().every((q) => q.method === 'GET' || q.method === 'HEAD'), 'nothing written')
  })

  it('--write tries uploads, mounts and tag deletes', async () => {
    const r = await runCli(['registry', 'info', reg.host, '--write', '--json'])
    assert.equal(r.code, 0, r.stderr)
    const info = JSON.parse(r.stdout)
    assert.equal(info.chunkedUpload.supported, true)
    assert.match(info.chunkedUpload.detail, /Range 0-3 \(resumable\)/)
    assert.equal(info.mount.supported, true)
    // distribution deletes manifests by digest only: DELETE by tag is refused
    assert.equal(info.tagDelete.supported, false, info.tagDelete.detail)
    assert.match(info.tagDelete.detail, /^DELETE …\/manifests\/<tag>: 4\d\d \(only by digest, or not at all\)$/)
    assert.equal(info.chunkMinLength, undefined)
    assert.equal(info.rateLimit.supported, false)
    const text = await runCli(['registry', 'info', reg.host])
    assert.match(text.stdout, /^referrers API +no /m)
    assert.match(text.stdout, /^catalog +yes /m)
  })

  it('reads each answer off the registry: no catalog, OCI-Chunk-Min-Length, no mount, tag delete, rate-limit headers', async () => {
    // the same registry behind a proxy that answers as other registries do: the catalog refused
    // (404), a minimum chunk length and rate-limit headers on its answers, ?mount= ignored (an
    // upload session instead), DELETE by tag accepted
    const proxy = await startProxy({upstream: reg.url})
    try {
      const rate = {'ratelimit-limit': '100;w=21600', 'ratelimit-remaining': '76;w=21600'}
      proxy.addFault({match: {method: 'GET', path: /^\/v2\/_catalog/}, action: {kind: 'status', status: 404, headers: {'content-type': 'application/json'}, body: '{"errors":[{"code":"NOT_FOUND"}]}'}})
      proxy.addFault({match: {method: 'GET', path: /^\/v2\/$/}, action: {kind: 'replace', body: '{}', headers: rate}})
      proxy.addFault({match: {method: 'POST', path: /\/blobs\/uploads\/\?mount=/}, action: {kind: 'rewritePath', to: (p) => p.replace(/\?.*$/, '')}})
      proxy.addFault({match: {method: 'POST', path: /\/blobs\/uploads\/$/}, action: {kind: 'replace', body: '', headers: {'oci-chunk-min-length': '5242880'}}})
      proxy.addFault({match: {method: 'DELETE', path: '/manifests/ocitool-probe-tag'}, action: {kind: 'status', status: 202}})
      const r = await runCli(['registry', 'info', proxy.host, '--write', '--json'])
      assert.equal(r.code, 0, r.stderr)
      const info = JSON.parse(r.stdout)
      assert.equal(info.catalog.supported, false)
      assert.equal(info.catalog.detail, 'GET /v2/_catalog: 404')
      assert.equal(info.chunkMinLength, 5242880)
      assert.equal(info.chunkedUpload.supported, true)
      assert.equal(info.mount.supported, false)
      assert.match(info.mount.detail, /: 202 \(an upload session instead\)$/)
      assert.equal(info.tagDelete.supported, true, info.tagDelete.detail)
      assert.match(info.tagDelete.detail, /^DELETE …\/manifests\/<tag>: 202/)
      assert.equal(info.rateLimit.supported, true)
      assert.match(info.rateLimit.detail, /ratelimit-remaining: 76;w=21600/)
      const text = await runCli(['registry', 'info', proxy.host, '--write'])
      assert.equal(text.code, 0, text.stderr)
      assert.match(text.stdout, /^catalog +no /m)
      assert.match(text.stdout, /^tag delete +yes /m)
      assert.match(text.stdout, /^rate limits +yes .*ratelimit-limit: 100;w=21600/m)
      assert.match(text.stdout, /5242880/)
    } finally {
      await proxy.stop()
    }
  })
})
