/**
 * stdinFile: `-` as an input archive. Archives are read by random access (a docker archive's
 * manifest.json may come after its layers), so standard input is copied once to a private
 * temporary file, which is removed when the process exits. Every `-` in one run reads that file.
 */
import {mkdtempSync, rmSync} from 'node:fs'
import {createWriteStream} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import type {Readable} from 'node:stream'
import {pipeline} from 'node:stream/promises'

import {UsageError} from '../errors.js'

let spooled: Promise<string> | undefined

/** stdinFile returns the path of a file holding all of stdin (`stdin` for tests). */
export function stdinFile(stdin: Readable = process.stdin): Promise<string> {
  spooled ??= spool(stdin)
  return spooled
}

async function spool(stdin: Readable): Promise<string> {
  if ((stdin as {isTTY?: boolean}).isTTY) throw new UsageError('- reads an archive from stdin, and stdin is a terminal; pipe one in or name a file')
  const dir = mkdtempSync(join(tmpdir(), 'ocitool-stdin-'))
  process.once('exit', () => rmSync(dir, {recursive: true, force: true}))
  const file = join(dir, 'stdin.tar')
  await pipeline(stdin, createWriteStream(file, {mode: 0o600}))
  return file
}
