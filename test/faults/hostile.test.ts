// Hostile input: malformed references, manifests that are not what they claim (served through
// the fault proxy's `replace` in front of a real registry, since distribution validates on PUT),
// and archives that try path traversal, symlinks out of the tree, a gzip bomb, a huge size
// header or missing files. The corpus is generated into a temp dir by
// scripts/make-hostile-corpus.ts. Every case: the exit code of its class, one line, no stack
// trace, nothing written outside the output path.
import assert from 'node:assert/strict'
import {execFileSync, spawnSync} from 'node:child_process'
import * as fsp from 'node:fs/promises'
import * as path from 'node:path'
import {gunzipSync} from 'node:zlib'
import {after, before, describe, it} from 'node:test'

import {type HostileCorpus, makeHostileCorpus, malformedReferences} from '../../scripts/make-hostile-corpus.js'
import {repoRoot, runCli} from '../support/cli.js'
import {MediaTypes, type PushedFixture, pushFixture, sha256} from '../support/fixtures.js'
import {type FaultProxy, startProxy} from '../support/proxy.js'
import {type RunningRegistry, startRegistry} from '../support/registry.js'
import {type TmpDir, tmpDir} from '../support/tmp.js'

function assertOneLine(stderr: string, pattern: RegExp = /./): void {
  const lines = stderr.split('\n').filter((l) => l !== '')
  assert.equal(lines.length, 1, `expected one line, got:\n${stderr}`)
  assert.match(lines[0], /^Error: /)
  assert.doesNotMatch(stderr, /\n\s+at /)
  assert.match(lines[0], pattern)
}

/** listing of every path under dir (relative), to prove nothing appeared outside an output */
async function snapshot(dir: string): Promise<string[]> {
  const out: string[] = []
  for (const e of await fsp.readdir(dir, {recursive: true, withFileTypes: true})) out.push(path.relative(dir, path.join(e.parentPath ?? (e as unknown as {path: string}).path, e.name)))
  return out.sort()
}

/** run commands in batches of n at once */
async function inBatches<T>(items: T[], n: number, fn: (x: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += n) await Promise.all(items.slice(i, i + n).map(fn))
}

describe('hostile input: references', () => {
  it(`${malformedReferences.length} malformed references are each exit 2 in one line`, async () => {
    assert.ok(malformedReferences.length >= 50)
    const failures: string[] = []
    await inBatches(malformedReferences, 8, async (ref) => {
      const r = await runCli(['digest', ref])
      const lines = r.stderr.split('\n').filter((l) => l !== '')
      if (r.code !== 2 || lines.length !== 1 || !lines[0].startsWith('Error: ') || /\n\s+at /.test(r.stderr)) failures.push(`${JSON.stringify(ref)}: exit ${r.code}: ${r.stderr}`)
    })
    assert.deepEqual(failures, [])
  })
})

describe('hostile input: manifests from the registry', () => {
  let reg: RunningRegistry
  let proxy: FaultProxy
  let tmp: TmpDir
  let img: PushedFixture
  before(async () => {
    ;[reg, tmp] = await Promise.all([startRegistry({flavour: 'plain'}), tmpDir('hostile-manifests')])
    img = await pushFixture(reg, 'h/app:v1', 'oci', 'hostile')
    proxy = await startProxy({upstream: reg.url})
  })
  after(async () => {
    await proxy?.stop()
    await reg?.stop()
    await tmp?.remove()
  })

  const cases: Array<{name: string; body: () => Buffer; contentType?: string; codes: number[]; pattern: RegExp; commands?: string[]}> = [
    {name: 'not JSON', body: () => Buffer.from('this is not json {'), codes: [5, 6], pattern: /JSON|manifest/i},
    {name: 'JSON of the wrong shape (an array)', body: () => Buffer.from('[1,2,3]'), codes: [5, 6], pattern: /manifest/i},
    {name: 'JSON of the wrong shape (layers is a string)', body: () => Buffer.from(JSON.stringify({schemaVersion: 2, mediaType: MediaTypes.ociManifest, config: {mediaType: MediaTypes.ociConfig, size: 2, digest: sha256('{}')}, layers: 'nope'})), codes: [5, 6], pattern: /manifest|layers/i},
    {name: 'an unknown media type', body: () => Buffer.from(JSON.stringify({...JSON.parse(img.manifestBytes.toString()), mediaType: 'application/x-hostile'})), contentType: 'application/x-hostile', codes: [2, 5, 6], pattern: /media type|x-hostile/i, commands: ['pull']},
    {name: 'a 10 MiB manifest', body: () => Buffer.from(JSON.stringify({schemaVersion: 2, mediaType: MediaTypes.ociManifest, pad: 'x'.repeat(10 * 1024 * 1024)})), codes: [5, 6], pattern: /larger|limit|too large/i},
  ]
  for (const c of cases) {
    it(`a manifest that is ${c.name} is refused in one line by manifest-reading commands`, async () => {
      const body = c.body()
      proxy.clearFaults()
      proxy.addFault({match: {method: 'GET', path: '/manifests/v1'}, action: {kind: 'replace', body, headers: {'docker-content-digest': sha256(body), 'content-type': c.contentType ?? MediaTypes.ociManifest}}})
      const dir = path.join(tmp.path, c.name.replace(/\W+/g, '-'))
      await fsp.mkdir(dir)
      for (const args of [['pull', `${proxy.host}/h/app:v1`, path.join(dir, 'out.tar')], ['config', `${proxy.host}/h/app:v1`], ['pull', `${proxy.host}/h/app:v1`, path.join(dir, 'layout'), '--format', 'oci']].filter((a) => !c.commands || c.commands.includes(a[0]))) {
        const r = await runCli(args, {env: {OCITOOL_RETRY_BASE_MS: '10'}})
        assert.ok(c.codes.includes(r.code), `${args[0]}: exit ${r.code}: ${r.stderr}`)
        assertOneLine(r.stderr, c.pattern)
      }
      proxy.clearFaults()
      assert.deepEqual(await fsp.readdir(dir), [], 'no output')
    })
  }

  it('an index that lists itself is refused, not followed forever', async () => {
    // A document cannot contain its own digest, so the loop goes through the tag: the index names
    // a child digest X, and the proxy answers for X with the index again.
    const child = `sha256:${'1'.repeat(64)}`
    const index = Buffer.from(JSON.stringify({schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests: [{mediaType: MediaTypes.ociIndex, size: 0, digest: child}]}))
    const sized = Buffer.from(JSON.stringify({schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests: [{mediaType: MediaTypes.ociIndex, size: index.length, digest: sha256(index)}]}))
    // the tag serves `sized`, which names `index`'s digest; that digest serves `sized` again
    // (bytes that do not match: exit 6) — and a truly self-consistent loop is served too: the tag and
    // the digest both answer with `sized` and claim its digest.
    proxy.clearFaults()
    proxy.addFault({match: {path: /\/manifests\//}, action: {kind: 'status', status: 200, body: sized, headers: {'docker-content-digest': sha256(sized), 'content-type': MediaTypes.ociIndex}}})
    const dir = path.join(tmp.path, 'self-index')
    await fsp.mkdir(dir)
    const started = Date.now()
    const r = await runCli(['copy', `${proxy.host}/h/app:v1`, `oci:${path.join(dir, 'layout')}`, '--all-tags'].slice(0, 3), {env: {OCITOOL_RETRY_BASE_MS: '10'}, timeoutMs: 30_000})
    proxy.clearFaults()
    assert.ok(Date.now() - started < 25_000, 'finished')
    assert.ok([1, 2, 5, 6].includes(r.code), `exit ${r.code}: ${r.stderr}`)
    assertOneLine(r.stderr)
    assert.deepEqual((await fsp.readdir(dir)).filter((n) => n !== 'layout'), [])
  })
})

describe('hostile input: archives and directories', () => {
  let tmp: TmpDir
  let corpus: HostileCorpus
  let work: string
  before(async () => {
    tmp = await tmpDir('hostile-archives')
    corpus = await makeHostileCorpus(path.join(tmp.path, 'corpus'))
    work = path.join(tmp.path, 'work')
    await fsp.mkdir(work)
  })
  after(async () => tmp?.remove())

  /** runs a command in its own empty dir under work; asserts that only `allowed` appeared, and nothing outside */
  async function contained(name: string, args: (dir: string) => string[], allowed: string[] = []) {
    const dir = path.join(work, name)
    await fsp.mkdir(dir)
    const corpusBefore = await snapshot(corpus.dir)
    const tmpBefore = await snapshot(tmp.path)
    const r = await runCli(args(dir), {cwd: dir})
    assert.deepEqual(await snapshot(corpus.dir), corpusBefore, 'nothing written into the corpus')
    const created = (await snapshot(tmp.path)).filter((p) => !tmpBefore.includes(p))
    for (const p of created) assert.ok(p.startsWith(path.join('work', name)), `written outside the output: ${p}`)
    const left = (await fsp.readdir(dir)).sort()
    assert.ok(left.every((n) => allowed.includes(n)), `unexpected files ${left.join(', ')}`)
    return {r, dir}
  }

  for (const [cmd, args] of [
    ['export', (d: string) => ['export', `docker-archive:${corpus.traversal}`, path.join(d, 'fs.tar')]],
    ['flatten --filesystem', (d: string) => ['flatten', '--tarball', corpus.traversal, '--filesystem', path.join(d, 'fs.tar'), '--metadata', path.join(d, 'config.json')]],
  ] as const) {
    it(`${cmd} of a layer with ../, absolute paths and symlinks out of the tree refuses it in one line, writing nothing`, async () => {
      const {r, dir} = await contained(cmd.replace(/\W+/g, '-'), args)
      assert.equal(r.code, 1, r.stderr)
      assertOneLine(r.stderr, /outside the image root/)
      assert.deepEqual(await fsp.readdir(dir), [])
    })
  }

  it('append of a directory with symlinks to outside stores them as links, never following them', async () => {
    const {r, dir} = await contained('append-symlinks', (d) => ['append', '-f', corpus.symlinkDir, '-t', 'hostile/app:v1', '-o', path.join(d, 'out.tar')], ['out.tar'])
    assert.equal(r.code, 0, r.stderr)
    // unpack the docker archive with the system tar and list its layer (verbose: types and link targets)
    const unpacked = path.join(tmp.path, 'append-unpacked')
    await fsp.mkdir(unpacked)
    execFileSync('tar', ['-xf', path.join(dir, 'out.tar'), '-C', unpacked])
    const secret = await fsp.readFile(corpus.outsideFile)
    let layers = 0
    for (const name of await fsp.readdir(unpacked)) {
      if (!/\.tar(\.gz)?$/.test(name)) continue
      layers++
      const file = path.join(unpacked, name)
      const data = await fsp.readFile(file)
      const raw = data[0] === 0x1f && data[1] === 0x8b ? gunzipSync(data) : data
      assert.ok(!raw.includes(secret), 'the symlink target was not packed')
      const listing = execFileSync('tar', ['-tvf', '-'], {input: raw}).toString()
      assert.match(listing, new RegExp(`^l.*abs-link -> ${corpus.outsideFile.replace(/[.]/g, '\\.')}$`, 'm'), listing)
      assert.match(listing, /^l.*rel-link -> \.\.\/outside-secret\.txt$/m, listing)
      assert.match(listing, /^-.*inside\.txt$/m, listing)
    }
    assert.equal(layers, 1, 'one layer')
  })

  it('export of a gzip bomb (1 GiB of zeros in ~1 MiB) streams with bounded memory', async () => {
    const env = {...process.env, NO_COLOR: '1', NODE_OPTIONS: `--require ${path.join(repoRoot, 'test', 'support', 'offline-dns.cjs')}`}
    const r = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, path.join(repoRoot, 'bin', 'run.js'), 'export', `docker-archive:${corpus.bomb}`, '-'], {env, stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000})
    const stderr = r.stderr.toString()
    assert.equal(r.status, 0, stderr)
    const kib = Number(stderr.trim().split('\n').at(-1))
    assert.ok(kib > 0 && kib < 300 * 1024, `peak RSS ${kib} KiB`)
  })

  it('a tar entry with an 8 GiB size header is refused in one line, writing nothing', async () => {
    const {r, dir} = await contained('huge-size', (d) => ['export', `docker-archive:${corpus.hugeSize}`, path.join(d, 'fs.tar')])
    assert.ok([1, 6].includes(r.code), `exit ${r.code}: ${r.stderr}`)
    assertOneLine(r.stderr, /tar|truncated|end of data/i)
    assert.deepEqual(await fsp.readdir(dir), [])
  })

  it('a docker tarball whose manifest.json names files that are not there is exit 3 for export', async () => {
    const {r, dir} = await contained('dangling', (d) => ['export', `docker-archive:${corpus.dangling}`, path.join(d, 'fs.tar')])
    assert.equal(r.code, 3, r.stderr)
    assertOneLine(r.stderr, /missing-layer\.tar.*not in the archive/)
    assert.deepEqual(await fsp.readdir(dir), [])
  })
})
