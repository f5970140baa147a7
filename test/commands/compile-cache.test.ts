// bin/compile-cache.cjs: V8's compiled code of the bundles is kept between runs, a damaged
// entry is ignored and replaced, and OCITOOL_NO_COMPILE_CACHE turns it off.
import assert from 'node:assert/strict'
import {readFile, readdir, stat, writeFile} from 'node:fs/promises'
import * as path from 'node:path'
import {after, before, describe, it} from 'node:test'
import {runCli} from '../support/cli.js'
import {type TmpDir, tmpDir} from '../support/tmp.js'

const hasNativeCache = typeof (await import('node:module')).default.enableCompileCache === 'function'

describe('compiled-code cache', {skip: hasNativeCache && 'Node has module.enableCompileCache, used instead'}, () => {
  let cache: TmpDir
  const dir = () => path.join(cache.path, 'ocitool', 'v8')
  const entries = async () => (await readdir(dir()).catch(() => [])).filter((n) => n.endsWith('.bin')).sort()
  before(async () => {
    cache = await tmpDir('compile-cache')
  })
  after(() => cache?.remove())

  it('the first run writes an entry per bundle it loaded; the next run uses them and writes none', async () => {
    const first = await runCli(['version', '--json'], {env: {XDG_CACHE_HOME: cache.path}})
    assert.equal(first.code, 0, first.stderr)
    const written = await entries()
    assert.equal(written.length, 2, `oclif's bundle and the version command's: ${written.join(' ')}`)
    const bytes = await Promise.all(written.map((n) => readFile(path.join(dir(), n))))
    const second = await runCli(['version', '--json'], {env: {XDG_CACHE_HOME: cache.path}})
    assert.equal(second.code, 0, second.stderr)
    assert.equal(second.stdout, first.stdout)
    assert.deepEqual(await entries(), written)
    assert.deepEqual(await Promise.all(written.map((n) => readFile(path.join(dir(), n)))), bytes)
  })

  it("the quick path's entry is written once, also when runs alternate with lines it leaves to oclif (V8 flags differ there)", async () => {
    const own = await tmpDir('compile-cache-quick')
    try {
      const env = {XDG_CACHE_HOME: own.path, OCITOOL_RETRIES: '0'}
      const v8dir = path.join(own.path, 'ocitool', 'v8')
      const lean = async () => {
        const names = (await readdir(v8dir)).filter((n) => n.startsWith('lean.cjs.lean.'))
        assert.equal(names.length, 1, names.join(' '))
        return (await stat(path.join(v8dir, names[0]))).mtimeMs
      }
      // nothing listens on port 1: the quick path runs, fails with exit 5, and exits
      const quick = ['digest', '127.0.0.1:1/quick/app:1']
      assert.equal((await runCli(quick, {env})).code, 5)
      const written = await lean()
      for (const args of [quick, [...quick, '--json'], quick, ['version', '--json'], quick]) {
        await runCli(args, {env})
        assert.equal(await lean(), written, `after ocitool ${args.join(' ')}: the entry was written again (V8 refused it)`)
      }
    } finally {
      await own.remove()
    }
  })

  it('a damaged entry is refused by V8, compiled anew and replaced', async () => {
    const names = await entries()
    assert.ok(names.length > 0)
    for (const n of names) await writeFile(path.join(dir(), n), Buffer.from('not V8 code'))
    const r = await runCli(['version', '--json'], {env: {XDG_CACHE_HOME: cache.path}})
    assert.equal(r.code, 0, r.stderr)
    assert.equal(JSON.parse(r.stdout).version, JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')).version)
    for (const n of names) assert.notEqual((await readFile(path.join(dir(), n))).toString(), 'not V8 code', n)
  })

  it('OCITOOL_NO_COMPILE_CACHE=1 writes nothing', async () => {
    const empty = await tmpDir('compile-cache-off')
    try {
      const r = await runCli(['version'], {env: {XDG_CACHE_HOME: empty.path, OCITOOL_NO_COMPILE_CACHE: '1'}})
      assert.equal(r.code, 0, r.stderr)
      assert.deepEqual(await readdir(empty.path), [])
    } finally {
      await empty.remove()
    }
  })
})
