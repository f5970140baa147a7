// A registry that sheds load (issue 12, item 7): through proxies answering 503 to every third
// request, twenty copies of a 40-layer image all succeed with exact digests; the client slows down
// by itself instead of failing. 429 with Retry-After is waited out; Docker Hub's
// `ratelimit-remaining: 0;w=21600` ends at once with a clear message instead of hammering.
import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'

import {parseReference} from '../../src/lib/name/reference.js'
import {Session} from '../../src/lib/remote/session.js'
import {runCli} from '../support/cli.js'
import {MediaTypes, seededBytes, sha256} from '../support/fixtures.js'
import {type FaultProxy, startProxy} from '../support/proxy.js'
import {type RunningRegistry, startRegistry} from '../support/registry.js'

const LAYERS = 40
const COPIES = 20

/** pushLayered pushes an OCI image of `layers` small layers (1-2 KiB each) with the core client; its manifest digest. */
async function pushLayered(reg: RunningRegistry, repoTag: string, layers: number): Promise<string> {
  const blobs = Array.from({length: layers}, (_, i) => seededBytes(`throttle-${i}`, 1024 + i * 17))
  const config = Buffer.from(JSON.stringify({architecture: 'amd64', os: 'linux', rootfs: {type: 'layers', diff_ids: blobs.map((b) => sha256(b))}}))
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaTypes.ociManifest,
      config: {mediaType: MediaTypes.ociConfig, size: config.length, digest: sha256(config)},
      layers: blobs.map((b) => ({mediaType: MediaTypes.ociLayerGzip, size: b.length, digest: sha256(b)})),
    }),
  )
  const ref = parseReference(`${reg.host}/${repoTag}`)
  const s = new Session({})
  try {
    const repo = s.repository(ref)
    await Promise.all([config, ...blobs].map((b) => repo.uploadBlob(sha256(b), b.length, b)))
    return await repo.putManifest(ref.tag!, manifest, MediaTypes.ociManifest)
  } finally {
    s.close()
  }
}

async function remoteDigest(reg: RunningRegistry, repo: string, tag: string): Promise<string> {
  const r = await fetch(`${reg.url}/v2/${repo}/manifests/${tag}`, {method: 'HEAD', headers: {accept: MediaTypes.ociManifest}})
  return r.status === 200 ? (r.headers.get('docker-content-digest') ?? '?') : `HTTP ${r.status}`
}

describe('faults: a registry that sheds load', () => {
  let a: RunningRegistry
  let b: RunningRegistry
  let proxyA: FaultProxy
  let proxyB: FaultProxy
  let digest: string

  before(async () => {
    ;[a, b] = await Promise.all([startRegistry({flavour: 'plain'}), startRegistry({flavour: 'plain'})])
    digest = await pushLayered(a, 'src/layered:v1', LAYERS)
    ;[proxyA, proxyB] = await Promise.all([startProxy({upstream: a.url}), startProxy({upstream: b.url})])
  })
  after(async () => {
    await proxyA?.stop()
    await proxyB?.stop()
    await a?.stop()
    await b?.stop()
  })

  it(`${COPIES} copies of a ${LAYERS}-layer image through proxies answering 503 to every third request all succeed`, async () => {
    for (const p of [proxyA, proxyB]) {
      p.clearFaults()
      p.clearRequests()
      p.addFault({match: {path: '/v2/', every: 3}, action: {kind: 'status', status: 503}})
    }
    const failures: string[] = []
    for (let i = 0; i < COPIES; i++) {
      const r = await runCli(['copy', `${proxyA.host}/src/layered:v1`, `${proxyB.host}/dst/layered${i}:v1`], {env: {OCITOOL_RETRY_BASE_MS: '10'}, timeoutMs: 30_000})
      if (r.code !== 0) failures.push(`copy ${i}: exit ${r.code}: ${r.stderr.trim()}`)
      else assert.equal(await remoteDigest(b, `dst/layered${i}`, 'v1'), digest, `copy ${i}`)
    }
    for (const p of [proxyA, proxyB]) p.clearFaults()
    assert.deepEqual(failures, [])
    const shed = proxyB.requests().filter((q) => q.fault === 'status').length
    assert.ok(shed > COPIES * LAYERS / 3, `the proxy answered 503 often enough to matter (${shed})`)
  })

  it('429 with Retry-After is waited out, then the copy succeeds', async () => {
    proxyB.clearFaults()
    proxyB.clearRequests()
    proxyB.addFault({match: {method: 'PUT', path: '/manifests/', times: 1}, action: {kind: 'status', status: 429, headers: {'Retry-After': '1'}}})
    const started = Date.now()
    const r = await runCli(['copy', `${proxyA.host}/src/layered:v1`, `${proxyB.host}/dst/after:v1`], {env: {OCITOOL_RETRY_BASE_MS: '10'}})
    proxyB.clearFaults()
    assert.equal(r.code, 0, r.stderr)
    assert.equal(await remoteDigest(b, 'dst/after', 'v1'), digest)
    const puts = proxyB.requests().filter((q) => q.method === 'PUT' && q.path.includes('/manifests/'))
    assert.equal(puts.length, 2)
    assert.ok(puts[1].time - puts[0].time >= 950, `waited ${puts[1].time - puts[0].time} ms`)
    assert.ok(Date.now() - started < 20_000)
  })

  it("Docker Hub's exhausted rate limit (ratelimit-remaining: 0;w=21600) ends at once in one clear line, exit 5", async () => {
    proxyA.clearFaults()
    proxyA.clearRequests()
    proxyA.addFault({
      match: {method: 'GET', path: '/manifests/'},
      action: {kind: 'status', status: 429, headers: {'ratelimit-limit': '100;w=21600', 'ratelimit-remaining': '0;w=21600'}},
    })
    const started = Date.now()
    const r = await runCli(['manifest', `${proxyA.host}/src/layered:v1`], {env: {OCITOOL_RETRY_BASE_MS: '200'}})
    proxyA.clearFaults()
    assert.equal(r.code, 5, r.stderr)
    const lines = r.stderr.split('\n').filter((l) => l !== '')
    assert.equal(lines.length, 1, r.stderr)
    assert.match(lines[0], /rate limit/i)
    assert.match(lines[0], /100 requests per 6 h/)
    assert.doesNotMatch(r.stderr, /\n\s+at /)
    assert.equal(proxyA.requests().filter((q) => q.path.includes('/manifests/')).length, 1, 'no hammering')
    assert.ok(Date.now() - started < 10_000)
  })
})
