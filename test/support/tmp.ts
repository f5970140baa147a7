// Temporary directories and last-resort cleanup for test support code.
//
// Everything registered here runs synchronously when the Node process exits (normally, or
// through SIGINT/SIGTERM/SIGHUP), so a crashed or interrupted test run leaves neither
// registries nor temp dirs behind. Tests should still clean up in `after()` hooks; this is
// the safety net.

import * as fs from 'node:fs'
import * as fsp from 'node:fs/promises'
import * as os from 'node:os'
import * as path from 'node:path'

type Cleanup = () => void

const cleanups = new Set<Cleanup>()
let installed = false

function runCleanups(): void {
  for (const fn of [...cleanups].reverse()) {
    cleanups.delete(fn)
    try {
      fn()
    } catch {
      // best effort: the process is going away
    }
  }
}

function install(): void {
  if (installed) return
  installed = true
  process.on('exit', runCleanups)
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    // Run the cleanups, then re-raise so the default behaviour (and exit status) is kept.
    process.once(sig, () => {
      runCleanups()
      process.kill(process.pid, sig)
    })
  }
}

/**
 * onExit registers a synchronous cleanup that runs when the process exits, and returns a
 * function that unregisters it (call that once you have cleaned up yourself).
 */
export function onExit(fn: Cleanup): () => void {
  install()
  cleanups.add(fn)
  return () => {
    cleanups.delete(fn)
  }
}

/** TmpDir is a fresh directory and a way to remove it early. */
export interface TmpDir {
  path: string
  remove(): Promise<void>
}

/**
 * tmpDir creates a fresh directory under os.tmpdir() named `ocitool-<prefix>-XXXXXX` and
 * removes it (recursively) at process exit unless `remove()` was called first.
 */
export async function tmpDir(prefix: string): Promise<TmpDir> {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), `ocitool-${prefix}-`))
  const unregister = onExit(() => fs.rmSync(dir, {recursive: true, force: true}))
  return {
    path: dir,
    async remove() {
      unregister()
      await fsp.rm(dir, {recursive: true, force: true})
    },
  }
}
