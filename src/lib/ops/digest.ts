/**
 * digest: the digest of the manifest a reference names. HEAD first (no body moves), GET when
 * the registry's HEAD gives no Docker-Content-Digest; with `platform`, the matching child.
 */
import {LooseFilesSource, type LooseImageFiles} from '../stores/loose.js'
import type {Reference} from '../name/reference.js'
import type {Platform} from '../oci/types.js'
import {type RemoteOptions, withSession} from '../remote/session.js'
import {UsageError} from '../errors.js'
import {type Location, describeLocation} from '../stores/location.js'
import {openSource} from '../stores/open.js'
import {selectPlatforms} from '../transfer/plan.js'
import {fetchManifest} from './resolve.js'

export interface DigestResult {
  digest: string
  mediaType: string
  size: number
  /** `registry/repository@digest` */
  fullRef: string
}

export function digest(ref: Reference, options: RemoteOptions & {platform?: Platform}): Promise<DigestResult> {
  return withSession(options, async (s) => {
    if (!options.platform) {
      if (ref.digest) {
        // by digest: the answer is known, but confirm that the registry has it
        const head = await s.repository(ref).headManifest(ref.digest)
        if (head?.digest === ref.digest) return {digest: ref.digest, mediaType: head.mediaType, size: head.size, fullRef: `${ref.name}@${ref.digest}`}
      } else {
        const head = await s.repository(ref).headManifest(ref.tag ?? 'latest')
        if (head && /^sha256:[a-f0-9]{64}$/.test(head.digest)) {
          return {digest: head.digest, mediaType: head.mediaType, size: head.size, fullRef: `${ref.name}@${head.digest}`}
        }
      }
    }
    const m = await fetchManifest(s, ref, options.platform)
    return {digest: m.digest, mediaType: m.mediaType, size: m.bytes.length, fullRef: `${ref.name}@${m.digest}`}
  })
}

/**
 * localDigest: the digest an image in a file or layout will have in a registry, computed
 * locally (as containerregistry's digester does). A docker tarball without the original
 * manifest gets the Docker schema 2 manifest a push would write.
 */
export function localDigest(loc: Location, options: RemoteOptions & {platform?: Platform}): Promise<DigestResult> {
  return withSession(options, async (s) => {
    const source = await openSource(loc, s)
    try {
      const roots = await source.roots()
      if (roots.length !== 1) throw new UsageError(`${source.description}: holds ${roots.length} images; name one (docker-archive:FILE:REF, oci:DIR:TAG)`)
      const m = await selectPlatforms(source, roots[0], {platforms: options.platform ? [options.platform] : undefined})
      return {digest: m.digest, mediaType: m.mediaType, size: m.bytes.length, fullRef: `${describeLocation(loc)}@${m.digest}`}
    } finally {
      await source.close()
    }
  })
}

/** looseDigest is the manifest digest of an image given as loose build files (containerregistry's digester). */
export async function looseDigest(files: LooseImageFiles): Promise<DigestResult> {
  const source = new LooseFilesSource(files)
  try {
    const [m] = await source.roots()
    return {digest: m.digest, mediaType: m.mediaType, size: m.bytes.length, fullRef: `${source.description}@${m.digest}`}
  } finally {
    await source.close()
  }
}
