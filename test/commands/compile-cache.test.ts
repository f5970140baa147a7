// bin/compile-cache.cjs: V8's compiled code of the bundles is kept between runs, a damaged
// entry is ignored and replaced, and OCITOOL_NO_COMPILE_CACHE turns it off.
import assert from 'node:assert/strict'
import {readFile, readdir, writeFile} from 'node:fs/promises'
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
