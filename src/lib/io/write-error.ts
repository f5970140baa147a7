/**
 * write-error: why a file could not be written, in the words a user needs: a directory that is
 * not there, one that takes no new files (it exists, but creating one in it fails with ENOENT,
 * as in /proc), no permission, no space; otherwise the system's message.
 */
import {existsSync} from 'node:fs'
import * as path from 'node:path'

import {OcitoolError} from '../errors.js'

export function writeError(file: string, e: unknown): OcitoolError {
  const err = e as NodeJS.ErrnoException
  let why: string
  switch (err.code) {
    case 'ENOENT':
      why = existsSync(path.dirname(path.resolve(file))) ? 'its directory takes no new files' : 'no such directory'
      break
    case 'EACCES':
    case 'EPERM':
      why = 'permission denied'
      break
    case 'ENOSPC':
      why = 'no space left on the device'
      break
    default:
      why = err.message
  }
  return new OcitoolError(`writing ${file}: ${why}`, {code: 'WRITE', cause: e})
}
