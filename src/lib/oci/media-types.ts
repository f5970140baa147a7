/**
 * media-types: the media types of the OCI image spec and of Docker's image formats, and
 * predicates over them. Every predicate ignores media-type parameters (`; charset=utf-8`)
 * and case, because registries send `Content-Type` headers with both.
 *
 * OCI: https://github.com/opencontainers/image-spec/blob/main/media-types.md
 * Docker: https://distribution.github.io/distribution/spec/manifest-v2-2/
 */

/** MediaType names every media type ocitool knows. Unknown types are plain strings. */
export const MediaType = {
  // OCI image spec
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  ociLayerNondistributable: 'application/vnd.oci.image.layer.nondistributable.v1.tar',
  ociLayerNondistributableGzip: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  ociLayerNondistributableZstd: 'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
  ociEmpty: 'application/vnd.oci.empty.v1+json',
  /** The artifact manifest of the OCI 1.1 release candidates, withdrawn from 1.1 final; still seen in the wild. */
  ociArtifact: 'application/vnd.oci.artifact.manifest.v1+json',
  ociLayoutHeader: 'application/vnd.oci.layout.header.v1+json',

  // Docker image manifest v2, schema 2
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  dockerLayerUncompressed: 'application/vnd.docker.image.rootfs.diff.tar',
  dockerLayerZstd: 'application/vnd.docker.image.rootfs.diff.tar.zstd',
  dockerForeignLayer: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  dockerPluginConfig: 'application/vnd.docker.plugin.v1+json',

  // Docker image manifest v2, schema 1 (legacy: recognised, never written)
  dockerSchema1: 'application/vnd.docker.distribution.manifest.v1+json',
  dockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
} as const

/** KnownMediaType is the union of the values of `MediaType`. */
export type KnownMediaType = (typeof MediaType)[keyof typeof MediaType]

/** LayerCompression is how a layer's bytes are compressed, as its media type says. */
export type LayerCompression = 'none' | 'gzip' | 'zstd'

/** baseMediaType returns mt lower-cased and without parameters: `A/B; charset=utf-8` → `a/b`. */
export function baseMediaType(mt: string): string {
  const semi = mt.indexOf(';')
  return (semi === -1 ? mt : mt.slice(0, semi)).trim().toLowerCase()
}

const INDEX_TYPES: ReadonlySet<string> = new Set([MediaType.ociIndex, MediaType.dockerManifestList])
const IMAGE_MANIFEST_TYPES: ReadonlySet<string> = new Set([MediaType.ociManifest, MediaType.dockerManifest])
const SCHEMA1_TYPES: ReadonlySet<string> = new Set([MediaType.dockerSchema1, MediaType.dockerSchema1Signed])
const CONFIG_TYPES: ReadonlySet<string> = new Set([MediaType.ociConfig, MediaType.dockerConfig])

const LAYER_COMPRESSION: ReadonlyMap<string, LayerCompression> = new Map<string, LayerCompression>([
  [MediaType.ociLayer, 'none'],
  [MediaType.ociLayerGzip, 'gzip'],
  [MediaType.ociLayerZstd, 'zstd'],
  [MediaType.ociLayerNondistributable, 'none'],
  [MediaType.ociLayerNondistributableGzip, 'gzip'],
  [MediaType.ociLayerNondistributableZstd, 'zstd'],
  [MediaType.dockerLayer, 'gzip'],
  [MediaType.dockerLayerUncompressed, 'none'],
  [MediaType.dockerLayerZstd, 'zstd'],
  [MediaType.dockerForeignLayer, 'gzip'],
])

const FOREIGN_TYPES: ReadonlySet<string> = new Set([
  MediaType.dockerForeignLayer,
  MediaType.ociLayerNondistributable,
  MediaType.ociLayerNondistributableGzip,
  MediaType.ociLayerNondistributableZstd,
])

/**
 * MANIFEST_ACCEPT lists every manifest media type, most preferred first, for the `Accept`
 * header of manifest requests. Registries that convert formats (Docker Hub, old
 * distribution) answer with the original bytes only when the original type is listed.
 */
export const MANIFEST_ACCEPT: readonly string[] = [
  MediaType.ociIndex,
  MediaType.ociManifest,
  MediaType.dockerManifestList,
  MediaType.dockerManifest,
  MediaType.ociArtifact,
  MediaType.dockerSchema1Signed,
  MediaType.dockerSchema1,
]

/** MANIFEST_ACCEPT_HEADER is `MANIFEST_ACCEPT` joined for an HTTP `Accept` header. */
export const MANIFEST_ACCEPT_HEADER: string = MANIFEST_ACCEPT.join(', ')

const MANIFEST_TYPES: ReadonlySet<string> = new Set(MANIFEST_ACCEPT)

/** isIndex is true for an OCI image index or a Docker manifest list. */
export function isIndex(mt: string): boolean {
  return INDEX_TYPES.has(baseMediaType(mt))
}

/** isImageManifest is true for an OCI image manifest or a Docker schema 2 manifest (not schema 1). */
export function isImageManifest(mt: string): boolean {
  return IMAGE_MANIFEST_TYPES.has(baseMediaType(mt))
}

/** isSchema1 is true for a legacy Docker schema 1 manifest, signed or not. */
export function isSchema1(mt: string): boolean {
  return SCHEMA1_TYPES.has(baseMediaType(mt))
}

/** isKnownManifestType is true for every manifest type in `MANIFEST_ACCEPT`. */
export function isKnownManifestType(mt: string): boolean {
  return MANIFEST_TYPES.has(baseMediaType(mt))
}

/** isConfig is true for an OCI image config or a Docker container config. */
export function isConfig(mt: string): boolean {
  return CONFIG_TYPES.has(baseMediaType(mt))
}

/** isLayer is true for every OCI and Docker layer type, foreign and nondistributable ones included. */
export function isLayer(mt: string): boolean {
  return LAYER_COMPRESSION.has(baseMediaType(mt))
}

/**
 * isForeign is true for layers that registries may not hold (Docker foreign layers, OCI
 * nondistributable layers): their bytes live at the descriptor's `urls`, and copies skip
 * them unless asked to include them, as crane does.
 */
export function isForeign(mt: string): boolean {
  return FOREIGN_TYPES.has(baseMediaType(mt))
}

/** layerCompression returns how a known layer type is compressed, or undefined for other types. */
export function layerCompression(mt: string): LayerCompression | undefined {
  return LAYER_COMPRESSION.get(baseMediaType(mt))
}
