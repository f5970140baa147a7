/**
 * append: add layers to an image (every platform of an index, or the chosen ones) and write the
 * result. Base blobs are never downloaded when the result goes to the base's registry: they are
 * found there (HEAD) or mounted; only the new layers and the rewritten config and manifest move.
 */
import {UsageError} from '../errors.js'
import {isIndex} from '../oci/media-types.js'
import {parseManifest} from '../oci/manifest.js'
import type {Platform} from '../oci/types.js'
import {type Json, createdNow, editRoot} from '../mutate/edit.js'
import {EmptyImageSource} from '../mutate/empty.js'
import {type LayerInputOptions, type PreparedLayer, prepareLayer} from '../mutate/layer.js'
import {OverlaySource} from '../mutate/overlay.js'
import {type RemoteOptions, withSession} from '../remote/session.js'
import {startStreamingUpload} from '../remote/upload.js'
import {type Location, describeLocation} from '../stores/location.js'
import {openSource} from '../stores/open.js'
import type {Source} from '../stores/types.js'
import {type CopyOptions, type CopyResult, copy} from './copy.js'

export interface AppendOptions extends CopyOptions, Omit<LayerInputOptions, 'mediaTypes' | 'signal' | 'warn'> {
  /** no base: start from the empty image, with OCI media types when true */
  ociEmptyBase?: boolean
  setBaseImageAnnotations?: boolean
  /** edit only these platforms of an index base */
  platforms?: Platform[] | 'all'
  /** `created` of the history entries (else SOURCE_DATE_EPOCH, else now) */
  created?: string
}

export async function append(base: Location | undefined, layers: string[], dst: Location, options: AppendOptions): Promise<CopyResult> {
  if (layers.length === 0) throw new UsageError('append needs at least one --new-layer')
  if (layers.filter((l) => l === '-').length > 1) throw new UsageError('only one --new-layer can be - (stdin)')
  const prepared: PreparedLayer[] = []
  try {
    return await withSession(options as RemoteOptions, async (session) => {
      const baseSource: Source = base ? await openSource(base, session) : new EmptyImageSource(options.ociEmptyBase === true)
      const overlay = new OverlaySource(baseSource)
      const [root, ...more] = await baseSource.roots()
      if (more.length > 0) throw new UsageError(`${baseSource.description}: holds ${more.length + 1} images; name one`)
      const docker = isDockerFamily(root.mediaType, root.bytes)
      for (const input of layers) {
        // into a registry, each new layer is uploaded while it is compressed; the copy below then
        // finds it there. Should that upload fail, the copy uploads the layer from its file.
        const upload = dst.kind === 'registry' ? await startStreamingUpload(session.repository(dst.ref)).catch(() => undefined) : undefined
        let layer: PreparedLayer
        try {
          layer = await prepareLayer(input, {...options, mediaTypes: docker ? 'docker' : 'oci', signal: options.signal, warn: options.warn, tee: upload?.body})
        } catch (e) {
          upload?.abort()
          throw e
        }
        prepared.push(layer)
        if (upload && !upload.body.destroyed) await upload.finish(layer.desc.digest).catch(() => {})
        overlay.addBlob(layer.desc.digest, layer.bytes)
      }
      const created = createdNow(options.created)
      const baseName = base ? describeLocation(base) : undefined
      const newRoot = await editRoot(
        overlay,
        root,
        ({manifest, config, digest}) => {
          if (config.os === 'windows') throw new UsageError(`${baseSource.description}: appending to a Windows image is not supported (its layers need the Files/ and Hives/ shape)`)
          manifest.layers = [...((manifest.layers as Json[]) ?? []), ...prepared.map((l) => l.desc)]
          config.rootfs = {type: 'layers', ...(config.rootfs as Json), diff_ids: [...(((config.rootfs as Json)?.diff_ids as string[]) ?? []), ...prepared.map((l) => l.diffId)]}
          config.history = [...((config.history as Json[]) ?? []), ...prepared.map(() => ({created, created_by: 'ocitool append', comment: 'appended layer'}))]
          if (options.setBaseImageAnnotations && baseName) {
            manifest.annotations = {...(manifest.annotations as Json), 'org.opencontainers.image.base.name': baseName, 'org.opencontainers.image.base.digest': digest}
          }
        },
        {platforms: options.platforms},
      )
      overlay.setRoots([{...newRoot, names: []}])
      // the same session: the tokens got while reading the base serve the push too
      return copy({source: overlay}, dst, {...options, session, platforms: undefined})
    })
  } finally {
    for (const l of prepared) await l.cleanup().catch(() => {})
  }
}

function isDockerFamily(mediaType: string, bytes: Buffer): boolean {
  if (mediaType.includes('docker')) return true
  if (isIndex(mediaType)) return false
  return parseManifest(bytes, mediaType).mediaType.includes('docker')
}
