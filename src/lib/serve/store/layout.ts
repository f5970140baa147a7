/**
 * layout: the registry's storage directory as a marked store, so the server never creates,
 * adopts or deletes anything in a directory that is not its own (issue 12, item 1).
 *
 *   <root>/ocitool-registry.json   the marker, written first when the store is created
 *   <root>/blobs/                  content-addressed blobs (BlobStore)
 *   <root>/repositories/           links, manifests, tags, referrers (Repositories)
 *   <root>/uploads/                scratch: `upload-<uuid>` and `write-<uuid>` files only
 *
 * A missing or empty directory becomes a new store; a directory with the marker is opened;
 * a store of an earlier version (only `blobs/`, `repositories/` and `uploads/`, no marker) is
 * marked and opened. Anything else is refused with a UsageError. The scratch directory is
 * never removed recursively: only files with the server's own names are deleted.
 */
import type {Dirent} from 'node:fs'
import * as fsp from 'node:fs/promises'
import * as path from 'node:path'
import {UsageError} from '../../errors.js'
import {isNotFound} from './files.js'

/** MARKER is the file that makes a directory a store of this registry. */
export const MARKER = 'ocitool-registry.json'
/** SCRATCH is the store's directory for unfinished uploads and temporary writes. */
export const SCRATCH = 'uploads'

const MARKER_DOC = {layout: 'ocitool-registry', version: 1} as const
const STORE_ENTRIES = new Set([MARKER, 'blobs', 'repositories', SCRATCH])
const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'
/** OWN_FILE matches the names of the scratch files the server creates (and so may delete). */
export const OWN_FILE = new RegExp(`^(?:upload|write)-${UUID}$`)

/** Store is an opened storage directory. */
export interface Store {
  readonly root: string
  /** The scratch directory, on the same file system as the blobs. */
  readonly scratch: string
}

/**
 * openStore opens (or creates) the store at root and removes the scratch files an earlier
 * run left behind. It throws UsageError for a path that is not a directory, a non-empty
 * directory that is not a store, or a marker this version does not read.
 */
export async function openStore(root: string): Promise<Store> {
  const refuse = (why: string) => new UsageError(`registry storage ${root} ${why}`, {suggestions: ['give --disk a new or empty directory, or one this registry created']})
  let entries: Dirent[]
  try {
    entries = await fsp.readdir(root, {withFileTypes: true})
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOTDIR') throw refuse('is not a directory')
    if (!isNotFound(e)) throw e
    await fsp.mkdir(root, {recursive: true})
    entries = []
  }
  const names = new Set(entries.map((e) => e.name))
  if (names.has(MARKER)) {
    await checkMarker(path.join(root, MARKER), refuse)
  } else if (entries.length > 0 && !isLegacyStore(entries)) {
    throw refuse(`is not empty and is not a registry store (it has no ${MARKER})`)
  } else {
    await fsp.writeFile(path.join(root, MARKER), `${JSON.stringify(MARKER_DOC)}\n`, {flag: 'wx'}).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'EEXIST') throw e // another server created the store at the same moment
    })
  }
  const scratch = path.join(root, SCRATCH)
  await fsp.mkdir(path.join(root, 'blobs'), {recursive: true})
  await fsp.mkdir(path.join(root, 'repositories'), {recursive: true})
  await fsp.mkdir(scratch, {recursive: true})
  await sweepScratch(scratch)
  return {root, scratch}
}

/** isLegacyStore is true for the layout of earlier versions: `blobs/` and `repositories/` (and `uploads/`), nothing else. */
function isLegacyStore(entries: Dirent[]): boolean {
  const dirs = new Set(entries.filter((e) => e.isDirectory()).map((e) => e.name))
  return entries.every((e) => e.isDirectory() && STORE_ENTRIES.has(e.name)) && dirs.has('blobs') && dirs.has('repositories')
}

async function checkMarker(file: string, refuse: (why: string) => UsageError): Promise<void> {
  let doc: unknown
  try {
    doc = JSON.parse(await fsp.readFile(file, 'utf8'))
  } catch {
    throw refuse(`has a ${MARKER} that is not a registry marker`)
  }
  const d = doc as {layout?: unknown; version?: unknown} | null
  if (d?.layout !== MARKER_DOC.layout) throw refuse(`has a ${MARKER} that is not a registry marker`)
  if (d.version !== MARKER_DOC.version) throw refuse(`is a store of version ${String(d.version)}, which this ocitool does not read`)
}

/** sweepScratch deletes the server's own files (by name) in the scratch directory, and nothing else. */
export async function sweepScratch(scratch: string): Promise<void> {
  let entries: Dirent[]
  try {
    entries = await fsp.readdir(scratch, {withFileTypes: true})
  } catch (e) {
    if (isNotFound(e)) return
    throw e
  }
  for (const e of entries) {
    if (e.isFile() && OWN_FILE.test(e.name)) await fsp.rm(path.join(scratch, e.name), {force: true})
  }
}
