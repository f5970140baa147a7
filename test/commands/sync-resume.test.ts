// sync --state: a SIGKILLed run goes on where it stopped (images done are not looked at again,
// blobs that made it are not moved again), and a blob upload cut at half resumes from the
// registry's upload session offset (GET on the session: Range 0-N), seen on a proxy's log.
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import * as fsp from 'node:fs/promises'
import * as path from 'node:path'
import {after, before, describe, it} from 'node:test'
import {repoRoot, runCli} from '../support/cli.js'
import {type FaultProxy, startProxy} from '../support/proxy.js'
import {type RunningRegistry, startRegistry} from '../support/registry.js'
import {digestAt, pushImages} from '../support/sync-images.js'
import {type TmpDir, tmpDir} from '../support/tmp.js'

const MiB = 1024 * 1024
const fast = {OCITOOL_RETRIES: '1', OCITOOL_RETRY_BASE_MS: '10'}

describe('sync --state', () => {
  let a: RunningRegistry
  let b: RunningRegistry
  let proxy: FaultProxy
  let tmp: TmpDir
  let src: Record<string, string>
  before(async () => {
    ;[a, b, tmp] = await Promise.all([startRegistry({flavour: 'plain'}), startRegistry({flavour: 'plain'}), tmpDir('sync-state')])
    proxy = await startProxy({upstream: b.url})
    const images: Record<string, {layers: string[]; layerBytes?: number}> = {'big/app:v1': {layers: ['big-layer'], layerBytes: 4 * MiB}}
    for (let i = 0; i < 6; i++) images[`kill/r${i}:v1`] = {layers: ['kill-base', `kill-${i}`]}
    src = await pushImages(a, images)
  })
  after(async () => {
    await proxy?.stop()
    await a?.stop()
    await b?.stop()
    await tmp?.remove()
  })

  it('a blob upload cut at half resumes from the session offset in the next run', async () => {
    const state = path.join(tmp.path, 'cut.jsonl')
    // the probe's PATCH (sync asks whether chunked uploads work, once: strategy.ts) and two chunks
    // go through; every later PATCH is cut before its first byte reaches the registry
    proxy.addFault({match: {method: 'PATCH', times: 3}, action: {kind: 'stall', ms: 0}})
    proxy.addFault({match: {method: 'PATCH'}, action: {kind: 'dropRequestAfter', bytes: 0}})
    const args = ['sync', `${a.host}/big/app`, `${proxy.host}/big/app`, '--state', state, '--chunk-size', String(MiB), '--json']
    const first = await runCli(args, {env: fast})
    assert.notEqual(first.code, 0, first.stdout)
    assert.equal(JSON.parse(first.stdout).totals.failed, 1)
    assert.match(await fsp.readFile(state, 'utf8'), /"offset":2097152/)
    proxy.clearFaults()
    const mark = proxy.requests().length
    const second = await runCli(args, {env: fast})
    assert.equal(second.code, 0, second.stderr + second.stdout)
    assert.equal(await digestAt(b, 'big/app:v1'), src['big/app:v1'])
    const reqs = proxy.requests().slice(mark)
    const patches = reqs.filter((q) => q.method === 'PATCH')
    assert.ok(patches.length > 0)
    assert.equal(patches[0].headers['content-range'], `${2 * MiB}-${3 * MiB - 1}`, 'the second upload starts past zero, where the registry has it')
    const status = reqs.find((q) => q.method === 'GET' && q.path.includes('/blobs/uploads/'))
    assert.equal(status?.status, 204, 'the session was asked where it stands')
    const sent = patches.reduce((n, q) => n + q.bytesIn, 0)
    assert.ok(sent < 3 * MiB, `only the rest was sent (${sent} bytes)`)
  })

  it('SIGKILL mid-run, then a re-run completes with exact digests and nothing copied twice', async () => {
    const state = path.join(tmp.path, 'kill.jsonl')
    proxy.clearFaults()
    // the fourth image's tag write hangs: the run is killed there, three images done
    proxy.addFault({match: {method: 'PUT', path: '/v2/km/r3/manifests/v1'}, action: {kind: 'stall', ms: 8_000}})
    const mark = b.requests().length
    const args = ['sync', `${a.host}/kill/`, `${proxy.host}/km/`, '--state', state, '--jobs', '1', '--image-jobs', '1', '--json']
    const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'run.js'), ...args], {cwd: repoRoot, env: {...process.env, ...fast}, stdio: 'ignore'})
    const exited = new Promise<string | null>((r) => child.once('exit', (_c, sig) => r(sig)))
    for (let i = 0; i < 400 && !proxy.requests().some((q) => q.method === 'PUT' && q.path === '/v2/km/r3/manifests/v1'); i++) await new Promise((r) => setTimeout(r, 50))
    child.kill('SIGKILL')
    assert.equal(await exited, 'SIGKILL')
    const lines = (await fsp.readFile(state, 'utf8')).trim().split('\n').map((l) => JSON.parse(l))
    assert.deepEqual(lines.filter((l) => l.image).map((l) => l.image), [`${proxy.host}/km/r0`, `${proxy.host}/km/r1`, `${proxy.host}/km/r2`])
    proxy.clearFaults()
    const rerun = b.requests().length
    const rerunAtSource = a.requests().length
    const r = await runCli(args, {env: fast})
    assert.equal(r.code, 0, r.stderr)
    const report = JSON.parse(r.stdout)
    const status = Object.fromEntries(report.repositories.map((x: {destination: string; tags: Array<{status: string}>}) => [x.destination.split('/').pop(), x.tags[0].status]))
    assert.deepEqual(status, {r0: 'current', r1: 'current', r2: 'current', r3: 'copied', r4: 'copied', r5: 'copied'})
    // the journal spared every request about the images done before the kill
    assert.deepEqual(b.requests().slice(rerun).filter((q) => /\/km\/r[012]\//.test(q.path)), [])
    // and at the source their manifests were only HEADed (the digest is all the journal needs)
    const doneAtSource = a.requests().slice(rerunAtSource).filter((q) => /\/kill\/r[012]\/manifests\//.test(q.path))
    assert.deepEqual(doneAtSource.map((q) => q.method), ['HEAD', 'HEAD', 'HEAD'])
    for (let i = 0; i < 6; i++) assert.equal(await digestAt(b, `km/r${i}:v1`), src[`kill/r${i}:v1`])
    // r3's blobs made it before the kill: not moved again
    const r3 = report.repositories.find((x: {destination: string}) => x.destination.endsWith('/km/r3')).tags[0]
    assert.equal(r3.blobs.copied + r3.blobs.mounted, 0)
    // across both runs, no blob went into a repository twice
    const commits = b.requests().slice(mark).filter((q) => q.status === 201 && (q.method === 'PUT' && q.path.includes('/blobs/uploads/') || q.method === 'POST' && q.uri.includes('mount=')))
    const keys = commits.map((q) => `${q.path.split('/blobs/')[0]} ${/(?:digest|mount)=([^&]+)/.exec(q.uri)?.[1]}`)
    assert.equal(new Set(keys).size, keys.length, keys.join('\n'))
  })
})
