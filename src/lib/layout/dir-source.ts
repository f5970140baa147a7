/**
 * DirSource reads skopeo's `dir:` format: one root, `manifest.json`, whose digest is the
 * sha256 of its bytes and whose media type is read from the document (the format stores no
 * descriptor). An index's children come from `<hex>.manifest.json`; blobs stream from `<hex>`.
 */
import * as path from 'node:path'
import type {Readable} from 'node:stream'

import {NotFoundError} from '../errors.js'
import {algorithmOf, digestOf, verifyBytes} from '../oci/digest.js'
import {parseManifest} from '../oci/manifest.js'
import type {Descriptor} from '../oci/types.js'
import type {ManifestBytes, Root, Source} from '../stores/types.js'
import {dirState, openBlobStream, readSmallFile} from './atomic.js'
import {DIR_MANIFEST_FILE, dirBlobPath, dirManifestPath} from './dir-format.js'

export class DirSource implements Source {
  readonly description: string
  private top: Promise<Buffer> | undefined

  constructor(readonly dir: string) {
    this.description = `dir:${dir}`
  }

  async roots(): Promise<Root[]> {
    const bytes = await this.topBytes()
    const {mediaType} = parseManifest(bytes)
    return [{bytes, mediaType, digest: digestOf(bytes), names: []}]
  }

  /** a child manifest from `<hex>.manifest.json`, else the top one if it is the one asked for, else `<hex>` */
  async manifest(desc: Descriptor): Promise<ManifestBytes> {
    const what = `${this.description}: manifest ${desc.digest}`
    let bytes: Buffer | undefined
    try {
      bytes = await readSmallFile(dirManifestPath(this.dir, desc.digest), what)
    } catch (e) {
      if (!(e instanceof NotFoundError)) throw e
    }
    if (bytes === undefined) {
      const top = await this.topBytes().catch(() => undefined)
      if (top !== undefined && digestOf(top, algorithmOf(desc.digest)) === desc.digest) bytes = top
    }
    if (bytes === undefined) {
      try {
        bytes = await readSmallFile(dirBlobPath(this.dir, desc.digest), what)
      } catch (e) {
        if (!(e instanceof NotFoundError)) throw e
        throw new NotFoundError(`${what}: not in ${this.dir} (no ${path.basename(dirManifestPath(this.dir, desc.digest))})`, {cause: e})
      }
    }
    verifyBytes(bytes, desc.digest, what, desc.size)
    return {bytes, mediaType: desc.mediaType, digest: desc.digest}
  }

  async blob(desc: Descriptor): Promise<Readable> {
    return openBlobStream(dirBlobPath(this.dir, desc.digest), `${this.description}: blob ${desc.digest}`)
  }

  async close(): Promise<void> {}

  private topBytes(): Promise<Buffer> {
    this.top ??= (async () => {
      const state = await dirState(this.dir)
      if (state === 'missing') throw new NotFoundError(`${this.description}: no such directory ${this.dir}`)
      if (state === 'notdir') throw new NotFoundError(`${this.description}: ${this.dir} is not a directory`)
      try {
        return await readSmallFile(path.join(this.dir, DIR_MANIFEST_FILE), this.description)
      } catch (e) {
        if (!(e instanceof NotFoundError)) throw e
        throw new NotFoundError(`${this.description}: ${this.dir} is not a dir: image (it has no ${DIR_MANIFEST_FILE})`, {cause: e})
      }
    })()
    return this.top
  }
}
