// The registry as a blob store, against the real distribution registry: a 100 MiB blob pushed
// from a file and pulled back (streamed, same digest), stdin pushes, no second upload, size,
// mount, delete, `blob REPO@DIGEST` unchanged, and a corrupted download that writes nothing.
import assert from 'node:assert/strict'
import {createHash, randomBytes} from 'node:crypto'
import {createReadStream, createWriteStream} from 'node:fs'
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import {after, before, describe, it} from 'node:test'
import {runCli} from '../support/cli.js'
import {startProxy} from '../support/proxy.js'
import {type RunningRegistry, startRegistry} from '../support/registry.js'
import {tmpDir, type TmpDir} from '../support/tmp.js'

/** writeBigFile streams `mib` MiB of pseudo-random bytes to file, returning their digest (never all in memory). */
async function writeBigFile(file: string, mib: number): Promise<string> {
  const hash = createHash('sha256')
  const out = createWriteStream(file)
  const seed = randomBytes(1024 * 1024)
  for (let i = 0; i < mib; i++) {
    seed[0] = i // each MiB differs
    hash.update(seed)
    if (!out.write(seed)) await new Promise((r) => out.once('drain', r))
  }
  await new Promise<void>((resolve, reject) => out.end((e?: Error) => (e ? reject(e) : resolve())))
  return `sha256:${hash.digest('hex')}`
}

async function fileDigest(file: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const c of createReadStream(file)) hash.update(c as Buffer)
  return `sha256:${hash.digest('hex')}`
}

describe('blob store', () => {
  let reg: RunningRegistry
  let work: TmpDir
  before(async () => {
    ;[reg, work] = await Promise.all([startRegistry({flavour: 'plain'}), tmpDir('blobstore')])
  })
  after(async () => {
    await reg?.stop()
    await work?.remove()
  })

  it('pushes a 100 MiB file and pulls it back with the same digest; a second push uploads nothing', async () => {
    const big = path.join(work.path, 'big.bin')
    const want = await writeBigFile(big, 100)
    const r = await runCli(['blob', 'push', `${reg.host}/store`, big], {timeoutMs: 120_000})
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, `${want}\n`)
    const uploads = () => reg.requests().filter((q) => q.path.includes('/blobs/uploads/')).length
    const before = uploads()
    const again = await runCli(['blob', 'push', `${reg.host}/store`, big], {timeoutMs: 120_000})
    assert.equal(again.code, 0, again.stderr)
    assert.equal(again.stdout, `${want}\n`)
    assert.equal(uploads(), before, 'a blob the registry has is not uploaded again')
    const out = path.join(work.path, 'big.out')
    const p = await runCli(['blob', 'pull', `${reg.host}/store`, want, '-o', out], {timeoutMs: 120_000})
    assert.equal(p.code, 0, p.stderr)
    assert.equal(p.stdout, '')
    assert.equal(await fileDigest(out), want)
    const size = await runCli(['blob', 'size', `${reg.host}/store`, want])
    assert.equal(size.stdout, `${100 * 1024 * 1024}\n`)
  })

  it('pushes stdin (digest known only at the end) and pulls it to stdout; `blob REPO@DIGEST` still works', async () => {
    const data = randomBytes(3 * 1024 * 1024 + 17)
    const want = `sha256:${createHash('sha256').update(data).digest('hex')}`
    const r = await runCli(['blob', 'push', `${reg.host}/store`, '-'], {input: data})
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, `${want}\n`)
    const p = await runCli(['blob', 'pull', `${reg.host}/store`, want])
    assert.equal(p.code, 0, p.stderr)
    assert.ok(p.stdoutBytes.equals(data))
    const old = await runCli(['blob', `${reg.host}/store@${want}`])
    assert.equal(old.code, 0, old.stderr)
    assert.ok(old.stdoutBytes.equals(data))
  })

  it('mounts into another repository, and deletes', async () => {
    const data = Buffer.from('mount me')
    const r = await runCli(['blob', 'push', `${reg.host}/store`, '-'], {input: data})
    const digest = r.stdout.trim()
    const m = await runCli(['blob', 'mount', `${reg.host}/other`, `${reg.host}/store`, digest])
    assert.equal(m.code, 0, m.stderr)
    assert.equal((await runCli(['blob', 'size', `${reg.host}/other`, digest])).stdout, `${data.length}\n`)
    const d = await runCli(['blob', 'delete', `${reg.host}/other`, digest])
    assert.equal(d.code, 0, d.stderr)
    const gone = await runCli(['blob', 'size', `${reg.host}/other`, digest])
    assert.equal(gone.code, 3, gone.stderr)
    assert.equal(gone.stderr.trim().split('\n').length, 1)
  })

  it('a download whose bytes do not match fails with exit 6 and writes nothing', async () => {
    const data = randomBytes(256 * 1024)
    const digest = (await runCli(['blob', 'push', `${reg.host}/store`, '-'], {input: data})).stdout.trim()
    const proxy = await startProxy({upstream: reg.url})
    try {
      proxy.addFault({match: {method: 'GET', path: '/blobs/'}, action: {kind: 'corrupt'}})
      const dir = path.join(work.path, 'corrupt')
      await fs.mkdir(dir)
      const r = await runCli(['blob', 'pull', `${proxy.host}/store`, digest, '-o', path.join(dir, 'out.bin')])
      assert.equal(r.code, 6, r.stderr)
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
      assert.deepEqual(await fs.readdir(dir), [])
    } finally {
      await proxy.stop()
    }
  })

  it('bad input: a digest that is not one (2), a missing blob (3)', async () => {
    const bad = await runCli(['blob', 'pull', `${reg.host}/store`, 'nonsense'])
    assert.equal(bad.code, 2, bad.stderr)
    const missing = await runCli(['blob', 'pull', `${reg.host}/store`, `sha256:${'0'.repeat(64)}`])
    assert.equal(missing.code, 3, missing.stderr)
  })
})
