// registry info: the capability probe against the real distribution registry (2.8): catalog yes,
// referrers API no, chunked upload resumable, mount yes, tag delete no (by digest only), no
// rate-limit headers; read-only without --write (nothing written on the log).
import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'
import {runCli} from '../support/cli.js'
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
    assert.equal(typeof info.tagDelete.supported, 'boolean')
    const text = await runCli(['registry', 'info', reg.host])
    assert.match(text.stdout, /^referrers API +no /m)
    assert.match(text.stdout, /^catalog +yes /m)
  })
})
