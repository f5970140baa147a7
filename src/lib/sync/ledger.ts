/**
 * ledger: which blobs this sync run is putting where, so many images moving at once never move
 * one blob twice. Per destination repository, the first image to need a blob claims it (HEAD,
 * then mount or upload); others needing it there wait and then skip it. Per destination
 * registry, the first repository to get a blob is its holder: other repositories there mount
 * it from the holder instead of uploading it again (a mirror of many repositories sharing base
 * layers uploads each layer once). The same rules make the dry-run's counts (see dry-run.ts).
 */
import type {Readable} from 'node:stream'
import type {Descriptor} from '../oci/types.js'
import type {ManifestBytes, MountLocation, PutManifestOptions, Root, Sink, Source} from '../stores/types.js'

interface Claim {
  repo: string
  owner: object
  done: Promise<boolean>
  settle: (ok: boolean) => void
  settled: boolean
}

export class BlobLedger {
  private readonly here = new Map<string, Claim>()
  private readonly holders = new Map<string, Claim>()

  /** the claim on `digest` in `place` (a repository or layout), if any */
  claimOf(place: string, digest: string): Claim | undefined {
    return this.here.get(`${place}@${digest}`)
  }

  claim(place: string, digest: string, owner: object): Claim {
    let settle!: (ok: boolean) => void
    const done = new Promise<boolean>((r) => (settle = r))
    const c: Claim = {repo: place, owner, done, settle: () => {}, settled: false}
    c.settle = (ok) => {
      if (c.settled) return
      c.settled = true
      if (!ok) {
        if (this.here.get(`${place}@${digest}`) === c) this.here.delete(`${place}@${digest}`)
        for (const [k, h] of this.holders) if (h === c) this.holders.delete(k)
      }
      settle(ok)
    }
    this.here.set(`${place}@${digest}`, c)
    return c
  }

  /** the repository of `registry` that has (or is getting) `digest` in this run */
  holder(registry: string, digest: string): Claim | undefined {
    return this.holders.get(`${registry}@${digest}`)
  }

  setHolder(registry: string, digest: string, c: Claim): void {
    this.holders.set(`${registry}@${digest}`, c)
  }

  /** release settles what `owner` claimed and did not finish (its image failed) */
  release(owner: object): void {
    for (const c of [...this.here.values()]) if (c.owner === owner && !c.settled) c.settle(false)
  }
}

/** Where a sink's blobs go: a registry repository (mountable) or a layout directory. */
export interface Place {
  /** `registry/repository` or `oci:DIR` */
  name: string
  registry?: string
  repository?: string
}

/**
 * LedgerSink is a sink that consults the ledger before the engine moves a blob; with
 * LedgerSource, a blob a sibling repository got in this run is mounted from there.
 */
export interface LedgerSinkOptions {
  /** false when the destination cannot mount (strategy.ts): no mount is attempted */
  canMount?: boolean
  /** how a mount from a sibling repository is made (sync learns from it whether the registry mounts) */
  siblingMount?: (desc: Descriptor, from: MountLocation) => Promise<boolean>
  /**
   * the repository did not exist when this run looked, and no earlier run of the journal wrote
   * to it: it holds nothing this run did not put there, so nothing is asked of it (no HEAD)
   */
  fresh?: boolean
}

export class LedgerSink implements Sink {
  readonly description: string
  readonly verifiesDigests?: boolean
  readonly hints = new Map<string, MountLocation>()
  private readonly mine = new Map<string, Claim>()

  constructor(
    readonly inner: Sink,
    private readonly ledger: BlobLedger,
    private readonly place: Place,
    readonly owner: object,
    private readonly opts: LedgerSinkOptions = {},
  ) {
    this.description = inner.description
    this.verifiesDigests = inner.verifiesDigests
    this.canMount = opts.canMount ?? true
  }

  private readonly canMount: boolean

  async hasBlob(desc: Descriptor): Promise<boolean> {
    for (;;) {
      const there = this.ledger.claimOf(this.place.name, desc.digest)
      if (!there) break
      if (await there.done) return true
    }
    const c = this.ledger.claim(this.place.name, desc.digest, this.owner)
    this.mine.set(desc.digest, c)
    if (!this.opts.fresh && (await this.inner.hasBlob(desc))) {
      c.settle(true)
      return true
    }
    const {registry} = this.place
    if (registry && this.canMount) {
      const holder = this.ledger.holder(registry, desc.digest)
      if (holder && holder !== c && (await holder.done)) this.hints.set(desc.digest, {registry, repository: holder.repo.slice(registry.length + 1)})
      else this.ledger.setHolder(registry, desc.digest, c)
    }
    return false
  }

  async mount(desc: Descriptor, from: MountLocation): Promise<boolean> {
    if (!this.inner.mount || !this.canMount) return false
    const hint = this.hints.get(desc.digest)
    const siblingMount = this.opts.siblingMount
    const sibling = siblingMount && hint && hint.registry === from.registry && hint.repository === from.repository
    const ok = sibling ? await siblingMount(desc, from).catch(() => false) : await this.inner.mount(desc, from)
    if (ok) this.mine.get(desc.digest)?.settle(true)
    return ok
  }

  async putBlob(desc: Descriptor, data: Readable): Promise<void> {
    await this.inner.putBlob(desc, data)
    this.mine.get(desc.digest)?.settle(true)
  }

  hasManifest(digest: string): Promise<boolean> {
    return this.inner.hasManifest && !this.opts.fresh ? this.inner.hasManifest(digest) : Promise.resolve(false)
  }

  putManifest(m: ManifestBytes, o: PutManifestOptions): Promise<void> {
    return this.inner.putManifest(m, o)
  }

  commit(): Promise<void> {
    return this.inner.commit()
  }

  abort(): Promise<void> {
    return this.inner.abort()
  }
}

/** LedgerSource is a source whose blobs are mounted from a sibling destination repository when the ledger knows one. */
export class LedgerSource implements Source {
  readonly description: string
  readonly mountFrom?: MountLocation

  constructor(
    readonly inner: Source,
    private readonly sink: LedgerSink,
  ) {
    this.description = inner.description
    this.mountFrom = inner.mountFrom
  }

  mountLocation(desc: Descriptor): MountLocation | undefined {
    return this.sink.hints.get(desc.digest) ?? (this.inner.mountLocation ? this.inner.mountLocation(desc) : this.inner.mountFrom)
  }

  roots(): Promise<Root[]> {
    return this.inner.roots()
  }

  manifest(desc: Descriptor): Promise<ManifestBytes> {
    return this.inner.manifest(desc)
  }

  blob(desc: Descriptor): Promise<Readable> {
    return this.inner.blob(desc)
  }

  close(): Promise<void> {
    return this.inner.close()
  }
}
