/**
 * local-digest: the digest an image in a file, a layout or loose build files will have in a
 * registry, computed here without one (containerregistry's digester).
 */
import {UsageError} from '../errors.js'
import type {Platform} from '../oci/types.js'
import {type RemoteOptions, withSession} from '../remote/session.js'
import {type Location, describeLocation} from '../stores/location.js'
import {LooseFilesSource, type LooseImageFiles} from '../stores/loose.js'
import {openSource} from '../stores/open.js'
import {selectPlatforms} from '../transfer/plan.js'
import type {DigestResult} from './digest.js'

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
