/**
 * stores/registry: a registry repository as a Source and as a Sink.
 *
 * The sink checks before it moves bytes: a blob already there (HEAD) is skipped, a blob in
 * another repository of the same registry is mounted, and only then uploaded. Manifests are
 * written by digest, and only a root gets its tags, last, so no tag ever names an image whose
 * parts are not all there.
 */
import type {Readable} from 'node:stream'
import {ExitCode, OcitoolError, isOcitoolError} from '../errors.js'
import type {Reference} from '../name/reference.js'
import type {Descriptor} from '../oci/types.js'
import {type RepositoryClient, type UploadOptions, uploadStream} from '../remote/registry.js'
import type {Session} from '../remote/session.js'
import {fetchForeign, webUrls} from '../remote/foreign.js'
import {isForeign} from '../oci/media-types.js'
import type {ManifestBytes, MountLocation, PutManifestOptions, Root, Sink, Source} from './types.js'

export class RegistrySource implements Source {
  readonly description: string
  readonly mountFrom: MountLocation
  readonly socketBlobs = true
  readonly repo: RepositoryClient

  constructor(
    private readonly session: Session,
    readonly ref: Reference,
  ) {
    this.repo = session.repository(ref)
    this.description = ref.toString()
    this.mountFrom = {registry: ref.registry, repository: ref.repository}
  }

  async roots(): Promise<Root[]> {
    const identifier = this.ref.digest ?? this.ref.tag ?? 'latest'
    const m = await this.repo.getManifest(identifier)
    return [{...m, names: this.ref.tag && !this.ref.digest ? [this.ref.tag] : []}]
  }

  /** rootsForTags reads the manifest of every tag (for `copy --all-tags`), `jobs` at a time. */
  async rootsForTags(tags: string[], jobs: number): Promise<Root[]> {
    const out: Root[] = new Array(tags.length)
    let next = 0
    const worker = async () => {
      while (next < tags.length) {
        const i = next++
        out[i] = {...(await this.repo.getManifest(tags[i])), names: [tags[i]]}
      }
    }
    await Promise.all(Array.from({length: Math.min(jobs, tags.length)}, worker))
    return out
  }

  manifest(desc: Descriptor): Promise<ManifestBytes> {
    return this.repo.getManifest(desc.digest)
  }

  async blob(desc: Descriptor): Promise<Readable> {
    try {
      return (await this.repo.blobStream(desc.digest, desc.size)).stream
    } catch (e) {
      // a foreign layer the registry does not hold is fetched from its urls (verified)
      if (!isForeign(desc.mediaType) || webUrls(desc).length === 0 || !isOcitoolError(e) || e.exitCode !== ExitCode.NotFound) throw e
      return fetchForeign(this.session.http, desc)
    }
  }

  /** whether this source can give the blob: the registry has it, or (foreign) its urls may */
  async hasBlob(desc: Descriptor): Promise<boolean> {
    if ((await this.repo.headBlob(desc.digest)) !== undefined) return true
    return isForeign(desc.mediaType) && webUrls(desc).length > 0
  }

  async close(): Promise<void> {}
}

export interface RegistrySinkOptions extends UploadOptions {
  /** refuse to move a tag that exists already (`--no-clobber`) */
  noClobber?: boolean
}

export class RegistrySink implements Sink {
  readonly description: string
  /** the registry hashes every upload and refuses a wrong digest (DIGEST_INVALID, exit 6) */
  readonly verifiesDigests = true
  readonly repo: RepositoryClient

  constructor(
    session: Session,
    readonly ref: Reference,
    private readonly options: RegistrySinkOptions = {},
  ) {
    this.repo = session.repository(ref)
    this.description = ref.toString()
  }

  /**
   * hasBlob: is the blob there already? Only an optimisation: when the registry cannot say (it
   * sheds load, the network fails), the answer is no and the blob is uploaded.
   */
  async hasBlob(desc: Descriptor): Promise<boolean> {
    const size = await unlessUnanswered(this.repo.headBlob(desc.digest), undefined)
    return size !== undefined && (size === desc.size || !Number.isFinite(size))
  }

  /** mount links the blob from another repository; a failed attempt means an upload instead. */
  async mount(desc: Descriptor, from: MountLocation): Promise<boolean> {
    if (from.registry !== this.ref.registry || from.repository === this.ref.repository) return false
    return unlessUnanswered(this.repo.mountBlob(desc.digest, from.repository), false)
  }

  putBlob(desc: Descriptor, data: Readable): Promise<void> {
    return uploadStream(this.repo, desc.digest, desc.size, data, this.options)
  }

  async hasManifest(digest: string): Promise<boolean> {
    return (await unlessUnanswered(this.repo.headManifest(digest), undefined)) !== undefined
  }

  /**
   * putManifest writes a manifest by digest, or a root under each of its names. Many names
   * (copy --all-tags of tags that share an image) are written TAG_JOBS at a time: each is a
   * small PUT, whose cost is its round trip.
   */
  async putManifest(m: ManifestBytes, options: PutManifestOptions): Promise<void> {
    if (!options.root || options.names.length === 0) {
      await this.repo.putManifest(m.digest, m.bytes, m.mediaType)
      return
    }
    await eachLimit(options.names, TAG_JOBS, async (tag) => {
      if (this.options.noClobber) {
        const existing = await this.repo.headManifest(tag)
        if (existing && existing.digest !== m.digest) {
          throw new OcitoolError(`${this.ref.name}:${tag}: tag exists (${existing.digest}); not overwriting it (--no-clobber)`, {code: 'CLOBBER'})
        }
      }
      await this.repo.putManifest(tag, m.bytes, m.mediaType)
    })
  }

  async commit(): Promise<void> {}
  async abort(): Promise<void> {}
}

/** tags of one root written at once (see RegistrySink.putManifest) */
const TAG_JOBS = 8

/**
 * eachLimit runs `fn` over items, at most `limit` at once. The first failure stops new work and
 * is thrown once the running ones have settled, so nothing is still being written after it.
 */
async function eachLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  let failed: {error: unknown} | undefined
  const worker = async () => {
    while (!failed && next < items.length) {
      const item = items[next++]
      try {
        await fn(item)
      } catch (error) {
        failed ??= {error}
      }
    }
  }
  await Promise.all(Array.from({length: Math.max(1, Math.min(limit, items.length))}, worker))
  if (failed) throw failed.error
}

/**
 * unlessUnanswered is `check`'s answer, or `fallback` when the registry or the network could not
 * give one (exit 5): an existence check must not fail a copy that can go ahead without it.
 * Credentials and interruptions still fail it.
 */
async function unlessUnanswered<T>(check: Promise<T>, fallback: T): Promise<T> {
  try {
    return await check
  } catch (e) {
    if (isOcitoolError(e) && e.exitCode === ExitCode.Registry) return fallback
    throw e
  }
}
