// Temporary files a SIGKILLed copy leaves in an `oci:` layout (issue 12, item 8): the next write
// to the layout removes them once their writer is surely gone (its pid no longer runs and the file
// is older than 30 s; any writer's file untouched for a day), and never a live writer's file.
import assert from 'node:assert/strict'
import * as fsp from 'node:fs/promises'
import * as path from 'node:path'
import {after, before, describe, it} from 'node:test'

import {pushBigImage} from '../support/big-image.js'
import {runCli} from '../support/cli.js'
import {type PushedFixture, pushFixture} from '../support/fixtures.js'
import {type FaultProxy, startProxy} from '../support/proxy.js'
import {type RunningRegistry, startRegistry} from '../support/registry.js'
import {type TmpDir, tmpDir} from '../support/tmp.js'

/** the `.tmp-*` files directly in dir and in dir/blobs/sha256 */
async function temps(dir: string): Promise<string[]> {
  const out: string[] = []
  for (const d of [dir, path.join(dir, 'blobs', 'sha256')]) {
    for (const n of await fsp.readdir(d).catch(() => [] as string[])) if (n.startsWith('.tmp-')) out.push(path.join(d, n))
  }
  return out.sort()
}

/** ages files by `ms`, as if that much time had passed since they were last written */
async function age(files: string[], ms: number): Promise<void> {
  const t = new Date(Date.now() - ms)
  for (const f of files) await fsp.utimes(f, t, t)
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const end = Date.now() + ms
  for (;;) {
    const v = await fn()
    if (v !== undefined) return v
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

describe('faults: temporary files of a killed copy into an oci layout', () => {
  let reg: RunningRegistry
  let proxy: FaultProxy
  let tmp: TmpDir
  let small: PushedFixture
  let big: {layer: string}

  before(async () => {
    ;[reg, tmp] = await Promise.all([startRegistry({flavour: 'plain'}), tmpDir('stale-temps')])
    small = await pushFixture(reg, 'st/small:v1', 'oci', 'stale-small')
    big = await pushBigImage(reg, 'st/big:v1', 'stale-big', 2 * 1024 * 1024)
    proxy = await startProxy({upstream: reg.url})
  })
  after(async () => {
    await proxy?.stop()
    await reg?.stop()
    await tmp?.remove()
  })

  it('a SIGKILLed writer’s .tmp files are removed by the next write; a live writer’s are not', async () => {
    const layout = path.join(tmp.path, 'layout')
    const r0 = await runCli(['pull', `${reg.host}/st/small:v1`, layout, '--format', 'oci'])
    assert.equal(r0.code, 0, r0.stderr)
    // the big layer's download stalls for a minute: its temporary file is open when the copy dies
    proxy.addFault({match: {method: 'GET', path: `/blobs/${big.layer}`}, action: {kind: 'stall', ms: 60_000}})
    const killed = runCli(['pull', `${proxy.host}/st/big:v1`, layout, '--format', 'oci'], {timeoutMs: 60_000})
    await waitFor('the first temporary file', async () => ((await temps(layout)).length > 0 ? true : undefined))
    await new Promise((r) => setTimeout(r, 1000))
    const leftByKilled = await temps(layout)
    assert.equal(leftByKilled.length, 1, `one file in flight: ${leftByKilled.join(', ')}`)
    // a real SIGKILL: no handler runs, nothing is cleaned up
    const pid = Number(/\.tmp-[0-9a-f]{8}\.(\d+)\./.exec(path.basename(leftByKilled[0]))?.[1])
    assert.ok(pid > 0, `the temporary name carries its writer's pid: ${leftByKilled[0]}`)
    process.kill(pid, 'SIGKILL')
    assert.equal((await killed).code, 137)
    assert.deepEqual(await temps(layout), leftByKilled, 'the kill left them behind')

    // a second, live writer stalls on the same blob (its files are aged too: only its pid protects them)
    const live = runCli(['pull', `${proxy.host}/st/big:v1`, layout, '--format', 'oci'], {timeoutMs: 60_000})
    const liveNow = async () => (await temps(layout)).filter((f) => !leftByKilled.includes(f))
    await waitFor('the live writer’s temporary file', async () => ((await liveNow()).length > 0 ? true : undefined))
    // the config's file comes and goes at once; the stalled layer's stays
    await new Promise((r) => setTimeout(r, 1000))
    const liveFiles = await liveNow()
    assert.equal(liveFiles.length, 1, `one file in flight: ${liveFiles.join(', ')}`)
    // an unknown writer's file from two days ago, and a fresh one
    const ancient = path.join(layout, 'blobs', 'sha256', '.tmp-0123456789abcdef')
    const fresh = path.join(layout, 'blobs', 'sha256', '.tmp-fedcba9876543210')
    await fsp.writeFile(ancient, 'x')
    await fsp.writeFile(fresh, 'y')
    await age([ancient], 2 * 24 * 3600 * 1000)
    await age([...leftByKilled, ...liveFiles], 5 * 60 * 1000)

    // the next write to the layout (the small image again, under another tag)
    const r = await runCli(['pull', `${reg.host}/st/small:v1`, `${layout}`, '--format', 'oci'])
    assert.equal(r.code, 0, r.stderr)
    const left = await temps(layout)
    for (const f of leftByKilled) assert.ok(!left.includes(f), `the killed writer's ${path.basename(f)} is gone`)
    assert.ok(!left.includes(ancient), 'a day-old file of an unknown writer is gone')
    assert.ok(left.includes(fresh), 'a fresh file of an unknown writer stays')
    for (const f of liveFiles) assert.ok(left.includes(f), `the live writer's ${path.basename(f)} stays`)

    // the live writer is stalled for a minute: end it
    proxy.clearFaults()
    const livePid = Number(/\.tmp-[0-9a-f]{8}\.(\d+)\./.exec(path.basename(liveFiles[0]))?.[1])
    process.kill(livePid, 'SIGKILL')
    await live
    // validate reads the layout by its index, never by listing: temporary files do not matter
    const v = await runCli(['validate', `oci:${layout}`])
    assert.equal(v.code, 0, v.stderr)
    assert.equal(small.manifestDigest.startsWith('sha256:'), true)
  })

  it('a SIGKILLed pull to a tarball leaves FILE.tmp-…, which the next write of FILE removes; FILE itself appears only whole', async () => {
    const dir = path.join(tmp.path, 'tarballs')
    await fsp.mkdir(dir)
    const out = path.join(dir, 'big.tar')
    const beside = async () => (await fsp.readdir(dir)).filter((n) => n.startsWith('big.tar.tmp-')).map((n) => path.join(dir, n))
    proxy.addFault({match: {method: 'GET', path: `/blobs/${big.layer}`}, action: {kind: 'stall', ms: 60_000}})
    const killed = runCli(['pull', `${proxy.host}/st/big:v1`, out], {timeoutMs: 60_000})
    const [left] = await waitFor('the temporary archive', async () => ((await beside()).length > 0 ? beside() : undefined))
    const pid = Number(/\.tmp-[0-9a-f]{8}\.(\d+)\./.exec(path.basename(left))?.[1])
    assert.ok(pid > 0, `the temporary name carries its writer's pid: ${left}`)
    process.kill(pid, 'SIGKILL')
    assert.equal((await killed).code, 137)
    proxy.clearFaults()
    assert.deepEqual(await beside(), [left], 'the kill left it behind')
    await assert.rejects(fsp.stat(out), 'no partial FILE')
    // another image's file in the same directory, killed too, is not this write's business
    const other = path.join(dir, `other.tar.tmp-${path.basename(left).split('.tmp-')[1]}`)
    await fsp.writeFile(other, 'x')
    await age([left, other], 5 * 60 * 1000)
    const r = await runCli(['pull', `${reg.host}/st/big:v1`, out])
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(await beside(), [], 'the killed writer\'s file is gone')
    await fsp.access(other)
    const v = await runCli(['validate', '--tarball', out])
    assert.equal(v.code, 0, v.stderr)
  })
})
