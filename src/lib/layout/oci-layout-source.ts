/**
 * OciLayoutSource reads an OCI image layout (`oci:DIR[:TAG]`). Its roots are the manifests
 * `index.json` lists, named by their `org.opencontainers.image.ref.name`; entries that point
 * at the same digest are one root with several names. With a tag, only the entries named
 * exactly that (as skopeo matches `oci:DIR:TAG`). Manifests are read whole (capped at 4 MiB)
 * and verified; blobs are streamed from `blobs/<alg>/<hex>` without being read first.
 */
import type {Readable} from 'node:stream'

import {NotFoundError, OcitoolError} from '../errors.js'
import {verifyBytes} from '../oci/digest.js'
import type {Descriptor} from '../oci/types.js'
import type {ManifestBytes, Root, Source} from '../stores/types.js'
import {openBlobStream, readSmallFile} from './atomic.js'
import {blobPath, entriesNamed, namesIn, readLayoutIndex, refNameOf} from './oci-layout-format.js'

export interface OciLayoutSourceOptions {
  /** only the manifest whose `org.opencontainers.image.ref.name` is this */
  tag?: string | undefined
}

export class OciLayoutSource implements Source {
  readonly description: string
  private readonly tag: string | undefined

  constructor(
    readonly dir: string,
    options: OciLayoutSourceOptions = {},
  ) {
    this.tag = options.tag
    this.description = `oci:${dir}${this.tag === undefined ? '' : `:${this.tag}`}`
  }

  async roots(): Promise<Root[]> {
    const index = await readLayoutIndex(this.dir, this.description)
    const entries = this.selectEntries(index.manifests)
    // One root per digest, keeping index order and every name it has.
    const byDigest = new Map<string, {desc: Descriptor; names: string[]}>()
    for (const desc of entries) {
      const name = refNameOf(desc)
      const seen = byDigest.get(desc.digest)
      if (seen === undefined) byDigest.set(desc.digest, {desc, names: name === undefined ? [] : [name]})
      else if (name !== undefined && !seen.names.includes(name)) seen.names.push(name)
    }
    const roots: Root[] = []
    for (const {desc, names} of byDigest.values()) roots.push({...(await this.manifest(desc)), names})
    return roots
  }

  async manifest(desc: Descriptor): Promise<ManifestBytes> {
    const file = blobPath(this.dir, desc.digest)
    const what = `${this.description}: manifest ${desc.digest}`
    const bytes = await readSmallFile(file, what)
    verifyBytes(bytes, desc.digest, `${what} (${file})`, desc.size)
    return {bytes, mediaType: desc.mediaType, digest: desc.digest}
  }

  async blob(desc: Descriptor): Promise<Readable> {
    return openBlobStream(blobPath(this.dir, desc.digest), `${this.description}: blob ${desc.digest}`)
  }

  async close(): Promise<void> {}

  private selectEntries(manifests: readonly Descriptor[]): readonly Descriptor[] {
    if (manifests.length === 0) throw new NotFoundError(`${this.description}: the layout holds no images (index.json lists no manifests)`)
    if (this.tag === undefined) return manifests
    const matching = entriesNamed(manifests, this.tag)
    if (matching.length === 0) {
      const tags = namesIn(manifests)
      const have = tags.length === 0 ? 'it has no named images' : `it has ${tags.map((t) => JSON.stringify(t)).join(', ')}`
      throw new NotFoundError(`${this.description}: no image named ${JSON.stringify(this.tag)} in ${this.dir} (${have})`)
    }
    const digests = new Set(matching.map((d) => d.digest))
    if (digests.size > 1) {
      throw new OcitoolError(`${this.description}: ${digests.size} different manifests are named ${JSON.stringify(this.tag)} in index.json`, {code: 'AMBIGUOUS_TAG'})
    }
    return matching
  }
}
