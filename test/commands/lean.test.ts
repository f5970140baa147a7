// The quick path (src/lib/cli/lean.ts, dist/lean.cjs): `digest IMAGE`, `manifest IMAGE`,
// `config IMAGE`, `ls REPO`, `blob REPO@DIGEST`, `export IMAGE FILE`, and `copy SRC DST` and `flatten IMAGE [-t DST]` without a terminal,
// answered without oclif. Every answer (stdout, stderr, exit code) equals oclif's path
// (OCITOOL_NO_LEAN=1) on the real registry: results, indexes by platform, tags and their
// options, a missing manifest, bad names, credentials (refused, from the Docker config), TLS
// with --ca-file, a missing CA file. Command lines it does not take go to oclif, checked on the
// compiled-code cache's entries (the variant word names the path a run took).
import assert from 'node:assert/strict'
import {mkdir, readFile, readdir, rm, stat, writeFile} from 'node:fs/promises'
import * as path from 'node:path'
import {after, before, describe, it} from 'node:test'
import {runCli, sameAnswers, type CliOptions} from '../support/cli.js'
import {pushFixture} from '../support/fixtures.js'
import {startRegistry, type RunningRegistry} from '../support/registry.js'
import {tmpDir} from '../support/tmp.js'

describe('quick path (digest, manifest, config, ls, blob, export, copy, flatten)', () => {
  let reg: RunningRegistry
  let basic: RunningRegistry
  let tls: RunningRegistry
  let ref: string
  let index: string
  before(async () => {
    ;[reg, basic, tls] = await Promise.all([startRegistry({flavour: 'plain'}), startRegistry({flavour: 'basic'}), startRegistry({flavour: 'tls'})])
    await pushFixture(reg, 'quick/app:1', 'oci', 'lean-1')
    await pushFixture(reg, 'quick/app:2', 'docker', 'lean-2')
    await pushFixture(reg, 'quick/multi:1', 'index', 'lean-index')
    ref = `${reg.host}/quick/app:1`
    index = `${reg.host}/quick/multi:1`
  })
  after(async () => {
    await Promise.all([reg?.stop(), basic?.stop(), tls?.stop()])
  })

  const same = (args: string[], opts: CliOptions = {}) => sameAnswers(args, {OCITOOL_NO_LEAN: '1'}, opts)

  it('answers digest as oclif does: results, --full-ref, --platform, a missing tag, bad names', async () => {
    const d = await same(['digest', ref])
    assert.equal(d.code, 0, d.stderr)
    assert.match(d.stdout, /^sha256:[0-9a-f]{64}\n$/)
    const full = await same(['digest', ref, '--full-ref'])
    assert.equal(full.stdout, `${reg.host}/quick/app@${d.stdout.trim()}\n`)
    const child = await same(['digest', index, '--platform', 'linux/arm64'])
    assert.equal(child.code, 0, child.stderr)
    assert.notEqual(child.stdout, (await same(['digest', index])).stdout, 'the child is not the index')
    assert.equal((await same(['digest', `--platform=linux/amd64`, index])).code, 0)
    assert.equal((await same(['digest', index, '--platform', 'plan9/mips'])).code, 3, 'no such platform')
    assert.equal((await same(['digest', index, '--platform', '///'])).code, 2, 'a bad platform (oclif words it)')
    const missing = await same(['digest', `${reg.host}/quick/app:nope`])
    assert.equal(missing.code, 3)
    assert.match(missing.stderr, /^Error: .*not found/)
    assert.equal((await same(['digest', 'Bad::Name'])).code, 2)
    assert.equal((await same(['digest', `${reg.host}/quick/app@sha256:${'0'.repeat(64)}`])).code, 3)
    assert.equal((await same(['digest', '127.0.0.1:1/quick/app:1'], {env: {OCITOOL_RETRIES: '0'}})).code, 5, 'nothing listens there')
  })

  it('answers manifest and config as oclif does: the bytes, --platform, a missing tag, bad names', async () => {
    for (const cmd of ['manifest', 'config']) {
      const r = await same([cmd, ref])
      assert.equal(r.code, 0, r.stderr)
      assert.ok(JSON.parse(r.stdout), `${cmd}: a JSON document`)
      assert.equal((await same([cmd, index, '--platform', 'linux/arm64'])).code, 0)
      assert.equal((await same([cmd, index, '--platform=plan9/mips'])).code, 3)
      assert.equal((await same([cmd, `${reg.host}/quick/app:nope`])).code, 3)
      assert.equal((await same([cmd, 'Bad::Name'])).code, 2)
    }
    assert.match((await same(['manifest', index])).stdout, /"manifests"/, 'an index as it is')
  })

  it('answers ls as oclif does: tags, --full-ref, -O, --max-pages, a missing repository', async () => {
    const tags = await same(['ls', `${reg.host}/quick/app`])
    assert.deepEqual(tags.stdout.split('\n').sort(), ['', '1', '2'])
    const full = await same(['ls', `${reg.host}/quick/app`, '--full-ref', '-O'])
    assert.deepEqual(full.stdout.split('\n').sort(), ['', `${reg.host}/quick/app:1`, `${reg.host}/quick/app:2`])
    assert.equal((await same(['ls', `${reg.host}/quick/app`, '--max-pages', '0'])).code, 0)
    assert.equal((await same(['ls', `${reg.host}/quick/none`])).code, 3)
    assert.equal((await same(['ls', `${reg.host}/quick/app:1`])).code, 2, 'a tag is not a repository')
  })

  it('copies as oclif does: the same image, an index whole, -j, and the same errors', async () => {
    const one = await same(['copy', ref, `${reg.host}/quick/copy:1`])
    assert.equal(one.code, 0, one.stderr)
    assert.match(one.stdout, new RegExp(`^${reg.host}/quick/copy@sha256:[0-9a-f]{64}\n$`))
    assert.equal((await runCli(['digest', `${reg.host}/quick/copy:1`])).stdout, (await runCli(['digest', ref])).stdout, 'the same manifest')
    assert.equal((await same(['cp', index, `${reg.host}/quick/copy:multi`, '-j', '2'])).code, 0, 'the alias, an index')
    const missing = await same(['copy', `${reg.host}/quick/app:nope`, `${reg.host}/quick/copy:2`])
    assert.equal(missing.code, 3)
    assert.equal((await runCli(['manifest', `${reg.host}/quick/copy:2`])).code, 3, 'nothing pushed')
    assert.equal((await same(['copy', ref, 'Bad::Name'])).code, 2)
    assert.equal((await same(['copy', ref])).code, 2, 'one argument')
    assert.equal((await same(['copy', ref, `${reg.host}/quick/copy:3`, '-j', '0'])).code, 2, 'a bad -j (oclif words it)')
  })

  it('flattens as oclif does: the same image pushed, by tag or by digest, and the same errors', async () => {
    const tagged = await same(['flatten', ref, '-t', `${reg.host}/quick/flat:1`])
    assert.equal(tagged.code, 0, tagged.stderr)
    assert.match(tagged.stdout, new RegExp(`^${reg.host}/quick/flat@sha256:[0-9a-f]{64}\n$`))
    assert.equal((await same(['flatten', index, '--tag', `${reg.host}/quick/flat:multi`, '-j', '2'])).code, 0)
    const byDigest = await same(['flatten', `${reg.host}/quick/app:2`])
    assert.match(byDigest.stdout, new RegExp(`^${reg.host}/quick/app@sha256:`))
    const missing = await same(['flatten', `${reg.host}/quick/app:nope`, '-t', `${reg.host}/quick/flat:2`])
    assert.equal(missing.code, 3)
    assert.equal((await runCli(['manifest', `${reg.host}/quick/flat:2`])).code, 3, 'nothing pushed')
    assert.equal((await same(['flatten', ref, '-t', 'Bad::Name'])).code, 2)
  })

  it('answers blob as oclif does: the exact bytes, and the same errors', async () => {
    const m = JSON.parse((await runCli(['manifest', ref])).stdout) as {config: {digest: string; size: number}; layers: Array<{digest: string; size: number}>}
    for (const d of [m.config, m.layers[0]]) {
      const b = await same(['blob', `${reg.host}/quick/app@${d.digest}`])
      assert.equal(b.code, 0, b.stderr)
      assert.equal(b.stdoutBytes.length, d.size)
    }
    assert.equal((await same(['blob', `${reg.host}/quick/app:1`])).code, 2, 'a tag names no blob')
    assert.equal((await same(['blob', `${reg.host}/quick/app@sha256:${'0'.repeat(64)}`])).code, 3, 'no such blob')
    assert.equal((await same(['blob', 'Bad::Name'])).code, 2)
  })

  it('exports as oclif does: the same tar to a file or stdout, --platform, and the same errors', async () => {
    const dir = await tmpDir('lean-export')
    try {
      const [quick, slow] = [path.join(dir.path, 'quick.tar'), path.join(dir.path, 'slow.tar')]
      const a = await runCli(['export', ref, quick])
      const b = await runCli(['export', ref, slow], {env: {OCITOOL_NO_LEAN: '1'}})
      assert.deepEqual([a.code, a.stdout, a.stderr], [0, '', ''], a.stderr)
      assert.deepEqual([b.code, b.stdout, b.stderr], [0, '', ''], b.stderr)
      const tar = await readFile(quick)
      assert.ok(tar.length > 1024, 'a tar with the image files')
      assert.ok(tar.equals(await readFile(slow)), 'the same tar both ways')
      const piped = await same(['export', ref, '-'])
      assert.equal(piped.code, 0, piped.stderr)
      assert.ok(piped.stdoutBytes.equals(tar), 'the same tar on stdout')
      const arm = await same(['export', index, '-', '--platform', 'linux/arm64'])
      assert.equal(arm.code, 0, arm.stderr)
      assert.ok(arm.stdoutBytes.equals((await same(['export', '--platform=linux/arm64', index, '-'])).stdoutBytes), 'either form of --platform')
      assert.equal((await same(['export', index, '-', '--platform', 'plan9/mips'])).code, 3, 'no such platform')
      const missing = path.join(dir.path, 'missing.tar')
      assert.equal((await same(['export', `${reg.host}/quick/app:nope`, missing])).code, 3)
      await assert.rejects(stat(missing), 'no file for a missing image')
      assert.equal((await same(['export', ref, path.join(dir.path, 'no/such/dir.tar')])).code, 1, 'a directory that is not there')
      assert.equal((await same(['export', 'Bad::Name', '-'])).code, 2)
      assert.equal((await same(['export', ref])).code, 2, 'one argument')
    } finally {
      await dir.remove()
    }
  })

  it('answers with credentials as oclif does: refused without them, accepted from the Docker config', async () => {
    const refused = await same(['digest', `${basic.host}/quick/app:1`])
    assert.equal(refused.code, 4, refused.stderr)
    const home = await tmpDir('lean-home')
    try {
      const docker = path.join(home.path, '.docker')
      await mkdir(docker)
      const auth = Buffer.from(`alice:${basic.users.alice}`).toString('base64')
      await writeFile(path.join(docker, 'config.json'), JSON.stringify({auths: {[basic.host]: {auth}}}))
      const env = {HOME: home.path, DOCKER_CONFIG: docker}
      const ok = await same(['ls', `${basic.host}/quick/none`], {env})
      assert.equal(ok.code, 3, `authenticated: the repository is missing, not the credentials (${ok.stderr})`)
    } finally {
      await home.remove()
    }
  })

  it('answers over TLS as oclif does: --ca-file trusted, a missing CA file refused', async () => {
    const r = await same(['ls', `${tls.host}/quick/none`, '--ca-file', tls.caFile!])
    assert.equal(r.code, 3, r.stderr)
    assert.notEqual((await same(['ls', `${tls.host}/quick/none`])).code, 0, 'an unknown CA')
    const bad = await same(['digest', ref, '--ca-file', '/nonexistent/ca.pem'])
    assert.equal(bad.code, 2)
    assert.match(bad.stderr, /--ca-file \/nonexistent\/ca\.pem: no such file/)
  })

  it('is the path taken for the lines it knows, and leaves the rest to oclif', async () => {
    const cache = await tmpDir('lean-cache')
    try {
      const env = {XDG_CACHE_HOME: cache.path}
      const variants = async () => {
        const names = await readdir(path.join(cache.path, 'ocitool', 'v8')).catch(() => [] as string[])
        await Promise.all(names.map((n) => rm(path.join(cache.path, 'ocitool', 'v8', n))))
        return [...new Set(names.map((n) => `${n.split('.')[0]}.${n.split('.')[2]}`))].sort()
      }
      assert.equal((await runCli(['digest', ref, '--insecure'], {env})).code, 0)
      assert.deepEqual(await variants(), ['lean.lean'], 'digest: the quick bundle only, no oclif')
      for (const args of [['ls', `${reg.host}/quick/app`], ['manifest', ref], ['config', ref]]) {
        assert.equal((await runCli(args, {env})).code, 0)
        assert.deepEqual(await variants(), ['lean.lean'], `ocitool ${args.join(' ')}`)
      }
      assert.equal((await runCli(['flatten', ref, '-t', `${reg.host}/quick/flat:path`], {env})).code, 0)
      assert.deepEqual(await variants(), ['lean.lean-moving'], 'flatten: the quick bundle, with the transfer flags')
      assert.equal((await runCli(['copy', ref, `${reg.host}/quick/copy:path`], {env})).code, 0)
      assert.deepEqual(await variants(), ['lean.lean-moving'], 'copy: the quick bundle, with the transfer flags')
      assert.equal((await runCli(['export', ref, '-'], {env})).code, 0)
      assert.deepEqual(await variants(), ['lean.lean-moving'], 'export: the quick bundle, with the transfer flags')
      const config = (JSON.parse((await runCli(['manifest', ref], {env})).stdout) as {config: {digest: string}}).config.digest
      await variants()
      assert.equal((await runCli(['blob', `${reg.host}/quick/app@${config}`], {env})).code, 0)
      assert.deepEqual(await variants(), ['lean.lean-moving'], 'blob: the quick bundle, with the transfer flags')
      for (const args of [['digest', ref, '--json'], ['digest', ref, '-v'], ['digest', ref, ref], ['ls', `${reg.host}/quick/app`, '--bogus']]) {
        await runCli(args, {env})
        assert.ok((await variants()).includes('oclif-core.lean'), `ocitool ${args.join(' ')} goes to oclif`)
      }
      assert.equal((await runCli(['digest', ref], {env: {...env, OCITOOL_NO_LEAN: '1'}})).code, 0)
      assert.deepEqual(await variants(), ['digest.fast', 'oclif-core.fast'])
    } finally {
      await cache.remove()
    }
  })
})
