/**
 * source-image: one image out of any store (registry, oci:, oci-archive:, docker-archive:,
 * dir:), for the commands that read an image's documents rather than move it (inspect, diff).
 * An index gives its child for `platform` (default linux/amd64, as crane and skopeo on amd64).
 */
import {NotFoundError, RegistryError, UsageError} from '../errors.js'
import {readBody} from '../remote/transport/http.js'
import {verify} from '../io/verify.js'
import {parseManifest} from '../oci/manifest.js'
import type {ImageConfig, ImageManifest, Platform} from '../oci/types.js'
import type {Session} from '../remote/session.js'
import type {Location} from '../stores/location.js'
import {openSource} from '../stores/open.js'
import type {ManifestBytes, Root, Source} from '../stores/types.js'
import {selectPlatforms} from '../transfer/plan.js'
import {DEFAULT_PLATFORM} from './resolve.js'

const CONFIG_CAP = 64 * 1024 * 1024

export interface SourceImage {
  source: Source
  /** the top-level manifest the location names (an index when it is one) */
  top: Root
  /** the image manifest (the platform's child of an index) */
  image: ManifestBytes
  manifest: ImageManifest
  /** the config blob's exact bytes, verified */
  configBytes(): Promise<Buffer>
  /** the config, parsed */
  config(): Promise<ImageConfig>
}

/** openTop opens a location and reads its one top-level manifest (refusing a file of several images). */
export async function openTop(loc: Location, session: Session): Promise<{source: Source; top: Root}> {
  const source = await openSource(loc, session)
  try {
    const roots = await source.roots()
    if (roots.length === 0) throw new NotFoundError(`${source.description}: holds no image`)
    if (roots.length > 1) throw new UsageError(`${source.description}: holds ${roots.length} images; name one (e.g. docker-archive:FILE:REF or oci:DIR:TAG)`)
    return {source, top: roots[0]}
  } catch (e) {
    await source.close().catch(() => {})
    throw e
  }
}

/** openImage resolves a location to one image; the caller closes `source`. */
export async function openImage(loc: Location, session: Session, platform: Platform = DEFAULT_PLATFORM): Promise<SourceImage> {
  const {source, top} = await openTop(loc, session)
  try {
    const image = await selectPlatforms(source, top, {platforms: [platform]})
    const parsed = parseManifest(image.bytes, image.mediaType)
    if (parsed.kind === 'schema1') throw new UsageError(`${source.description}: Docker schema 1 manifests are not supported; convert the image first`, {code: 'SCHEMA1'})
    if (parsed.kind !== 'image') throw new UsageError(`${source.description}: ${image.digest} is ${parsed.mediaType}, not an image manifest`, {code: 'NOT_AN_IMAGE'})
    const manifest = parsed.manifest as ImageManifest
    let cached: Promise<Buffer> | undefined
    const configBytes = (): Promise<Buffer> => {
      cached ??= (async () => {
        const d = manifest.config
        const raw = await source.blob(d)
        const checker = verify(d.digest, d.size, {what: `config ${d.digest} of ${source.description}`})
        raw.on('error', (e) => checker.destroy(e))
        return readBody(raw.pipe(checker), CONFIG_CAP, `config ${d.digest}`)
      })()
      return cached
    }
    const config = async (): Promise<ImageConfig> => {
      const bytes = await configBytes()
      try {
        const doc = JSON.parse(bytes.toString('utf8')) as ImageConfig
        if (typeof doc !== 'object' || doc === null) throw new Error('not an object')
        return doc
      } catch (e) {
        throw new RegistryError(`config ${manifest.config.digest} of ${source.description}: not JSON`, {code: 'BAD_CONFIG', cause: e})
      }
    }
    return {source, top, image, manifest, configBytes, config}
  } catch (e) {
    await source.close().catch(() => {})
    throw e
  }
}
