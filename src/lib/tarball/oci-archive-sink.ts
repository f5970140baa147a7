/**
 * oci-archive-sink: writes an OCI image layout as one tar (`oci-archive:FILE`, or `-` for
 * stdout), as skopeo's oci-archive transport reads it: `oci-layout` first, then every blob
 * and manifest as `blobs/<alg>/<hex>` as they come (one at a time, each once), and at
 * `commit()` the `index.json` that lists the roots, each name as an
 * `org.opencontainers.image.ref.name` annotation. Written to a temporary file renamed into
 * place by `commit()`; `abort()` leaves nothing.
 */
import type {Readable, Writable} from 'node:stream'

import {OcitoolError} from '../errors.js'
import {MediaType} from '../oci/media-types.js'
import type {Descriptor} from '../oci/types.js'
import type {ManifestBytes, PutManifestOptions, Sink} from '../stores/types.js'
import {type AnnotateRef, INDEX_FILE, LAYOUT_FILE, LAYOUT_VERSION, REF_NAME_ANNOTATION, blobEntryOf, refNameFor} from './oci-archive-format.js'
import {TarWriter} from './tar-writer.js'

export interface OciArchiveSinkOptions {
  /** what `ref.name` holds for a root's names: the tag (default), the full name, or nothing */
  annotateRef?: AnnotateRef
  /** where `-` writes (default process.stdout; for tests) */
  stdout?: Writable
}

export class OciArchiveSink implements Sink {
  readonly description: string
  readonly blobConcurrency = 1
  private readonly writer: TarWriter
  private readonly written = new Set<string>()
  /** index.json entries, in the order roots arrived */
  private readonly entries: Descriptor[] = []
  private layoutWritten?: Promise<void>

  constructor(
    readonly file: string,
    private readonly options: OciArchiveSinkOptions = {},
  ) {
    this.description = `oci-archive:${file}`
    this.writer = new TarWriter(file, this.description, options.stdout)
  }

  async hasBlob(desc: Descriptor): Promise<boolean> {
    return this.written.has(desc.digest)
  }

  async hasManifest(digest: string): Promise<boolean> {
    return this.written.has(digest)
  }

  async putBlob(desc: Descriptor, data: Readable): Promise<void> {
    if (this.written.has(desc.digest)) {
      for await (const _ of data); // already in the archive: just drain
      return
    }
    await this.layoutFile()
    await this.writer.add(blobEntryOf(desc.digest), desc.size, data)
    this.written.add(desc.digest)
  }

  async putManifest(manifest: ManifestBytes, options: PutManifestOptions): Promise<void> {
    if (!this.written.has(manifest.digest)) {
      await this.layoutFile()
      await this.writer.add(blobEntryOf(manifest.digest), manifest.bytes.length, manifest.bytes)
      this.written.add(manifest.digest)
    }
    if (!options.root) return
    const desc: Descriptor = {mediaType: manifest.mediaType, digest: manifest.digest, size: manifest.bytes.length}
    const refNames = [...new Set(options.names.map((n) => refNameFor(n, this.options.annotateRef ?? 'tag')).filter((n): n is string => !!n))]
    // A name names one manifest: a later root takes it from an earlier one.
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const name = this.entries[i].annotations?.[REF_NAME_ANNOTATION]
      if (name !== undefined && refNames.includes(name)) this.entries.splice(i, 1)
    }
    if (refNames.length === 0) {
      if (!this.entries.some((d) => d.digest === desc.digest)) this.entries.push(desc)
      return
    }
    // An unnamed entry for this manifest is superseded by named ones.
    const unnamed = this.entries.findIndex((d) => d.digest === desc.digest && d.annotations?.[REF_NAME_ANNOTATION] === undefined)
    if (unnamed !== -1) this.entries.splice(unnamed, 1)
    for (const name of refNames) this.entries.push({...desc, annotations: {[REF_NAME_ANNOTATION]: name}})
  }

  async commit(): Promise<void> {
    if (this.entries.length === 0) throw new OcitoolError(`${this.description}: no image to write`, {code: 'EMPTY_ARCHIVE'})
    await this.layoutFile()
    const index = Buffer.from(JSON.stringify({schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: this.entries}))
    await this.writer.add(INDEX_FILE, index.length, index)
    await this.writer.commit()
  }

  abort(): Promise<void> {
    return this.writer.abort()
  }

  /** layoutFile writes `oci-layout` once, as the first entry, so readers of a stream see it first. */
  private layoutFile(): Promise<void> {
    if (this.layoutWritten === undefined) {
      const bytes = Buffer.from(JSON.stringify({imageLayoutVersion: LAYOUT_VERSION}))
      this.layoutWritten = this.writer.add(LAYOUT_FILE, bytes.length, bytes)
      this.layoutWritten.catch(() => {
        this.layoutWritten = undefined
      })
    }
    return this.layoutWritten
  }
}
