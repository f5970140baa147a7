// bin/fast-path.cjs: ocitool's own commands run without oclif's plugin discovery, and every
// answer (stdout, stderr, exit code) is the one oclif's own path gives (OCITOOL_NO_FAST_PATH=1):
// results, bad references, bad and unknown flags, missing arguments, --json, help, aliases,
// topics, global flags before the command, batch mode, unknown commands.
import assert from 'node:assert/strict'
import {readdir} from 'node:fs/promises'
import * as path from 'node:path'
import {after, before, describe, it} from 'node:test'
import {runCli, type CliOptions} from '../support/cli.js'
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

  async function same(args: string[], opts: CliOptions = {}) {
    const fast = await runCli(args, opts)
    const oclif = await runCli(args, {...opts, env: {...opts.env, OCITOOL_NO_FAST_PATH: '1'}})
    const show = `ocitool ${args.join(' ')}`
    assert.equal(fast.stdout, oclif.stdout, `${show}: stdout`)
    assert.equal(fast.stderr, oclif.stderr, `${show}: stderr`)
    assert.equal(fast.code, oclif.code, `${show}: exit code`)
    return fast
  }

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

  it('is the path taken (its compiled-code cache entries), and OCITOOL_NO_FAST_PATH=1 turns it off', async () => {
    const cache = await tmpDir('fast-path-cache')
    try {
      const entries = async () => (await readdir(path.join(cache.path, 'ocitool', 'v8'))).filter((n) => n.startsWith('oclif-core.cjs.'))
      assert.equal((await runCli(['digest', ref], {env: {XDG_CACHE_HOME: cache.path}})).code, 0)
      assert.deepEqual((await entries()).map((n) => n.split('.')[2]), ['fast'])
      assert.equal((await runCli(['digest', ref], {env: {XDG_CACHE_HOME: cache.path, OCITOOL_NO_FAST_PATH: '1'}})).code, 0)
      assert.deepEqual((await entries()).map((n) => n.split('.')[2]).sort(), ['fast', 'oclif'])
    } finally {
      await cache.remove()
    }
  })
})
