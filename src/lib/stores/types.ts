/**
 * stores/types: every place an image lives is a Source, a Sink, or both. The transfer engine
 * (src/lib/transfer) walks a source's manifest graph and writes it to a sink: blobs first
 * (each distinct digest once, concurrently, streamed and verified), manifests last, children
 * before parents, then `commit()`. On any failure the engine calls `abort()`, which must leave
 * nothing behind: no partial file, no temporary file, no tag pointing at an incomplete image.
 */
import type {Readable} from 'node:stream'
import type {Descriptor} from '../oci/types.js'

/** A manifest (image, index or artifact) as exact bytes. */
export interface ManifestBytes {
  bytes: Buffer
  mediaType: string
  /** `sha256:…` of `bytes` */
  digest: string
}

/** A top-level manifest a source names, with the names (tags) it carries there. */
export interface Root extends ManifestBytes {
  /**
   * Names this root has in the source: tags for a registry (`v1`), `RepoTags` of a docker
   * archive (`registry/repo:tag`), `org.opencontainers.image.ref.name` of an OCI layout.
   * Empty when the source names it only by digest.
   */
  names: string[]
}

/** Where a registry repository is, so a sink on the same registry can mount from it. */
export interface MountLocation {
  registry: string
  repository: string
}

export interface Source {
  /** for messages: `docker-archive:./app.tar`, `127.0.0.1:5000/app:1` */
  readonly description: string
  /** set by registry sources, so a sink on the same registry can mount instead of copying */
  readonly mountFrom?: MountLocation
  /** blobs arrive as socket chunks that die as soon as they are passed on (a registry: see io/reclaim.ts) */
  readonly socketBlobs?: boolean
  /** where one blob can be mounted from, when it differs per blob (mutated images); else mountFrom */
  mountLocation?(desc: Descriptor): MountLocation | undefined
  /** the top-level manifests this source names (one for most; several for a multi-image tarball) */
  roots(): Promise<Root[]>
  /** a manifest by descriptor (children of an index, referrers), verified against desc.digest */
  manifest(desc: Descriptor): Promise<ManifestBytes>
  /**
   * a blob's bytes by descriptor. A fresh stream per call. The engine verifies digest and size
   * while it streams; sources need not (but may) verify.
   */
  blob(desc: Descriptor): Promise<Readable>
  /** whether the source can give this blob (registries answer a HEAD); absent: assume it can */
  hasBlob?(desc: Descriptor): Promise<boolean>
  close(): Promise<void>
}

export interface PutManifestOptions {
  /** true for a top-level manifest (the engine passes names to tag) */
  root: boolean
  /** the names to give a root in this sink (tags; `registry/repo:tag` for docker archives) */
  names: string[]
}

export interface Sink {
  readonly description: string
  /** how many putBlob calls may run at once (1 for sinks writing one stream, e.g. a tar file) */
  readonly blobConcurrency?: number
  /**
   * true when the sink itself checks every blob against its digest and refuses a mismatch (a
   * registry does, on the upload's final PUT: DIGEST_INVALID). The engine then checks only the
   * size as bytes stream, sparing a second sha256 of every byte on a CPU shared with registries.
   */
  readonly verifiesDigests?: boolean
  /** whether the sink needs blobs at all for manifests it already has (registries: no) */
  hasBlob(desc: Descriptor): Promise<boolean>
  /** obtain a blob without its bytes (cross-repository mount); false when it cannot */
  mount?(desc: Descriptor, from: MountLocation): Promise<boolean>
  /**
   * store a blob. `data` is verified by the engine as it streams and errors when the bytes are
   * wrong: the sink must then store nothing (and let the error through).
   */
  putBlob(desc: Descriptor, data: Readable): Promise<void>
  /** whether a manifest with this digest is already there (to skip its whole subtree) */
  hasManifest?(digest: string): Promise<boolean>
  /** store a manifest (after all its children). Roots get their names here. */
  putManifest(manifest: ManifestBytes, options: PutManifestOptions): Promise<void>
  /** finish: write indexes, rename temporary files into place */
  commit(): Promise<void>
  /** undo what can be undone: remove temporary files; never leaves a partial output file */
  abort(): Promise<void>
}
