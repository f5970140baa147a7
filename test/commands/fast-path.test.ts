// bin/fast-path.cjs: ocitool's own commands run without oclif's plugin discovery, and every
// answer (stdout, stderr, exit code) is the one oclif's own path gives (OCITOOL_NO_FAST_PATH=1):
// results, bad references, bad and unknown flags, missing arguments, --json, help, aliases,
// topics, global flags before the command, batch mode, unknown commands.
import assert from 'node:assert/strict'
import {readdir, readFile, writeFile} from 'node:fs/promises'
import * as path from 'node:path'
import {after, before, describe, it} from 'node:test'
import {runCli, sameAnswers, type CliOptions} from '../support/cli.js'
import {pushFixture} from '../support/fixtures.js'
import {startRegistry, type RunningRegistry} from '../support/registry.js'
import {tmpDir} from '../support/tmp.js'

describe('fast path', () => {
  let reg: RunningRegistry
  let ref: string
  before(async () => {
    reg = await startRegistry({flavour: 'plain'})
    await pushFixture(reg, 'fast/app:1', 'oci', 'fast-path')
    ref = `${reg.host}/fast/app:1`
  })
  after(() => reg?.stop())

  const same = (args: string[], opts: CliOptions = {}) => sameAnswers(args, {OCITOOL_NO_FAST_PATH: '1'}, opts)

  it('answers as oclif does for results and --json', async () => {
    const digest = await same(['digest', ref])
    assert.equal(digest.code, 0, digest.stderr)
    assert.match(digest.stdout, /^sha256:[0-9a-f]{64}\n$/)
    assert.equal((await same(['digest', ref, '--json'])).code, 0)
    assert.equal((await same(['manifest', ref])).code, 0)
    assert.equal((await same(['config', ref])).code, 0)
    assert.equal((await same(['ls', `${reg.host}/fast/app`])).code, 0)
    assert.equal((await same(['--insecure', 'digest', ref, '--full-ref'])).code, 0, 'a global flag before the command')
    const batch = await same(['digest', '-'], {input: `${ref}\n${reg.host}/fast/app:missing\n`})
    assert.equal(batch.code, 3, batch.stderr)
    assert.match(batch.stdout, new RegExp(`^${ref} sha256:`))
  })

  it('answers as oclif does for bad input', async () => {
    assert.equal((await same(['digest', 'nope::'])).code, 2)
    assert.equal((await same(['digest', '--bogus', ref])).code, 2)
    assert.equal((await same(['digest', ref, '--platform'])).code, 2)
    assert.equal((await same(['digest'])).code, 2)
    assert.equal((await same(['cp'])).code, 2, 'an alias')
    assert.equal((await same(['blob', 'pull'])).code, 2, 'a command under a topic')
    assert.equal((await same(['tag', ref])).code, 2)
    assert.equal((await same(['manifest', `${reg.host}/fast/app:missing`])).code, 3)
  })

  it('leaves help, topics and unknown commands to oclif, with the same answers', async () => {
    const help = await same(['digest', '--help'])
    assert.equal(help.code, 0)
    assert.match(help.stdout, /USAGE/)
    assert.equal((await same(['digest', ref, '-h'])).code, 0)
    assert.equal((await same(['blob', 'pull', '--help'])).code, 0)
    assert.equal((await same(['auth'])).code, 0, 'a topic alone shows its help')
    const unknown = await same(['lss', ref])
    assert.equal(unknown.code, 2)
    assert.match(unknown.stderr, /did you mean "ls"/)
    assert.equal((await same(['version', '--json'])).code, 0)
  })

  it('loads no module a registry query does not use (child processes, TTY, fs/promises, crypto, zlib)', async () => {
    // every Node module the process loaded, written when it exits (a --require of the test's own)
    const dir = await tmpDir('fast-path-modules')
    try {
      const preload = path.join(dir.path, 'modules.cjs')
      const list = path.join(dir.path, 'modules.txt')
      await writeFile(preload, `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(list)}, process.moduleLoadList.join('\\n')))\n`)
      // manifest hashes the body it prints (node:crypto); digest reads the registry's header
      for (const args of [['digest', ref], ['manifest', ref], ['ls', `${reg.host}/fast/app`]]) {
        const r = await runCli(args, {env: {NODE_OPTIONS: `--require ${preload}`}})
        assert.equal(r.code, 0, r.stderr)
        const loaded = (await readFile(list, 'utf8')).split('\n').filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice(13))
        const needless = loaded.filter((m) => /^(child_process|tty|fs\/promises|zlib|readline|internal\/modules\/esm\/module_job)$/.test(m) || (m === 'crypto' && args[0] !== 'manifest'))
        assert.deepEqual(needless, [], `ocitool ${args[0]} loaded ${needless.join(', ')}`)
        assert.ok(loaded.includes('http'), `ocitool ${args[0]}: the list is the real one (http is in it)`)
      }
    } finally {
      await dir.remove()
    }
  })

  it('is the path taken (its compiled-code cache entries), and OCITOOL_NO_FAST_PATH=1 turns it off', async () => {
    const cache = await tmpDir('fast-path-cache')
    try {
      const entries = async () => (await readdir(path.join(cache.path, 'ocitool', 'v8'))).filter((n) => n.startsWith('oclif-core.cjs.'))
      assert.equal((await runCli(['inspect', ref], {env: {XDG_CACHE_HOME: cache.path}})).code, 0)
      assert.deepEqual((await entries()).map((n) => n.split('.')[2]), ['fast'])
      assert.equal((await runCli(['inspect', ref], {env: {XDG_CACHE_HOME: cache.path, OCITOOL_NO_FAST_PATH: '1'}})).code, 0)
      assert.deepEqual((await entries()).map((n) => n.split('.')[2]).sort(), ['fast', 'oclif'])
    } finally {
      await cache.remove()
    }
  })
})
