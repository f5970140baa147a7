/**
 * files: the small file-system moves the registry's storage is built from. Every write of
 * metadata goes to a fresh temporary name and is renamed into place, so a reader (or a
 * restart) sees the old content or the new, never half of it, and parallel writers of the
 * same name leave one whole file.
 */
import {randomUUID} from 'node:crypto'
import * as fsp from 'node:fs/promises'
import * as path from 'node:path'

/** isNotFound is true for ENOENT and ENOTDIR, the errors of a path that does not exist. */
export function isNotFound(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | undefined)?.code
  return code === 'ENOENT' || code === 'ENOTDIR'
}

/** atomicWrite writes data to file through a temporary file in tmpDir (same file system), then renames it. */
export async function atomicWrite(file: string, data: string | Uint8Array, tmpDir: string): Promise<void> {
  const tmp = path.join(tmpDir, `write-${randomUUID()}`)
  try {
    await fsp.writeFile(tmp, data)
    await fsp.mkdir(path.dirname(file), {recursive: true})
    await fsp.rename(tmp, file)
  } catch (e) {
    await fsp.rm(tmp, {force: true})
    throw e
  }
}

/** readText returns a file's content as UTF-8, or undefined when it does not exist. */
export async function readText(file: string): Promise<string | undefined> {
  try {
    return await fsp.readFile(file, 'utf8')
  } catch (e) {
    if (isNotFound(e)) return undefined
    throw e
  }
}

/** exists is true when path names a file or directory. */
export async function exists(p: string): Promise<boolean> {
  try {
    await fsp.stat(p)
    return true
  } catch (e) {
    if (isNotFound(e)) return false
    throw e
  }
}

/** listDir returns the entries of a directory, or [] when it does not exist. */
export async function listDir(dir: string): Promise<import('node:fs').Dirent[]> {
  try {
    return await fsp.readdir(dir, {withFileTypes: true})
  } catch (e) {
    if (isNotFound(e)) return []
    throw e
  }
}

/** removeFile deletes a file and answers whether it was there. */
export async function removeFile(file: string): Promise<boolean> {
  try {
    await fsp.unlink(file)
    return true
  } catch (e) {
    if (isNotFound(e)) return false
    throw e
  }
}
