/**
 * overlay: a Source made of a base Source plus what a mutation changed. New manifests, configs
 * and layers live in the overlay; every other blob is still the base's, so the engine skips it
 * (the destination has it), mounts it (same registry) or streams it from the base. Writing a
 * mutated image therefore moves only the new bytes.
 */
import {createReadStream} from 'node:fs'
import {Readable} from 'node:stream'
import {NotFoundError} from '../errors.js'
import {digestOf} from '../oci/digest.js'
import type {Descriptor} from '../oci/types.js'
import type {ManifestBytes, MountLocation, Root, Source} from '../stores/types.js'

/** Where a new blob's bytes come from: memory (configs), a file, or a stream factory. */
export type BlobBytes = Buffer | {file: string} | (() => Promise<Readable>)

export class OverlaySource implements Source {
  readonly description: string
  readonly mountFrom?: MountLocation
  private readonly manifests = new Map<string, ManifestBytes>()
  private readonly blobs = new Map<string, BlobBytes>()
  private rootList: Root[] = []

  constructor(readonly base: Source) {
    this.description = base.description
    this.mountFrom = base.mountFrom
  }

  /** addManifest records a rewritten manifest (bytes as given) and returns its descriptor fields. */
  addManifest(bytes: Buffer, mediaType: string): ManifestBytes {
    const m = {bytes, mediaType, digest: digestOf(bytes)}
    this.manifests.set(m.digest, m)
    return m
  }

  private readonly others = new Map<string, {source: Source; desc: Descriptor}>()

  /** addBlob records a new blob (a config, a layer) under its digest. */
  addBlob(digest: string, bytes: BlobBytes): void {
    this.blobs.set(digest, bytes)
  }

  /** borrow makes a blob of another source part of this one (rebase: the new base's layers). */
  borrow(source: Source, desc: Descriptor): void {
    this.others.set(desc.digest, {source, desc})
  }

  mountLocation(desc: Descriptor): MountLocation | undefined {
    if (this.blobs.has(desc.digest)) return undefined
    const other = this.others.get(desc.digest)
    return other ? other.source.mountFrom : this.mountFrom
  }

  /** addJson stores a JSON document (a config) as a blob and returns its digest and size. */
  addJson(doc: unknown): {digest: string; size: number; bytes: Buffer} {
    const bytes = Buffer.from(JSON.stringify(doc))
    const digest = digestOf(bytes)
    this.blobs.set(digest, bytes)
    return {digest, size: bytes.length, bytes}
  }

  setRoots(roots: Root[]): void {
    this.rootList = roots
  }

  async roots(): Promise<Root[]> {
    return this.rootList
  }

  async manifest(desc: Descriptor): Promise<ManifestBytes> {
    return this.manifests.get(desc.digest) ?? this.manifestSources.get(desc.digest)?.manifest(desc) ?? this.base.manifest(desc)
  }

  private readonly manifestSources = new Map<string, Source>()

  /** borrowManifest makes a manifest of another source (and its graph) reachable (index append). */
  borrowManifest(source: Source, digest: string): void {
    this.manifestSources.set(digest, source)
  }

  async blob(desc: Descriptor): Promise<Readable> {
    const own = this.blobs.get(desc.digest)
    if (own === undefined) {
      const other = this.others.get(desc.digest)
      return other ? other.source.blob(other.desc) : this.base.blob(desc)
    }
    if (Buffer.isBuffer(own)) return Readable.from([own])
    if (typeof own === 'function') return own()
    return createReadStream(own.file, {highWaterMark: 1024 * 1024})
  }

  /** blobBytes reads a small blob (a config) whole, from the overlay or the base. */
  async blobBytes(desc: Descriptor, cap = 64 * 1024 * 1024): Promise<Buffer> {
    const own = this.blobs.get(desc.digest)
    if (Buffer.isBuffer(own)) return own
    const chunks: Buffer[] = []
    let total = 0
    for await (const c of await this.blob(desc)) {
      total += (c as Buffer).length
      if (total > cap) throw new NotFoundError(`${this.description}: blob ${desc.digest} is larger than ${cap} bytes`)
      chunks.push(c as Buffer)
    }
    return Buffer.concat(chunks)
  }

  close(): Promise<void> {
    return this.base.close()
  }
}
