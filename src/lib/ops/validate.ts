/**
 * validate: every blob of an image (or index) is present, of the right size and, unless `fast`,
 * hashes to its digest. It runs the transfer engine into a sink that keeps nothing, so the
 * checks are exactly the ones every copy makes.
 */
import type {Readable} from 'node:stream'
import {IntegrityError} from '../errors.js'
import type {Descriptor, Platform} from '../oci/types.js'
import {type RemoteOptions, withSession} from '../remote/session.js'
import type {Location} from '../stores/location.js'
import {openSource} from '../stores/open.js'
import {RegistrySource} from '../stores/registry.js'
import type {Sink, Source} from '../stores/types.js'
import {transfer} from '../transfer/engine.js'
import {makePlan, selectPlatforms} from '../transfer/plan.js'

export interface ValidateOptions extends RemoteOptions {
  /** check presence and size only (HEAD on registries), no hashing */
  fast?: boolean
  platforms?: Platform[] | 'all'
  jobs?: number
}

export interface ValidateResult {
  /** the first (for most sources the only) image's digest */
  digest: string
  manifests: number
  blobs: number
  bytes: number
  hashed: boolean
  /** every image checked: one per root (a multi-image tarball has several), with its names */
  images: Array<{digest: string; names: string[]}>
}

/**
 * validate checks every root the source names: the one image of a registry reference, every
 * image of a multi-image tarball. Blobs shared by images are checked once.
 */
export function validate(loc: Location, options: ValidateOptions): Promise<ValidateResult> {
  return withSession(options, async (session) => {
    const source = await openSource(loc, session)
    try {
      const roots = await source.roots()
      const items = []
      for (const root of roots) items.push({manifest: await selectPlatforms(source, root, {platforms: options.platforms}), names: root.names})
      const fast = options.fast === true
      const sink = new CheckingSink(source)
      const plan = await makePlan(source, sink, items.map((i) => ({manifest: i.manifest, names: []})))
      const images = items.map((i) => ({digest: i.manifest.digest, names: i.names}))
      const result = {digest: images[0].digest, manifests: plan.manifests.length, blobs: plan.blobs.length, bytes: plan.totalBytes, images}
      if (fast) {
        // presence and size only: HEAD for registries, opening the entry for files
        await Promise.all(plan.blobs.map((d) => sink.probe(d)))
        return {...result, hashed: false}
      }
      await transfer(source, sink, plan, {jobs: options.jobs, signal: options.signal})
      return {...result, hashed: true}
    } finally {
      await source.close()
    }
  })
}

/** CheckingSink drains blobs (the engine verifies them on the way) and keeps nothing. */
class CheckingSink implements Sink {
  readonly description = 'validation'

  constructor(private readonly source: Source) {}

  async hasBlob(): Promise<boolean> {
    return false
  }

  async putBlob(_desc: Descriptor, data: Readable): Promise<void> {
    for await (const _ of data) {
      // the engine's verify stream hashes as we drain
    }
  }

  /** probe: the blob exists with the size its descriptor says */
  async probe(desc: Descriptor): Promise<void> {
    if (this.source instanceof RegistrySource) {
      const size = await this.source.repo.headBlob(desc.digest)
      if (size === undefined) throw new IntegrityError(`${this.source.description}: blob ${desc.digest} is missing`, {code: 'BLOB_MISSING'})
      if (size !== desc.size) throw new IntegrityError(`${this.source.description}: blob ${desc.digest} has ${size} bytes, the manifest says ${desc.size}`, {code: 'SIZE_MISMATCH'})
      return
    }
    const s = await this.source.blob(desc)
    s.destroy()
  }

  async putManifest(): Promise<void> {}
  async commit(): Promise<void> {}
  async abort(): Promise<void> {}
}
