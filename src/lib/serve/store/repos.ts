/**
 * repos: what each repository holds, as small files under `<root>/repositories/<name>/`
 * (the layout of the distribution registry, whose `_`-prefixed directories cannot clash
 * with name components):
 *
 *   _layers/<alg>/<hex>                      empty: the blob is in this repository
 *   _manifests/revisions/<alg>/<hex>         JSON {mediaType, subject?}: the manifest is here
 *   _manifests/tags/<tag>                    the digest the tag points at
 *   _referrers/<alg>/<hex>/<alg>-<hex>.json  a referrer's descriptor, filed under its subject
 *
 * Manifest bytes are blobs in the shared `BlobStore`. Every write is a rename, so a
 * restart on the same directory finds everything that was answered with success.
 */
import * as path from 'node:path'
import {parseDigest} from '../../oci/digest.js'
import type {Descriptor} from '../../oci/types.js'
import type {BlobStore} from './blobs.js'
import {atomicWrite, exists, listDir, readText, removeFile} from './files.js'

/** ManifestRecord is what the registry knows of a stored manifest besides its bytes. */
export interface ManifestRecord {
  readonly digest: string
  readonly mediaType: string
  readonly size: number
  /** The digest of the manifest's `subject`, when it has one. */
  readonly subject?: string
}

/** Repositories records blobs, manifests, tags and referrers per repository. */
export class Repositories {
  private readonly base: string

  constructor(
    readonly root: string,
    private readonly blobs: BlobStore,
  ) {
    this.base = path.join(root, 'repositories')
  }

  private dir(name: string): string {
    return path.join(this.base, ...name.split('/'))
  }

  private digestPath(name: string, sub: string, digest: string): string {
    const {algorithm, hex} = parseDigest(digest)
    return path.join(this.dir(name), sub, algorithm, hex)
  }

  private write(file: string, data: string): Promise<void> {
    return atomicWrite(file, data, this.blobs.tmpDir)
  }

  /** exists is true when the repository has received a blob or a manifest. */
  async exists(name: string): Promise<boolean> {
    const dir = this.dir(name)
    return (await exists(path.join(dir, '_layers'))) || (await exists(path.join(dir, '_manifests')))
  }

  /** linkBlob records that the repository holds a (stored) blob. */
  async linkBlob(name: string, digest: string): Promise<void> {
    await this.write(this.digestPath(name, '_layers', digest), '')
  }

  /** unlinkBlob forgets a blob in the repository; false when it was not there. The bytes stay for other repositories. */
  unlinkBlob(name: string, digest: string): Promise<boolean> {
    return removeFile(this.digestPath(name, '_layers', digest))
  }

  /**
   * blobSize returns the size of a blob the repository holds, or undefined. Manifests of
   * the repository count as its blobs too (distribution serves them from /blobs/ as well).
   */
  async blobSize(name: string, digest: string): Promise<number | undefined> {
    const linked =
      (await exists(this.digestPath(name, '_layers', digest))) ||
      (await exists(this.digestPath(name, path.join('_manifests', 'revisions'), digest)))
    return linked ? this.blobs.size(digest) : undefined
  }

  /** putManifest records a manifest whose bytes are already stored, its tag and its referrer entry. */
  async putManifest(name: string, record: ManifestRecord, opts: {tag?: string; referrer?: Descriptor} = {}): Promise<void> {
    const meta = {mediaType: record.mediaType, ...(record.subject === undefined ? {} : {subject: record.subject})}
    await this.write(this.digestPath(name, path.join('_manifests', 'revisions'), record.digest), JSON.stringify(meta))
    if (record.subject !== undefined && opts.referrer !== undefined) {
      await this.write(this.referrerPath(name, record.subject, record.digest), JSON.stringify(opts.referrer))
    }
    if (opts.tag !== undefined) await this.write(this.tagPath(name, opts.tag), record.digest)
  }

  /** manifest returns the record of a manifest the repository holds, or undefined. */
  async manifest(name: string, digest: string): Promise<ManifestRecord | undefined> {
    const text = await readText(this.digestPath(name, path.join('_manifests', 'revisions'), digest))
    if (text === undefined) return undefined
    const size = await this.blobs.size(digest)
    if (size === undefined) return undefined
    const meta = JSON.parse(text) as {mediaType: string; subject?: string}
    return {digest, size, mediaType: meta.mediaType, ...(meta.subject === undefined ? {} : {subject: meta.subject})}
  }

  /** resolveTag returns the digest a tag points at, or undefined. */
  async resolveTag(name: string, tag: string): Promise<string | undefined> {
    const text = await readText(this.tagPath(name, tag))
    return text === undefined || text === '' ? undefined : text.trim()
  }

  /** deleteTag removes a tag; false when there was none. */
  deleteTag(name: string, tag: string): Promise<boolean> {
    return removeFile(this.tagPath(name, tag))
  }

  /**
   * deleteManifest forgets a manifest, every tag pointing at it and its referrer entry;
   * false when the repository did not hold it.
   */
  async deleteManifest(name: string, digest: string): Promise<boolean> {
    const record = await this.manifest(name, digest)
    if (record === undefined) return false
    for (const tag of (await this.tags(name)) ?? []) {
      if ((await this.resolveTag(name, tag)) === digest) await this.deleteTag(name, tag)
    }
    if (record.subject !== undefined) await removeFile(this.referrerPath(name, record.subject, digest))
    return removeFile(this.digestPath(name, path.join('_manifests', 'revisions'), digest))
  }

  /** tags returns the repository's tags, sorted, or undefined when the repository does not exist. */
  async tags(name: string): Promise<string[] | undefined> {
    if (!(await this.exists(name))) return undefined
    const entries = await listDir(path.join(this.dir(name), '_manifests', 'tags'))
    return entries.filter((e) => e.isFile()).map((e) => e.name).sort(compare)
  }

  /** referrers returns the descriptors of the manifests whose subject is digest, sorted by digest. */
  async referrers(name: string, subject: string): Promise<Descriptor[]> {
    const {algorithm, hex} = parseDigest(subject)
    const dir = path.join(this.dir(name), '_referrers', algorithm, hex)
    const out: Descriptor[] = []
    for (const e of await listDir(dir)) {
      if (!e.isFile() || !e.name.endsWith('.json')) continue
      const text = await readText(path.join(dir, e.name))
      if (text !== undefined) out.push(JSON.parse(text) as Descriptor)
    }
    return out.sort((a, b) => compare(a.digest, b.digest))
  }

  /** catalog returns every repository's name, sorted. */
  async catalog(): Promise<string[]> {
    const out: string[] = []
    const walk = async (dir: string, prefix: string): Promise<void> => {
      const entries = await listDir(dir)
      if (entries.some((e) => e.isDirectory() && (e.name === '_layers' || e.name === '_manifests'))) out.push(prefix)
      for (const e of entries) {
        if (e.isDirectory() && !e.name.startsWith('_')) await walk(path.join(dir, e.name), prefix === '' ? e.name : `${prefix}/${e.name}`)
      }
    }
    await walk(this.base, '')
    return out.filter((n) => n !== '').sort(compare)
  }

  private tagPath(name: string, tag: string): string {
    return path.join(this.dir(name), '_manifests', 'tags', tag)
  }

  private referrerPath(name: string, subject: string, digest: string): string {
    const s = parseDigest(subject)
    const d = parseDigest(digest)
    return path.join(this.dir(name), '_referrers', s.algorithm, s.hex, `${d.algorithm}-${d.hex}.json`)
  }
}

/** compare orders strings by code unit, as the spec's lexical order for tags and the catalog. */
export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
