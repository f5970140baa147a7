// bin/run.js run as users run it (its shebang line: `env -S` with glibc's malloc settings, then
// node), not through `node bin/run.js` as the other tests do: the line is honoured and commands
// work and fail as they do otherwise.
import assert from 'node:assert/strict'
import {execFile} from 'node:child_process'
import {readFileSync} from 'node:fs'
import * as path from 'node:path'
import {describe, it} from 'node:test'
import {promisify} from 'node:util'
import {repoRoot} from '../support/cli.js'

const run = promisify(execFile)
const bin = path.join(repoRoot, 'bin', 'run.js')

describe('bin/run.js through its shebang', () => {
  it('runs through env -S', async () => {
    const {stdout} = await run(bin, ['--version'])
    const {version} = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8'))
    assert.equal(stdout, `ocitool/${version} ${process.platform}-${process.arch} node-${process.version}\n`)
    const line = readFileSync(bin, 'utf8').split('\n')[0]
    assert.match(line, /^#!\/usr\/bin\/env -S (MALLOC_\w+=\d+ )+node$/)
    // kernels before 5.1 read only the first 128 bytes of a script: the whole line must fit
    assert.ok(Buffer.byteLength(`${line}\n`) <= 128, `${Buffer.byteLength(line)} bytes`)
  })

  it('a usage error exits 2 with one line', async () => {
    const r = await run(bin, ['digest', 'UPPER/Case:tag']).then(() => ({code: 0, stderr: ''}), (e: {code: number; stderr: string}) => e)
    assert.equal(r.code, 2, r.stderr)
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
  })
})
