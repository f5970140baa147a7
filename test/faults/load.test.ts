// Concurrency under load: `copy -a -j 8` of a repository with 50 tags, through proxies that fail
// 5% of requests on both sides (503s and dropped connections, fixed seeds), completes with every
// tag on the destination pointing at the same digest as on the source.
import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'

import {runCli} from '../support/cli.js'
import {MediaTypes, type PushedFixture, pushFixture} from '../support/fixtures.js'
import {type FaultProxy, startProxy} from '../support/proxy.js'
import {type RunningRegistry, startRegistry} from '../support/registry.js'

const TAGS = 50

async function putManifest(reg: RunningRegistry, repo: string, tag: string, fx: PushedFixture): Promise<void> {
  const r = await fetch(`${reg.url}/v2/${repo}/manifests/${tag}`, {method: 'PUT', headers: {'content-type': fx.mediaType}, body: fx.manifestBytes})
  assert.equal(r.status, 201, `PUT ${repo}:${tag}`)
}

async function tagDigests(reg: RunningRegistry, repo: string, tags: string[]): Promise<Map<string, string>> {
  const accept = [MediaTypes.ociManifest, MediaTypes.ociIndex, MediaTypes.dockerManifest].join(', ')
  const out = new Map<string, string>()
  for (const t of tags) {
    const r = await fetch(`${reg.url}/v2/${repo}/manifests/${t}`, {method: 'HEAD', headers: {accept}})
    out.set(t, r.status === 200 ? r.headers.get('docker-content-digest') ?? '?' : `HTTP ${r.status}`)
  }
  return out
}

describe('faults: copy -a under load', () => {
  let a: RunningRegistry
  let b: RunningRegistry
  let proxyA: FaultProxy
  let proxyB: FaultProxy
  const fixtures: PushedFixture[] = []
  before(async () => {
    ;[a, b] = await Promise.all([startRegistry({flavour: 'plain'}), startRegistry({flavour: 'plain'})])
    fixtures.push(...await Promise.all([
      pushFixture(a, 'load/app:f0', 'oci', 'load-0'),
      pushFixture(a, 'load/app:f1', 'docker', 'load-1'),
      pushFixture(a, 'load/app:f2', 'index', 'load-2'),
      pushFixture(a, 'load/app:f3', 'oci', 'load-3'),
    ]))
    for (let i = 0; i < TAGS - fixtures.length; i++) await putManifest(a, 'load/app', `t${String(i).padStart(2, '0')}`, fixtures[i % fixtures.length])
    ;[proxyA, proxyB] = await Promise.all([startProxy({upstream: a.url}), startProxy({upstream: b.url})])
  })
  after(async () => {
    await proxyA?.stop()
    await proxyB?.stop()
    await a?.stop()
    await b?.stop()
  })

  it(`${TAGS} tags, -j 8, 5% of requests failing on both sides: every tag arrives with its digest`, async () => {
    for (const [p, seed] of [[proxyA, 7], [proxyB, 11]] as const) {
      p.addFault({match: {path: '/v2/load/'}, action: {kind: 'randomFail', probability: 0.035, seed}})
      p.addFault({match: {path: '/v2/load/'}, action: {kind: 'randomFail', probability: 0.015, seed: seed * 31, how: 'drop'}})
    }
    const started = Date.now()
    const r = await runCli(['copy', '-a', '-j', '8', `${proxyA.host}/load/app`, `${proxyB.host}/load/app`], {env: {OCITOOL_RETRY_BASE_MS: '20'}, timeoutMs: 60_000})
    const took = Date.now() - started
    const failedA = proxyA.requests().filter((q) => q.fault === 'randomFail').length
    const failedB = proxyB.requests().filter((q) => q.fault === 'randomFail').length
    assert.equal(r.code, 0, r.stderr)
    assert.ok(failedA + failedB > 0, 'some requests did fail')
    assert.ok(took < 30_000, `took ${took} ms`)
    const lsA = await runCli(['ls', `${a.host}/load/app`])
    const lsB = await runCli(['ls', `${b.host}/load/app`])
    assert.equal(lsA.code, 0, lsA.stderr)
    const tags = lsA.stdout.trim().split('\n').sort()
    assert.equal(tags.length, TAGS)
    assert.deepEqual(lsB.stdout.trim().split('\n').sort(), tags)
    assert.deepEqual(await tagDigests(b, 'load/app', tags), await tagDigests(a, 'load/app', tags))
    // and every blob behind them is there and whole: a digest-verified pull of each distinct image
    for (const fx of fixtures) {
      const v = await runCli(['validate', `${b.host}/load/app@${fx.manifestDigest}`])
      assert.equal(v.code, 0, `validate ${fx.manifestDigest}: ${v.stdout}${v.stderr}`)
    }
  })
})
