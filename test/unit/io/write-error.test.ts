// io/write-error.ts: the words for a file that could not be written, by the system's error code.
import assert from 'node:assert/strict'
import {tmpdir} from 'node:os'
import * as path from 'node:path'
import {describe, it} from 'node:test'
import {writeError} from '../../../src/lib/io/write-error.js'

const failure = (code: string, message = `${code}: failed`) => Object.assign(new Error(message), {code})

describe('writeError', () => {
  it('tells a missing directory from one that takes no new files', () => {
    assert.equal(writeError(path.join(tmpdir(), 'no-such-dir-ocitool', 'x.tar'), failure('ENOENT')).message, `writing ${path.join(tmpdir(), 'no-such-dir-ocitool', 'x.tar')}: no such directory`)
    assert.equal(writeError(path.join(tmpdir(), 'x.tar'), failure('ENOENT')).message, `writing ${path.join(tmpdir(), 'x.tar')}: its directory takes no new files`)
  })
  it('names permission and space, and keeps the system message otherwise', () => {
    assert.equal(writeError('a.tar', failure('EACCES')).message, 'writing a.tar: permission denied')
    assert.equal(writeError('a.tar', failure('EPERM')).message, 'writing a.tar: permission denied')
    assert.equal(writeError('a.tar', failure('ENOSPC')).message, 'writing a.tar: no space left on the device')
    const other = writeError('a.tar', failure('EISDIR', 'EISDIR: illegal operation on a directory'))
    assert.equal(other.message, 'writing a.tar: EISDIR: illegal operation on a directory')
    assert.equal(other.code, 'WRITE')
  })
})
