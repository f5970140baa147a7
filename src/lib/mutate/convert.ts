/** convert: Docker schema 2 ⇄ OCI media types of a manifest and its descriptors (--to-oci, --to-docker). */
import {MediaType} from '../oci/media-types.js'
import type {Json} from './edit.js'

const TO_OCI: Record<string, string> = {
  [MediaType.dockerManifest]: MediaType.ociManifest,
  [MediaType.dockerManifestList]: MediaType.ociIndex,
  [MediaType.dockerConfig]: MediaType.ociConfig,
  [MediaType.dockerLayer]: MediaType.ociLayerGzip,
  [MediaType.dockerLayerUncompressed]: MediaType.ociLayer,
  [MediaType.dockerLayerZstd]: MediaType.ociLayerZstd,
  [MediaType.dockerForeignLayer]: MediaType.ociLayerNondistributableGzip,
}
const TO_DOCKER: Record<string, string> = Object.fromEntries(Object.entries(TO_OCI).map(([d, o]) => [o, d]))

export type Target = 'oci' | 'docker'

export function convertMediaType(mt: string, to: Target): string {
  return (to === 'oci' ? TO_OCI : TO_DOCKER)[mt] ?? mt
}

/** convertManifest rewrites the media types of an image manifest in place. */
export function convertManifest(manifest: Json, to: Target): void {
  manifest.mediaType = convertMediaType(manifest.mediaType as string, to)
  manifest.config = {...manifest.config, mediaType: convertMediaType((manifest.config as Json).mediaType as string, to)}
  manifest.layers = ((manifest.layers as Json[]) ?? []).map((l) => ({...l, mediaType: convertMediaType(l.mediaType as string, to)}))
}
