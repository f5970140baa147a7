import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {compileFilter, newestBySemver, newestByTime} from '../../../src/lib/sync/filters.js'
import {inShard, parseShard, shardFromEnv} from '../../../src/lib/sync/shard.js'
import {parseDest, parseSource, destFor} from '../../../src/lib/sync/spec.js'
import {Repository} from '../../../src/lib/name/reference.js'

const tags = ['1.0.0', 'v1.2', '1.10.0', '2.0.0-rc.1', 'latest', 'main', `sha256-${'a'.repeat(64)}.sig`]

describe('sync filters', () => {
  for (const c of [
    {spec: {include: ['v?1\\..*']}, want: ['1.0.0', 'v1.2', '1.10.0']},
    {spec: {exclude: ['.*rc.*', 'latest']}, want: ['1.0.0', 'v1.2', '1.10.0', 'main', `sha256-${'a'.repeat(64)}.sig`]},
    {spec: {semver: '>=1.2'}, want: ['v1.2', '1.10.0']},
    {spec: {semver: '>=1.2', include: ['1.*']}, want: ['1.10.0']},
    {spec: {digestTags: false}, want: ['1.0.0', 'v1.2', '1.10.0', '2.0.0-rc.1', 'latest', 'main']},
  ]) {
    it(JSON.stringify(c.spec), () => assert.deepEqual(tags.filter(compileFilter(c.spec)), c.want))
  }
  it('newest N by semver puts non-versions oldest', () => {
    assert.deepEqual(newestBySemver(tags.slice(0, 6), 2), ['1.10.0', '2.0.0-rc.1'])
    assert.deepEqual(newestBySemver(['main', '1.0.0'], 5), ['main', '1.0.0'])
  })
  it('newest N by created', () => {
    assert.deepEqual(newestByTime([{tag: 'a', created: '2020-01-01T00:00:00Z'}, {tag: 'b'}, {tag: 'c', created: '2021-01-01T00:00:00Z'}], 2), ['a', 'c'])
  })
})

describe('sync shards and endpoints', () => {
  it('every repository is in exactly one shard', () => {
    const names = Array.from({length: 200}, (_, i) => `reg.example.com/team/app-${i}`)
    const counts = [0, 1, 2].map((index) => names.filter((n) => inShard(n, {index, count: 3})).length)
    assert.equal(counts.reduce((a, b) => a + b), 200)
    assert.ok(counts.every((n) => n > 40), `balanced enough: ${counts}`)
  })
  it('parses shards', () => {
    assert.deepEqual(parseShard('1/3'), {index: 1, count: 3})
    assert.throws(() => parseShard('3/3'), /I must be from 0 to N-1/)
    assert.deepEqual(shardFromEnv({JOB_COMPLETION_INDEX: '2', OCITOOL_SHARDS: '4'}), {index: 2, count: 4})
    assert.throws(() => shardFromEnv({JOB_COMPLETION_INDEX: '2'}), /OCITOOL_SHARDS/)
  })
  it('maps repositories under a prefix', () => {
    const src = parseSource('reg.example.com/team/')
    const dst = parseDest('mirror.example.com:5000/m/', src)
    assert.deepEqual(destFor(src, dst, new Repository('reg.example.com', 'team/a/b')), {kind: 'registry', repo: new Repository('mirror.example.com:5000', 'm/a/b')})
    assert.throws(() => parseDest('mirror.example.com/m', src), /needs a prefix destination/)
    assert.throws(() => parseSource('team/'), /starts with a registry host/)
  })
})

describe('sync config', async () => {
  const {parseConfig} = await import('../../../src/lib/sync/config.js')
  it('reads sources, defaults and registries', () => {
    const c = parseConfig({defaults: {referrers: true}, registries: {'r.example.com': {concurrency: 3, 'requests-per-second': 5, insecure: true, 'chunk-size': 1024}}, sources: [{src: 'r.example.com/a', dst: 'm.example.com/a', platforms: ['linux/amd64'], newest: 2, 'newest-by': 'created'}]}, 'f.yaml')
    assert.deepEqual(c.registries, {'r.example.com': {insecure: true, concurrency: 3, requestsPerSecond: 5, chunkSize: 1024}})
    assert.equal(c.specs[0].referrers, true)
    assert.deepEqual(c.specs[0].platforms, [{os: 'linux', architecture: 'amd64'}])
    assert.throws(() => parseConfig({sources: []}, 'f.yaml'), /"sources" must be a list/)
    assert.throws(() => parseConfig({sources: [{src: 'a.io/x', dst: 'b.io/x', newest: 0}]}, 'f.yaml'), /newest: expected a whole number/)
  })
})

describe('pacer requests per second', async () => {
  const {Pacer} = await import('../../../src/lib/remote/transport/pacer.js')
  it('spaces request starts', async () => {
    const p = new Pacer(32, Date.now, 20)
    const t0 = Date.now()
    for (let i = 0; i < 5; i++) (await p.acquire())(200)
    assert.ok(Date.now() - t0 >= 190, `${Date.now() - t0} ms`)
  })
})
