/**
 * DirSink writes one image or index in skopeo's `dir:` format. A `dir:` holds one root: a
 * second one is a UsageError. Like skopeo, it writes into a missing or empty directory, or
 * over a `dir:` image (one with a `version` file), and refuses any other non-empty directory.
 *
 * Blobs (`<hex>`) and child manifests (`<hex>.manifest.json`) are written through temporary
 * files as they come. `version` and `manifest.json` are written only in `commit()`, so an
 * aborted copy leaves an earlier image in the directory readable. After `manifest.json` is
 * replaced, files of the earlier image that the new one does not use are removed (skopeo
 * empties the directory when it starts instead, which loses the old image on failure).
 */
import * as fsp from 'node:fs/promises'
import * as path from 'node:path'
import type {Readable} from 'node:stream'

import {OcitoolError, UsageError} from '../errors.js'
import {digestOf, parseDigest, verifyBytes} from '../oci/digest.js'
import {childDescriptors, parseManifest, schema1BlobDigests} from '../oci/manifest.js'
import type {Descriptor} from '../oci/types.js'
import type {ManifestBytes, PutManifestOptions, Sink} from '../stores/types.js'
import {TempFiles, dirState, fileSize, isErrno, putStream} from './atomic.js'
import {
  DIR_MANIFEST_FILE, DIR_VERSION, DIR_VERSION_FILE, DIR_VERSION_PREFIX,
  classifyDirFile, dirBlobPath, dirManifestPath,
} from './dir-format.js'

export class DirSink implements Sink {
  readonly description: string
  private readonly temp: TempFiles
  private root: ManifestBytes | undefined
  /** hex digests the new image uses (its manifests and their children) */
  private readonly used = new Set<string>()
  /** false when a manifest could not be parsed: then nothing is cleaned up */
  private knowsAllFiles = true
  /** the digest of the manifest.json found when opening, if any */
  private previousTop: string | undefined
  private ready: Promise<void> | undefined
  private state: 'open' | 'committed' | 'aborted' = 'open'

  constructor(readonly dir: string) {
    this.description = `dir:${dir}`
    this.temp = new TempFiles(this.description)
  }

  async hasBlob(desc: Descriptor): Promise<boolean> {
    await this.init()
    return (await fileSize(dirBlobPath(this.dir, desc.digest))) === desc.size
  }

  async putBlob(desc: Descriptor, data: Readable): Promise<void> {
    await putStream(data, () => this.init(), () => this.temp.writeStream(dirBlobPath(this.dir, desc.digest), data, desc.size))
  }

  async putManifest(manifest: ManifestBytes, options: PutManifestOptions): Promise<void> {
    await this.init()
    verifyBytes(manifest.bytes, manifest.digest, `${this.description}: manifest ${manifest.digest}`)
    if (options.root) {
      if (this.root !== undefined && this.root.digest !== manifest.digest) {
        throw new UsageError(`${this.description}: a dir: directory holds one image or index, and the source has several`, {
          suggestions: ['copy to oci:DIR to keep several images in one directory'],
        })
      }
      this.root = manifest
    } else {
      const final = dirManifestPath(this.dir, manifest.digest)
      if ((await fileSize(final)) !== manifest.bytes.byteLength) await this.temp.writeBytes(final, manifest.bytes)
      this.used.add(parseDigest(manifest.digest).hex)
    }
    this.noteChildren(manifest)
  }

  async commit(): Promise<void> {
    if (this.state === 'committed') return
    if (this.state === 'aborted') throw new OcitoolError(`${this.description}: commit after abort`, {code: 'STORE_CLOSED'})
    await this.init()
    if (this.root !== undefined) {
      const versionFile = path.join(this.dir, DIR_VERSION_FILE)
      const version = await fsp.readFile(versionFile, 'utf8').catch(() => undefined)
      if (version !== DIR_VERSION) await this.temp.writeBytes(versionFile, DIR_VERSION)
      await this.temp.writeBytes(path.join(this.dir, DIR_MANIFEST_FILE), this.root.bytes)
      if (this.knowsAllFiles) await this.removeUnused(digestOf(this.root.bytes))
    }
    this.state = 'committed'
    this.temp.close()
  }

  async abort(): Promise<void> {
    if (this.state === 'committed') return
    this.state = 'aborted'
    await this.temp.abort()
  }

  private init(): Promise<void> {
    this.ready ??= (async () => {
      const state = await dirState(this.dir)
      if (state === 'notdir') throw new UsageError(`${this.description}: ${this.dir} exists and is not a directory`)
      if (state === 'nonempty') {
        const version = await fsp.readFile(path.join(this.dir, DIR_VERSION_FILE), 'utf8').catch((e: unknown) => {
          if (isErrno(e, 'ENOENT')) return undefined
          throw e
        })
        if (version === undefined || !version.startsWith(DIR_VERSION_PREFIX)) {
          throw new UsageError(`${this.description}: ${this.dir} is not empty and is not a dir: image (no ${DIR_VERSION_FILE} file); refusing to write into it`)
        }
        const top = await fsp.readFile(path.join(this.dir, DIR_MANIFEST_FILE)).catch(() => undefined)
        this.previousTop = top === undefined ? undefined : digestOf(top)
      }
      await fsp.mkdir(this.dir, {recursive: true})
    })()
    return this.ready
  }

  /** remembers which files a manifest needs, so commit() keeps them */
  private noteChildren(manifest: ManifestBytes): void {
    let parsed
    try {
      parsed = parseManifest(manifest.bytes, manifest.mediaType)
    } catch {
      this.knowsAllFiles = false
      return
    }
    const digests = parsed.kind === 'schema1' ? schema1BlobDigests(parsed.manifest) : childDescriptors(parsed).map((d) => d.digest)
    for (const d of digests) this.used.add(parseDigest(d).hex)
  }

  /** removes the earlier image's blobs, child manifests and signatures that the new image does not use */
  private async removeUnused(topDigest: string): Promise<void> {
    const keepTopSignatures = this.previousTop === topDigest
    for (const name of await fsp.readdir(this.dir)) {
      const kind = classifyDirFile(name)
      if (kind === undefined) continue
      const stale = kind === 'signature' ? !keepTopSignatures : !this.used.has(kind.hex)
      if (stale) await fsp.rm(path.join(this.dir, name), {force: true})
    }
  }
}
