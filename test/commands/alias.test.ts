// Aliases against the real distribution registry: set (digests and files), get, list, delete
// (blobs stay), pull by @ALIAS, and `ocitool copy` copies an alias like any image. Aliases are
// python-dxf's Docker schema 2 manifests with octet-stream layers, which skopeo refuses to copy.
import assert from 'node:assert/strict'
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import {after, before, describe, it} from 'node:test'
import {runCli} from '../support/cli.js'
import {sha256} from '../support/fixtures.js'
import {type RunningRegistry, startRegistry} from '../support/registry.js'
import {tmpDir, type TmpDir} from '../support/tmp.js'

describe('alias', () => {
  let reg: RunningRegistry
  let work: TmpDir
  before(async () => {
    ;[reg, work] = await Promise.all([startRegistry({flavour: 'plain'}), tmpDir('alias')])
  })
  after(async () => {
    await reg?.stop()
    await work?.remove()
  })

  it('set, get, list, pull @ALIAS, copy, delete', async () => {
    const one = Buffer.from('first blob')
    const pushed = await runCli(['blob', 'push', `${reg.host}/store`, '-'], {input: one})
    assert.equal(pushed.code, 0, pushed.stderr)
    const d1 = pushed.stdout.trim()
    const file = path.join(work.path, 'second.txt')
    await fs.writeFile(file, 'second blob')
    const d2 = sha256(Buffer.from('second blob'))
    const set = await runCli(['alias', 'set', `${reg.host}/store`, 'dataset', d1, file])
    assert.equal(set.code, 0, set.stderr)
    assert.match(set.stdout, new RegExp(`^${reg.host}/store@sha256:[a-f0-9]{64}\\n$`))
    const get = await runCli(['alias', 'get', `${reg.host}/store`, 'dataset'])
    assert.equal(get.stdout, `${d1}\n${d2}\n`)
    await runCli(['alias', 'set', `${reg.host}/store`, 'other', d2])
    const list = await runCli(['alias', 'list', `${reg.host}/store`])
    assert.equal(list.stdout, 'dataset\nother\n')
    const pulled = await runCli(['blob', 'pull', `${reg.host}/store`, '@dataset'])
    assert.equal(pulled.code, 0, pulled.stderr)
    assert.equal(pulled.stdout, 'first blobsecond blob')
    const sizes = await runCli(['blob', 'size', `${reg.host}/store`, '@dataset'])
    assert.equal(sizes.stdout, `${one.length + 11}\n`, 'an alias\'s size is the sum of its blobs (as python-dxf prints it)')

    const dir = path.join(work.path, 'copied')
    const sk = await runCli(['copy', `${reg.host}/store:dataset`, `dir:${dir}`])
    assert.equal(sk.code, 0, sk.stderr)
    assert.equal(await fs.readFile(path.join(dir, d2.slice(7)), 'utf8'), 'second blob')

    const del = await runCli(['alias', 'delete', `${reg.host}/store`, 'dataset'])
    assert.equal(del.code, 0, del.stderr)
    assert.equal(del.stdout, `${d1}\n${d2}\n`, 'the hashes it pointed to')
    const gone = await runCli(['alias', 'get', `${reg.host}/store`, 'dataset'])
    assert.equal(gone.code, 3, gone.stderr)
    assert.equal(gone.stderr.trim().split('\n').length, 1)
    assert.equal((await runCli(['blob', 'size', `${reg.host}/store`, d1])).stdout, `${one.length}\n`, 'the blobs stay')
  })
})
