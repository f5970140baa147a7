/**
 * OciLayoutSink writes images into an OCI image layout (`oci:DIR[:TAG]`), creating it when
 * absent and adding to it otherwise: other entries of `index.json` stay, and a new root whose
 * name is already there replaces that entry (as `skopeo copy … oci:DIR:TAG` does).
 *
 * Blobs and manifests go to `blobs/<alg>/.tmp-<random>` and are renamed to `blobs/<alg>/<hex>`
 * when complete; a file there is content-addressed, so one left by an aborted copy is harmless
 * and a later copy skips it; a temporary file a killed copy left is removed by the next write to
 * the layout once its writer is surely gone (stale-temps.ts). `index.json` (and `oci-layout`) change only in `commit()`, through
 * a temporary file and a rename, merged with the index.json on disk at that moment.
 */
import * as fsp from 'node:fs/promises'
import * as path from 'node:path'
import type {Readable} from 'node:stream'

import {NotFoundError, OcitoolError, UsageError} from '../errors.js'
import {parseDigest, verifyBytes} from '../oci/digest.js'
import {MediaType} from '../oci/media-types.js'
import type {Descriptor, ImageIndex} from '../oci/types.js'
import type {ManifestBytes, PutManifestOptions, Sink} from '../stores/types.js'
import {TEMP_PREFIX, TempFiles, dirState, fileSize, putStream} from './atomic.js'
import {removeStaleTemps} from './stale-temps.js'
import {
  BLOBS_DIR, INDEX_FILE, LAYOUT_FILE, LAYOUT_VERSION, REF_NAME_ANNOTATION,
  type AnnotateRef, blobPath, checkLayoutFile, layoutError, readLayoutIndex, refNameOf, tagOfName,
} from './oci-layout-format.js'

export type {AnnotateRef} from './oci-layout-format.js'

export interface OciLayoutSinkOptions {
  /** name every root this (`oci:DIR:TAG`); then the source may have only one root */
  tag?: string | undefined
  annotateRef?: AnnotateRef | undefined
}

interface RootEntry {
  desc: Descriptor
  /** ref names to record; empty: one entry without a name */
  names: string[]
}

// Commits to the same directory from this process run one at a time, so neither loses the
// other's entries. (Two processes committing at the same instant can still race.)
const commitLocks = new Map<string, Promise<void>>()

export class OciLayoutSink implements Sink {
  readonly description: string
  private readonly tag: string | undefined
  private readonly annotateRef: AnnotateRef
  private readonly temp: TempFiles
  private readonly roots = new Map<string, RootEntry>()
  private readonly algDirs = new Map<string, Promise<unknown>>()
  private ready: Promise<void> | undefined
  /** what init made for a layout that did not exist yet (abort removes it) */
  private created: string | undefined
  private state: 'open' | 'committed' | 'aborted' = 'open'

  constructor(
    readonly dir: string,
    options: OciLayoutSinkOptions = {},
  ) {
    this.tag = options.tag
    this.annotateRef = options.annotateRef ?? 'tag'
    this.description = `oci:${dir}${this.tag === undefined ? '' : `:${this.tag}`}`
    this.temp = new TempFiles(this.description)
  }

  async hasBlob(desc: Descriptor): Promise<boolean> {
    await this.init()
    return (await fileSize(blobPath(this.dir, desc.digest))) === desc.size
  }

  async putBlob(desc: Descriptor, data: Readable): Promise<void> {
    await putStream(
      data,
      async () => {
        await this.init()
        await this.algDir(desc.digest)
      },
      () => this.temp.writeStream(blobPath(this.dir, desc.digest), data, desc.size),
    )
  }

  async putManifest(manifest: ManifestBytes, options: PutManifestOptions): Promise<void> {
    await this.init()
    verifyBytes(manifest.bytes, manifest.digest, `${this.description}: manifest ${manifest.digest}`)
    const final = blobPath(this.dir, manifest.digest)
    if ((await fileSize(final)) !== manifest.bytes.byteLength) {
      await this.algDir(manifest.digest)
      await this.temp.writeBytes(final, manifest.bytes)
    }
    if (options.root) this.addRoot(manifest, options.names)
  }

  async commit(): Promise<void> {
    if (this.state === 'committed') return
    if (this.state === 'aborted') throw new OcitoolError(`${this.description}: commit after abort`, {code: 'STORE_CLOSED'})
    await this.init()
    const key = path.resolve(this.dir)
    const previous = commitLocks.get(key) ?? Promise.resolve()
    const mine = previous.then(() => this.writeIndex())
    const settled = mine.catch(() => {})
    commitLocks.set(key, settled)
    try {
      await mine
    } finally {
      if (commitLocks.get(key) === settled) commitLocks.delete(key)
    }
    this.state = 'committed'
    this.temp.close()
  }

  async abort(): Promise<void> {
    if (this.state === 'committed') return
    this.state = 'aborted'
    await this.temp.abort()
    // a layout this copy began has no index.json yet: remove it rather than leave half of one
    if (this.created !== undefined) await fsp.rm(this.created, {recursive: true, force: true}).catch(() => {})
  }

  /** checks an existing layout once, before the first byte is written, and makes blobs/ */
  private init(): Promise<void> {
    this.ready ??= (async () => {
      const state = await dirState(this.dir)
      if (state === 'notdir') throw new UsageError(`${this.description}: ${this.dir} exists and is not a directory`)
      if (state === 'nonempty') {
        await checkLayoutFile(this.dir, this.description)
        await this.readIndexIfAny()
        await this.removeStaleTemps()
      }
      await fsp.mkdir(path.join(this.dir, BLOBS_DIR), {recursive: true})
      if (state === 'missing' || state === 'empty') this.created = state === 'missing' ? this.dir : path.join(this.dir, BLOBS_DIR)
    })()
    return this.ready
  }

  /** removes what killed writers left: `.tmp-*` in the layout and in blobs/<alg>/ (stale-temps.ts) */
  private async removeStaleTemps(): Promise<void> {
    const blobs = path.join(this.dir, BLOBS_DIR)
    const algs = await fsp.readdir(blobs, {withFileTypes: true}).catch(() => [])
    await removeStaleTemps([this.dir, ...algs.filter((d) => d.isDirectory()).map((d) => path.join(blobs, d.name))], TEMP_PREFIX)
  }

  private algDir(digest: string): Promise<unknown> {
    const {algorithm} = parseDigest(digest)
    let p = this.algDirs.get(algorithm)
    if (p === undefined) {
      p = fsp.mkdir(path.join(this.dir, BLOBS_DIR, algorithm), {recursive: true})
      this.algDirs.set(algorithm, p)
    }
    return p
  }

  private addRoot(manifest: ManifestBytes, engineNames: string[]): void {
    if (this.tag !== undefined && this.roots.size > 0 && !this.roots.has(manifest.digest)) {
      throw new UsageError(`${this.description}: the tag ${JSON.stringify(this.tag)} can name only one image, and the source has several`, {
        suggestions: ['leave out the tag to keep every image under its own name'],
      })
    }
    const names = this.refNames(engineNames)
    const entry = this.roots.get(manifest.digest)
    const desc: Descriptor = {mediaType: manifest.mediaType, digest: manifest.digest, size: manifest.bytes.byteLength}
    if (entry === undefined) this.roots.set(manifest.digest, {desc, names})
    else for (const n of names) if (!entry.names.includes(n)) entry.names.push(n)
  }

  private refNames(engineNames: string[]): string[] {
    if (this.annotateRef === 'none') return []
    if (this.tag !== undefined) return [this.tag]
    const names = this.annotateRef === 'full' ? engineNames : engineNames.map(tagOfName).filter((t): t is string => t !== undefined)
    return [...new Set(names)]
  }

  private async readIndexIfAny(): Promise<ImageIndex | undefined> {
    try {
      return await readLayoutIndex(this.dir, this.description)
    } catch (e) {
      if (e instanceof NotFoundError) return undefined
      throw e
    }
  }

  /** merges our roots into the index.json on disk now, then replaces it in one rename */
  private async writeIndex(): Promise<void> {
    const current = await this.readIndexIfAny()
    let manifests: Descriptor[] = [...(current?.manifests ?? [])]
    for (const {desc, names} of this.roots.values()) {
      if (names.length === 0) {
        // an unnamed root replaces an unnamed entry of the same digest
        manifests = manifests.filter((d) => !(d.digest === desc.digest && refNameOf(d) === undefined))
        manifests.push(desc)
        continue
      }
      for (const name of names) {
        manifests = manifests.filter((d) => refNameOf(d) !== name)
        manifests.push({...desc, annotations: {[REF_NAME_ANNOTATION]: name}})
      }
    }
    const index: ImageIndex = current === undefined
      ? {schemaVersion: 2, mediaType: MediaType.ociIndex, manifests}
      : {...current, manifests}
    if (!(await checkLayoutFile(this.dir, this.description))) {
      await this.temp.writeBytes(path.join(this.dir, LAYOUT_FILE), JSON.stringify({imageLayoutVersion: LAYOUT_VERSION}))
    }
    try {
      await this.temp.writeBytes(path.join(this.dir, INDEX_FILE), JSON.stringify(index))
    } catch (e) {
      throw layoutError(`${this.description}: writing ${INDEX_FILE}: ${(e as Error).message}`, e)
    }
  }
}
