// sync asks each registry what it can do (the `registry info` probe; mount support from its first
// sibling mount) once, keeps the answers in its state file, and the answers change the requests it
// makes: no mount attempts where the destination cannot mount (a proxy drops ?mount= so the
// registry behaves as one without it),
// chunks no smaller than OCI-Chunk-Min-Length, referrers through the fallback tag with no API
// request per image, and a tag list instead of a manifest HEAD per tag for a new repository.
import assert from 'node:assert/strict'
import * as fsp from 'node:fs/promises'
import * as path from 'node:path'
import {after, before, describe, it} from 'node:test'
import {runCli} from '../support/cli.js'
import {type FaultProxy, startProxy} from '../support/proxy.js'
import {type RunningRegistry, startRegistry} from '../support/registry.js'
import {digestAt, pushImages} from '../support/sync-images.js'
import {type TmpDir, tmpDir} from '../support/tmp.js'

const KiB = 1024

describe('sync: the probe sets the strategy', () => {
  let a: RunningRegistry
  let b: RunningRegistry
  let noMount: FaultProxy
  let minChunk: FaultProxy
  let tmp: TmpDir
  let src: Record<string, string>
  before(async () => {
    ;[a, b, tmp] = await Promise.all([startRegistry({flavour: 'plain'}), startRegistry({flavour: 'plain'}), tmpDir('sync-strategy')])
    ;[noMount, minChunk] = await Promise.all([startProxy({upstream: b.url}), startProxy({upstream: b.url})])
    // a registry without cross-repository mount: the request arrives as a plain upload (202)
    noMount.addFault({match: {method: 'POST', path: 'mount='}, action: {kind: 'rewritePath', to: (p) => p.replace(/\?.*$/, '')}})
    minChunk.addFault({match: {method: 'POST', path: /\/blobs\/uploads\/$/}, action: {kind: 'replace', body: '', headers: {'OCI-Chunk-Min-Length': String(256 * KiB)}}})
    src = await pushImages(a, {
      'team/x:1': {layers: ['base', 'x-1']},
      'team/x:2': {layers: ['base', 'x-2']},
      'team/x:3': {layers: ['base', 'x-3']},
      'team/y:1': {layers: ['base', 'y-1']},
      'team/z:1': {layers: ['base', 'z-1']},
      'big/app:1': {layers: ['big-1'], layerBytes: 600 * KiB},
    })
  })
  after(async () => {
    await noMount?.stop()
    await minChunk?.stop()
    await a?.stop()
    await b?.stop()
    await tmp?.remove()
  })

  async function sync(args: string[]) {
    const r = await runCli(['sync', ...args, '--json', '--progress', 'none'])
    assert.equal(r.code, 0, r.stderr + r.stdout.replace(/\s+/g, " "))
    return JSON.parse(r.stdout)
  }
  const probes = async (state: string) =>
    (await fsp.readFile(state, 'utf8')).trim().split('\n').map((l) => JSON.parse(l)).filter((l) => 'probe' in l)
  /** the answers the state file holds now, by registry (the last line of each wins) */
  const answers = async (state: string) => Object.fromEntries((await probes(state)).map((p) => [p.probe, p.answers]))
  const baseDigest = async () => {
    const m = JSON.parse((await runCli(['manifest', `${a.host}/team/x:1`])).stdout)
    return m.layers[0].digest as string
  }

  it('no mount attempts where the destination cannot mount; the answer is kept and not asked again', async () => {
    const state = path.join(tmp.path, 'nomount.jsonl')
    const r = await sync([`${a.host}/team/`, `${noMount.host}/nm/`, '--state', state])
    assert.equal(r.totals.copied, 5)
    for (const t of ['x:1', 'x:2', 'x:3', 'y:1', 'z:1']) assert.equal(await digestAt(b, `nm/${t}`), src[`team/${t}`], t)
    const log = noMount.requests()
    assert.equal(log.filter((q) => /[?&]mount=/.test(q.path)).length, 1, 'one mount tried (202: an upload instead), then none')
    assert.deepEqual(await answers(state), {[noMount.host]: {chunkedUpload: true, mount: false}})
    // the shared base layer was uploaded to each repository instead
    const base = await baseDigest()
    assert.equal(log.filter((q) => q.method === 'PUT' && q.path.includes(encodeURIComponent(base))).length, 3)
    // a new repository: one tag list, and a manifest HEAD only for the first tag of each
    assert.equal(log.filter((q) => q.method === 'GET' && /\/nm\/[xyz]\/tags\/list/.test(q.path)).length, 1, 'x: the tag list once (y, z have one tag)')
    assert.equal(log.filter((q) => q.method === 'HEAD' && /\/nm\/x\/manifests\/[123]$/.test(q.path)).length, 1, 'x: one HEAD for three tags')

    // the same state, another destination on that registry: nothing is probed again
    const mark = noMount.requests().length
    const lines = (await probes(state)).length
    const again = await sync([`${a.host}/team/`, `${noMount.host}/nm2/`, '--state', state])
    assert.equal(again.totals.copied, 5)
    const later = noMount.requests().slice(mark)
    assert.deepEqual(later.filter((q) => /[?&]mount=/.test(q.path) || q.method === 'PATCH' || q.method === 'DELETE'), [], 'no probe, no mount')
    assert.equal((await probes(state)).length, lines)

    // where mounting works, the probe says so and the shared layer is mounted
    const direct = path.join(tmp.path, 'direct.jsonl')
    const markB = b.requests().length
    await sync([`${a.host}/team/`, `${b.host}/dm/`, '--state', direct])
    assert.equal((await answers(direct))[b.host].mount, true)
    const mounted = b.requests().slice(markB).filter((q) => q.method === 'POST' && q.uri.includes(`mount=${encodeURIComponent(base)}`) && q.status === 201)
    assert.equal(mounted.length, 2, 'the base layer mounted into the two other repositories')
  })

  it('a new repository is asked nothing about its blobs; after a cut run the next one asks, and uploads nothing twice', async () => {
    const state = path.join(tmp.path, 'fresh.jsonl')
    // the manifests are refused: the blobs get there, the tags do not
    noMount.addFault({match: {method: 'PUT', path: '/fr/x/manifests/'}, action: {kind: 'status', status: 400}})
    const mark = noMount.requests().length
    const cut = await runCli(['sync', `${a.host}/team/x`, `${noMount.host}/fr/x`, '--state', state, '--json'])
    noMount.faults.pop()
    assert.notEqual(cut.code, 0, cut.stdout)
    assert.equal(JSON.parse(cut.stdout).totals.failed, 3)
    const first = noMount.requests().slice(mark)
    const blobPuts = (qs: typeof first) => qs.filter((q) => q.method === 'PUT' && q.path.includes('/fr/x/blobs/uploads/')).map((q) => q.path.split('digest=')[1])
    assert.equal(first.filter((q) => q.method === 'HEAD' && q.path.includes('/fr/x/')).length, 1, 'one manifest HEAD (then the tag list), no blob HEAD')
    assert.equal(blobPuts(first).length, 7, 'the base, 3 layers, 3 configs')
    const mark2 = noMount.requests().length
    const r = await sync([`${a.host}/team/x`, `${noMount.host}/fr/x`, '--state', state])
    assert.equal(r.totals.copied, 3)
    for (const t of ['1', '2', '3']) assert.equal(await digestAt(b, `fr/x:${t}`), src[`team/x:${t}`])
    const second = noMount.requests().slice(mark2)
    assert.ok(second.some((q) => q.method === 'HEAD' && q.path.includes('/fr/x/blobs/')), 'the blobs were asked for')
    assert.deepEqual(blobPuts(second), [], 'nothing uploaded twice')
  })

  it('chunks are never smaller than the OCI-Chunk-Min-Length the registry states', async () => {
    const state = path.join(tmp.path, 'chunks.jsonl')
    await sync([`${a.host}/big/app`, `${minChunk.host}/ch/app`, '--state', state, '--chunk-size', String(64 * KiB)])
    assert.equal(await digestAt(b, 'ch/app:1'), src['big/app:1'])
    const patches = minChunk.requests().filter((q) => q.method === 'PATCH' && q.path.includes('/ch/app/'))
    // the 600 KiB layer in 256 KiB chunks: 3 PATCHes (64 KiB chunks would be 10); the probe's PATCH went to the scratch session
    assert.equal(patches.filter((q) => q.bytesIn > 4).length, 3, patches.map((q) => q.bytesIn).join(' '))
    assert.ok(patches.every((q) => q.bytesIn <= 4 || q.bytesIn >= 256 * KiB || q === patches[patches.length - 1]))
    assert.deepEqual(await answers(state), {[minChunk.host]: {chunkedUpload: true, chunkMinLength: 256 * KiB}})
  })

  it('referrers: without a referrers API at either end, the fallback tag is used with no API request per image', async () => {
    const sig = path.join(tmp.path, 'sig.txt')
    await fsp.writeFile(sig, 'signature')
    for (const t of ['1', '2', '3']) {
      const r = await runCli(['attach', `${a.host}/team/x:${t}`, '-f', `${sig}:text/plain`, '--artifact-type', 'application/vnd.example.sig'])
      assert.equal(r.code, 0, r.stderr)
    }
    const state = path.join(tmp.path, 'refs.jsonl')
    const [ma, mb] = [a.requests().length, b.requests().length]
    const r = await sync([`${a.host}/team/x`, `${b.host}/rf/x`, '--referrers', '--no-digest-tags', '--state', state])
    assert.equal(r.totals.copied, 3)
    assert.deepEqual(r.repositories[0].tags.map((t: {referrers: number}) => t.referrers), [1, 1, 1])
    for (const t of ['1', '2', '3']) {
      const fallback = `sha256-${src[`team/x:${t}`].slice(7)}`
      assert.ok(await digestAt(b, `rf/x:${fallback}`), `the fallback tag of x:${t} at the destination`)
    }
    const api = (reg: RunningRegistry, mark: number) => reg.requests().slice(mark).filter((q) => q.path.includes('/referrers/'))
    assert.equal(api(a, ma).length, 1, 'the source: the probe only')
    assert.equal(api(b, mb).length, 1, 'the destination: the probe only')
    const known = await answers(state)
    assert.deepEqual([known[a.host].referrers, known[b.host].referrers], [false, false])
  })
})
