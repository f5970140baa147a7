import {statSync} from 'node:fs'
import {UsageError} from '../errors.js'

/** checkCaFiles refuses CA files that are not readable files (`--ca-file`, DXF_TLSVERIFY), before any request. */
export function checkCaFiles(files: string[] | undefined, what: string): void {
  for (const f of files ?? []) {
    let ok = false
    try {
      ok = statSync(f).isFile()
    } catch {
      // reported below
    }
    if (!ok) throw new UsageError(`${what} ${f}: no such file`, {code: 'BAD_CA_FILE'})
  }
}
