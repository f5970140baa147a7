/**
 * stale-temps: temporary files (`.tmp-…`) that a killed writer left in a layout, and when it is
 * safe to remove them. A temporary name says who writes it: `.tmp-<host>.<pid>.<random>`, host
 * being a hash of the host name (see atomic.ts). One is stale when its writer is gone — the same
 * host, a pid that no longer runs, and untouched for STALE_AFTER_MS (a writer in another pid
 * namespace with the same host name would still be writing) — or when nothing touched it for a
 * day (other hosts sharing the directory, names without a writer). A live writer's file is never
 * stale: its pid runs, and its mtime moves while bytes arrive. Issue 12, item 8.
 */
import {createHash, randomBytes} from 'node:crypto'
import * as fsp from 'node:fs/promises'
import {hostname} from 'node:os'
import * as path from 'node:path'

let hostTagOf: string | undefined
/** hostTag: the host part of temporary names written by this process (hashed on first use: node:crypto loads then, not with every command) */
export function hostTag(): string {
  return (hostTagOf ??= createHash('sha256').update(hostname()).digest('hex').slice(0, 8))
}

/** a dead writer's file untouched this long is removed */
export const STALE_AFTER_MS = 30_000
/** a file of an unknown writer untouched this long is removed */
export const ABANDONED_AFTER_MS = 24 * 60 * 60 * 1000

/** writerName is the middle of a temporary name this process writes: `<host>.<pid>.` */
export function writerName(): string {
  return `${hostTag()}.${process.pid}.`
}

/** isStale decides for one temporary file name (without the prefix) and its mtime. */
export function isStale(rest: string, mtimeMs: number, now = Date.now(), alive: (pid: number) => boolean = pidRuns): boolean {
  const age = now - mtimeMs
  if (age >= ABANDONED_AFTER_MS) return true
  const m = /^([0-9a-f]{8})\.(\d+)\./.exec(rest)
  if (!m || m[1] !== hostTag()) return false
  const pid = Number(m[2])
  return pid !== process.pid && age >= STALE_AFTER_MS && !alive(pid)
}

/** pidRuns: whether a process with this pid exists here (EPERM: it does, owned by another user) */
export function pidRuns(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ESRCH'
  }
}

/**
 * removeStaleTemps removes the stale temporary files (names starting with `prefix`) directly in
 * each of `dirs`; returns how many. Best effort: a file that vanished or cannot be removed is
 * left to the next writer.
 */
export async function removeStaleTemps(dirs: string[], prefix: string): Promise<number> {
  let removed = 0
  const now = Date.now()
  for (const dir of dirs) {
    let names: string[]
    try {
      names = await fsp.readdir(dir)
    } catch {
      continue
    }
    for (const name of names) {
      if (!name.startsWith(prefix)) continue
      const file = path.join(dir, name)
      try {
        const st = await fsp.lstat(file)
        if (!st.isFile() || !isStale(name.slice(prefix.length), st.mtimeMs, now)) continue
        await fsp.rm(file, {force: true})
        removed++
      } catch {
        // gone meanwhile, or not ours to remove
      }
    }
  }
  return removed
}

/**
 * fileTempPath names the temporary file an output file (an archive, an export) is written to
 * before it is renamed into place: `FILE.tmp-<host>.<pid>.<random>`, beside it, naming its writer.
 */
export function fileTempPath(final: string): string {
  return `${final}.tmp-${writerName()}${randomBytes(6).toString('hex')}`
}

/**
 * openFileTemp creates the temporary file `final` is written to (`tmp`, else fileTempPath's
 * name; exclusively, so a bad directory fails here), after removing what killed writers of
 * `final` left beside it (`FILE.tmp-…` stale by isStale's rules; a live writer's file is kept).
 */
export async function openFileTemp(final: string, tmp = fileTempPath(final)): Promise<{path: string; handle: fsp.FileHandle}> {
  await removeStaleTemps([path.dirname(final)], `${path.basename(final)}.tmp-`)
  return {path: tmp, handle: await fsp.open(tmp, 'wx')}
}
