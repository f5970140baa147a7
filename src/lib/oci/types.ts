/**
 * types: the JSON documents of the OCI image spec (and their Docker schema 2 twins), as
 * readonly TypeScript types. Field names follow the JSON exactly, so a parsed document can
 * be used as is and a built one serialised with `JSON.stringify`.
 *
 * https://github.com/opencontainers/image-spec/blob/main/descriptor.md
 * https://github.com/opencontainers/image-spec/blob/main/manifest.md
 * https://github.com/opencontainers/image-spec/blob/main/image-index.md
 * https://github.com/opencontainers/image-spec/blob/main/config.md
 */

/** Annotations are string-to-string metadata on descriptors, manifests and indexes. */
export type Annotations = Readonly<Record<string, string>>

/** Platform says which OS and CPU an image runs on (image-index.md). */
export interface Platform {
  readonly architecture: string
  readonly os: string
  readonly 'os.version'?: string
  readonly 'os.features'?: readonly string[]
  readonly variant?: string
  readonly features?: readonly string[]
}

/** Descriptor points at content by digest, with its media type and size in bytes. */
export interface Descriptor {
  readonly mediaType: string
  readonly digest: string
  readonly size: number
  readonly urls?: readonly string[]
  readonly annotations?: Annotations
  readonly platform?: Platform
  readonly artifactType?: string
  /** The content itself, base64-encoded (embedded content, OCI 1.1). */
  readonly data?: string
}

/** ImageManifest is an OCI image manifest or a Docker schema 2 manifest. */
export interface ImageManifest {
  readonly schemaVersion: 2
  readonly mediaType?: string
  readonly artifactType?: string
  readonly config: Descriptor
  readonly layers: readonly Descriptor[]
  readonly subject?: Descriptor
  readonly annotations?: Annotations
}

/** ImageIndex is an OCI image index or a Docker manifest list. */
export interface ImageIndex {
  readonly schemaVersion: 2
  readonly mediaType?: string
  readonly artifactType?: string
  readonly manifests: readonly Descriptor[]
  readonly subject?: Descriptor
  readonly annotations?: Annotations
}

/** ArtifactManifest is the artifact manifest of the OCI 1.1 release candidates (withdrawn, still met). */
export interface ArtifactManifest {
  readonly mediaType: string
  readonly artifactType?: string
  readonly blobs?: readonly Descriptor[]
  readonly subject?: Descriptor
  readonly annotations?: Annotations
}

/** Schema1Manifest is a legacy Docker schema 1 manifest; ocitool reads it but never writes one. */
export interface Schema1Manifest {
  readonly schemaVersion: 1
  readonly name?: string
  readonly tag?: string
  readonly architecture?: string
  readonly fsLayers: readonly {readonly blobSum: string}[]
  readonly history?: readonly {readonly v1Compatibility: string}[]
  readonly signatures?: readonly unknown[]
}

/** HealthConfig is Docker's `Healthcheck` in a container config (durations in nanoseconds). */
export interface HealthConfig {
  readonly Test?: readonly string[]
  readonly Interval?: number
  readonly Timeout?: number
  readonly StartPeriod?: number
  readonly StartInterval?: number
  readonly Retries?: number
}

/** ContainerConfig is the `config` object of an image config: how to run the image. */
export interface ContainerConfig {
  readonly User?: string
  readonly ExposedPorts?: Readonly<Record<string, object>>
  readonly Env?: readonly string[]
  readonly Entrypoint?: readonly string[] | null
  readonly Cmd?: readonly string[] | null
  readonly Volumes?: Readonly<Record<string, object>>
  readonly WorkingDir?: string
  readonly Labels?: Readonly<Record<string, string>>
  readonly StopSignal?: string
  readonly ArgsEscaped?: boolean
  readonly Healthcheck?: HealthConfig
  readonly OnBuild?: readonly string[] | null
  readonly Shell?: readonly string[]
  readonly Hostname?: string
  readonly Domainname?: string
  readonly Image?: string
}

/** History is one step of the image's build history; `empty_layer` steps have no layer. */
export interface History {
  readonly created?: string
  readonly created_by?: string
  readonly author?: string
  readonly comment?: string
  readonly empty_layer?: boolean
}

/** RootFs lists the uncompressed digests (diff ids) of the image's layers, in order. */
export interface RootFs {
  readonly type: string
  readonly diff_ids: readonly string[]
}

/** ImageConfig is the image config blob (OCI config.md, Docker container config). */
export interface ImageConfig {
  readonly architecture: string
  readonly os: string
  readonly 'os.version'?: string
  readonly 'os.features'?: readonly string[]
  readonly variant?: string
  readonly created?: string
  readonly author?: string
  readonly config?: ContainerConfig
  readonly rootfs: RootFs
  readonly history?: readonly History[]
  /** Docker-only fields (container, docker_version, container_config, ...) pass through. */
  readonly [extra: string]: unknown
}
