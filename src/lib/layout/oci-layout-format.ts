/**
 * oci-layout-format: the files of an OCI image layout directory, as image-spec
 * `image-layout.md` defines it: an `oci-layout` file (`{"imageLayoutVersion":"1.0.0"}`),
 * `index.json` (an image index whose entries are the layout's top-level manifests, named by
 * the `org.opencontainers.image.ref.name` annotation), and `blobs/<alg>/<hex>` for every blob
 * and manifest. `oci-layout-source.ts` and `oci-layout-sink.ts` read and write it.
 *
 * https://github.com/opencontainers/image-spec/blob/main/image-layout.md
 */
import * as path from 'node:path'

import {NotFoundError, OcitoolError} from '../errors.js'
import {parseDigest} from '../oci/digest.js'
import {parseManifest} from '../oci/manifest.js'
import type {Descriptor, ImageIndex} from '../oci/types.js'
import {dirState, readSmallFile} from './atomic.js'

/** REF_NAME_ANNOTATION names a top-level manifest in `index.json`. */
export const REF_NAME_ANNOTATION = 'org.opencontainers.image.ref.name'

/** LAYOUT_VERSION is the `imageLayoutVersion` this module writes (the only one the spec defines). */
export const LAYOUT_VERSION = '1.0.0'

/** LAYOUT_FILE, INDEX_FILE and BLOBS_DIR are the fixed names inside a layout. */
export const LAYOUT_FILE = 'oci-layout'
export const INDEX_FILE = 'index.json'
export const BLOBS_DIR = 'blobs'

/** blobPath returns `DIR/blobs/<alg>/<hex>`; an invalid digest is a UsageError (so no path escapes DIR). */
export function blobPath(dir: string, digest: string): string {
  const {algorithm, hex} = parseDigest(digest)
  return path.join(dir, BLOBS_DIR, algorithm, hex)
}

/** refNameOf returns a descriptor's `org.opencontainers.image.ref.name`, if any. */
export function refNameOf(desc: Descriptor): string | undefined {
  return desc.annotations?.[REF_NAME_ANNOTATION]
}

/**
 * CONTAINERD_NAME_ANNOTATION holds the full image name (`localhost/app:1`) in what `ctr images
 * export` writes, whose `ref.name` holds only the tag (`1`), as image-spec suggests.
 */
export const CONTAINERD_NAME_ANNOTATION = 'io.containerd.image.name'

/**
 * entriesNamed returns the index entries named `name`: by `ref.name` (as skopeo), else by
 * containerd's full image name, so `oci-archive:EXPORT.tar:localhost/app:1` picks one image of
 * a ctr export whose entries all have ref.name `1`.
 */
export function entriesNamed(manifests: readonly Descriptor[], name: string): Descriptor[] {
  const byRef = manifests.filter((d) => refNameOf(d) === name)
  return byRef.length > 0 ? byRef : manifests.filter((d) => d.annotations?.[CONTAINERD_NAME_ANNOTATION] === name)
}

/** namesIn lists the names entriesNamed accepts, once each, in index order (for error messages). */
export function namesIn(manifests: readonly Descriptor[]): string[] {
  const names = manifests.flatMap((d) => [refNameOf(d), d.annotations?.[CONTAINERD_NAME_ANNOTATION]])
  return [...new Set(names.filter((n): n is string => n !== undefined))]
}

/** layoutError is a layout that exists but cannot be used (bad index.json, bad oci-layout). Exit 1. */
export function layoutError(message: string, cause?: unknown): OcitoolError {
  return new OcitoolError(message, {code: 'BAD_LAYOUT', ...(cause === undefined ? {} : {cause})})
}

/**
 * readLayoutIndex reads and checks `DIR/index.json`. A missing directory or index.json is a
 * NotFoundError naming DIR; an index.json that is not an image index is a BAD_LAYOUT error.
 * Returns the parsed document (its unknown fields kept, so a sink can write them back).
 */
export async function readLayoutIndex(dir: string, what: string): Promise<ImageIndex> {
  const state = await dirState(dir)
  if (state === 'missing') throw new NotFoundError(`${what}: no such directory ${dir}`)
  if (state === 'notdir') throw new NotFoundError(`${what}: ${dir} is not a directory`)
  let bytes: Buffer
  try {
    bytes = await readSmallFile(path.join(dir, INDEX_FILE), what)
  } catch (e) {
    if (e instanceof NotFoundError) {
      throw new NotFoundError(`${what}: ${dir} is not an OCI image layout (it has no ${INDEX_FILE})`, {cause: e})
    }
    throw e
  }
  let parsed
  try {
    parsed = parseManifest(bytes)
  } catch (e) {
    throw layoutError(`${what}: ${path.join(dir, INDEX_FILE)}: ${(e as Error).message}`, e)
  }
  if (parsed.kind !== 'index') throw layoutError(`${what}: ${path.join(dir, INDEX_FILE)} is not an image index`)
  return parsed.manifest
}

/**
 * checkLayoutFile checks `DIR/oci-layout` when it exists: a layout of another major version
 * is refused rather than written into. Returns whether the file exists.
 */
export async function checkLayoutFile(dir: string, what: string): Promise<boolean> {
  let bytes: Buffer
  try {
    bytes = await readSmallFile(path.join(dir, LAYOUT_FILE), what)
  } catch (e) {
    if (e instanceof NotFoundError) return false
    throw e
  }
  let version: unknown
  try {
    version = (JSON.parse(bytes.toString('utf8')) as {imageLayoutVersion?: unknown}).imageLayoutVersion
  } catch (e) {
    throw layoutError(`${what}: ${path.join(dir, LAYOUT_FILE)} is not JSON`, e)
  }
  if (typeof version !== 'string' || !version.startsWith('1.')) {
    throw layoutError(`${what}: unsupported imageLayoutVersion ${JSON.stringify(version)} in ${path.join(dir, LAYOUT_FILE)} (want 1.x)`)
  }
  return true
}

/**
 * tagOfName returns the tag part of a name the engine gives a root: `v1` for `v1`, `repo:v1`
 * or `host:5000/repo:v1`; undefined for names without a tag (`host/repo`, `repo@sha256:…`).
 */
export function tagOfName(name: string): string | undefined {
  const at = name.indexOf('@')
  const base = at === -1 ? name : name.slice(0, at)
  const colon = base.lastIndexOf(':')
  const slash = base.lastIndexOf('/')
  if (colon > slash) return base.slice(colon + 1) || undefined
  if (slash === -1 && at === -1 && base !== '') return base
  return undefined
}

/**
 * AnnotateRef says what `org.opencontainers.image.ref.name` a root gets from the names the
 * engine passes: `tag` (default) keeps the tag of `registry/repo:tag` (what skopeo's
 * `oci:DIR:TAG` stores), `full` the whole name (crane `pull --format oci --annotate-ref`),
 * `none` no name.
 */
export type AnnotateRef = 'tag' | 'full' | 'none'

/** refNameFor maps a root's name to its `ref.name` under `mode`, or undefined for none. */
export function refNameFor(name: string, mode: AnnotateRef): string | undefined {
  if (mode === 'none') return undefined
  if (mode === 'full') return name
  return tagOfName(name)
}
