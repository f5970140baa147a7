// Interrupting ocitool: SIGINT or SIGTERM during `pull IMAGE FILE` exits 130 and leaves neither
// FILE nor a temporary file next to it; during `copy` onto an existing tag the tag is either
// the old manifest or the new complete one, never missing or partial.
import assert from 'node:assert/strict'
import {type ChildProcess, spawn} from 'node:child_process'
import * as fsp from 'node:fs/promises'
import * as path from 'node:path'
import {after, before, describe, it} from 'node:test'

import {repoRoot} from '../support/cli.js'
import {MediaTypes, type PushedFixture, pushFixture} from '../support/fixtures.js'
import {type FaultProxy, startProxy} from '../support/proxy.js'
import {pushBigImage} from '../support/big-image.js'
import {type RunningRegistry, startRegistry} from '../support/registry.js'
import {type TmpDir, tmpDir} from '../support/tmp.js'

/** pushBig pushes an image with one incompressible 6 MiB layer and returns its digests */
const pushBig = (reg: RunningRegistry, repoTag: string) => pushBigImage(reg, repoTag, 'signals-big', 6 * 1024 * 1024)

interface Spawned {
  child: ChildProcess
  done: Promise<{code: number | null; signal: NodeJS.Signals | null; stderr: string}>
}

/** spawnCli starts `node bin/run.js ...args` with the same sanitised environment as runCli */
function spawnCli(args: string[], home: string): Spawned {
  const env: NodeJS.ProcessEnv = {...process.env, NO_COLOR: '1', HOME: home, DOCKER_CONFIG: path.join(home, '.docker'), OCITOOL_RETRY_BASE_MS: '10'}
  for (const k of ['XDG_RUNTIME_DIR', 'REGISTRY_AUTH_FILE', 'XDG_CONFIG_HOME', 'DOCKER_AUTH_CONFIG', 'OCITOOL_USERNAME', 'OCITOOL_PASSWORD']) delete env[k]
  env.NODE_OPTIONS = [env.NODE_OPTIONS, `--require ${path.join(repoRoot, 'test', 'support', 'offline-dns.cjs')}`].filter(Boolean).join(' ')
  const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'run.js'), ...args], {cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe']})
  let stderr = ''
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s))
  child.stdout!.resume()
  const killer = setTimeout(() => child.kill('SIGKILL'), 30_000)
  const done = new Promise<{code: number | null; signal: NodeJS.Signals | null; stderr: string}>((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(killer)
      resolve({code, signal, stderr})
    })
  })
  return {child, done}
}

async function waitFor(what: string, pred: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await pred())) {
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

async function tagDigest(reg: {url: string}, repo: string, tag: string): Promise<string | undefined> {
  const accept = [MediaTypes.ociManifest, MediaTypes.ociIndex, MediaTypes.dockerManifest].join(', ')
  const r = await fetch(`${reg.url}/v2/${repo}/manifests/${tag}`, {method: 'HEAD', headers: {accept}})
  if (r.status === 404) return undefined
  return r.headers.get('docker-content-digest') ?? undefined
}

describe('faults: SIGINT and SIGTERM', () => {
  let a: RunningRegistry
  let b: RunningRegistry
  let proxyA: FaultProxy
  let tmp: TmpDir
  let big: {digest: string; layer: string}
  let old: PushedFixture
  before(async () => {
    ;[a, b, tmp] = await Promise.all([startRegistry({flavour: 'plain'}), startRegistry({flavour: 'plain'}), tmpDir('faults-signals')])
    big = await pushBig(a, 'src/big:v1')
    old = await pushFixture(b, 'dst/app:v1', 'oci', 'signals-old')
    proxyA = await startProxy({upstream: a.url})
  })
  after(async () => {
    await proxyA?.stop()
    await a?.stop()
    await b?.stop()
    await tmp?.remove()
  })

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    for (const format of ['tarball', 'oci'] as const) {
      it(`${signal} during pull --format ${format} exits 130 and leaves no output and no temp file`, async () => {
        const dir = path.join(tmp.path, `pull-${signal}-${format}`)
        await fsp.mkdir(dir)
        const home = await fsp.mkdtemp(path.join(tmp.path, 'home-'))
        proxyA.clearFaults()
        proxyA.clearRequests()
        // the big layer's GET is held for 20 s: the output has been started when the signal comes
        proxyA.addFault({match: {method: 'GET', path: `/blobs/${big.layer}`}, action: {kind: 'stall', ms: 20_000}})
        const out = path.join(dir, format === 'oci' ? 'layout' : 'out.tar')
        const run = spawnCli(['pull', `${proxyA.host}/src/big:v1`, out, '--format', format], home)
        await waitFor('the layer request', () => proxyA.requests().some((q) => q.fault === 'stall'))
        await new Promise((r) => setTimeout(r, 200))
        run.child.kill(signal)
        const res = await run.done
        proxyA.clearFaults()
        assert.equal(res.code, 130, `exit ${res.code} ${res.signal}: ${res.stderr}`)
        assert.doesNotMatch(res.stderr, /\n\s+at /, 'no stack trace')
        assert.deepEqual(await fsp.readdir(dir), [], 'no output and no temp file')
      })
    }
  }

  it('SIGTERM during copy onto an existing tag leaves the old manifest; a finished copy leaves the new one', async () => {
    assert.equal(await tagDigest(b, 'dst/app', 'v1'), old.manifestDigest)
    const home = await fsp.mkdtemp(path.join(tmp.path, 'home-'))
    proxyA.clearFaults()
    proxyA.clearRequests()
    proxyA.addFault({match: {method: 'GET', path: `/blobs/${big.layer}`}, action: {kind: 'stall', ms: 20_000}})
    const run = spawnCli(['copy', `${proxyA.host}/src/big:v1`, `${b.host}/dst/app:v1`], home)
    await waitFor('the layer request', () => proxyA.requests().some((q) => q.fault === 'stall'))
    // poll the destination tag while the copy runs and is interrupted: never missing, never anything else
    const seen = new Set<string | undefined>()
    const watching = (async () => {
      for (let i = 0; i < 10; i++) {
        seen.add(await tagDigest(b, 'dst/app', 'v1'))
        await new Promise((r) => setTimeout(r, 20))
      }
    })()
    await new Promise((r) => setTimeout(r, 100))
    run.child.kill('SIGTERM')
    const res = await run.done
    await watching
    proxyA.clearFaults()
    assert.equal(res.code, 130, `exit ${res.code} ${res.signal}: ${res.stderr}`)
    seen.add(await tagDigest(b, 'dst/app', 'v1'))
    assert.deepEqual([...seen], [old.manifestDigest], 'the tag stayed on the old manifest')
    // the same copy, uninterrupted, moves the tag to the complete new image
    const again = spawnCli(['copy', `${proxyA.host}/src/big:v1`, `${b.host}/dst/app:v1`], home)
    const ok = await again.done
    assert.equal(ok.code, 0, ok.stderr)
    assert.equal(await tagDigest(b, 'dst/app', 'v1'), big.digest)
    const blob = await fetch(`${b.url}/v2/dst/app/blobs/${big.layer}`, {method: 'HEAD'})
    assert.equal(blob.status, 200, 'the new manifest is complete: its layer is there')
  })
})
