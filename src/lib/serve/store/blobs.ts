/**
 * blobs: content-addressed storage, `<root>/blobs/<algorithm>/<hex>`, shared by every
 * repository (which blobs a repository holds is recorded by `Repositories`). Blobs arrive
 * as finished files (uploads) or small byte arrays (manifests) and are renamed into place:
 * the same digest always means the same bytes, so a rename over an existing blob is harmless.
 */
import {createReadStream, type ReadStream} from 'node:fs'
import * as fsp from 'node:fs/promises'
import * as path from 'node:path'
import {parseDigest} from '../../oci/digest.js'
import {atomicWrite, isNotFound} from './files.js'

/** ByteRange is an inclusive range of byte offsets. */
export interface ByteRange {
  readonly start: number
  readonly end: number
}

/** BlobStore keeps blobs by digest under a root directory. */
export class BlobStore {
  /** @param root the storage root; `tmpDir` is a directory on the same file system for temporary files */
  constructor(
    readonly root: string,
    readonly tmpDir: string,
  ) {}

  /** path is the file of digest (which must be valid). */
  path(digest: string): string {
    const {algorithm, hex} = parseDigest(digest)
    return path.join(this.root, 'blobs', algorithm, hex)
  }

  /** size returns the blob's size in bytes, or undefined when it is not stored. */
  async size(digest: string): Promise<number | undefined> {
    try {
      return (await fsp.stat(this.path(digest))).size
    } catch (e) {
      if (isNotFound(e)) return undefined
      throw e
    }
  }

  /** open streams the blob, or a range of it. */
  open(digest: string, range?: ByteRange): ReadStream {
    return createReadStream(this.path(digest), range === undefined ? {} : {start: range.start, end: range.end})
  }

  /** read returns a whole (small) blob, or undefined when it is not stored. */
  async read(digest: string): Promise<Buffer | undefined> {
    try {
      return await fsp.readFile(this.path(digest))
    } catch (e) {
      if (isNotFound(e)) return undefined
      throw e
    }
  }

  /** write stores bytes whose digest the caller computed. */
  async write(digest: string, bytes: Uint8Array): Promise<void> {
    await atomicWrite(this.path(digest), bytes, this.tmpDir)
  }

  /** adopt renames a finished, verified file (on the same file system) into place as digest. */
  async adopt(file: string, digest: string): Promise<void> {
    const target = this.path(digest)
    await fsp.mkdir(path.dirname(target), {recursive: true})
    await fsp.rename(file, target)
  }
}
