/** empty: the empty image (no layers), the base of `append` without --base, as crane's. */
import {Readable} from 'node:stream'
import {NotFoundError} from '../errors.js'
import {digestOf} from '../oci/digest.js'
import {MediaType} from '../oci/media-types.js'
import type {Descriptor} from '../oci/types.js'
import type {ManifestBytes, Root, Source} from '../stores/types.js'

export class EmptyImageSource implements Source {
  readonly description = 'the empty image'
  private readonly config: Buffer
  private readonly root: Root

  /** @param oci OCI media types (`--oci-empty-base`); Docker schema 2 otherwise */
  constructor(oci: boolean) {
    this.config = Buffer.from(JSON.stringify({architecture: 'amd64', os: 'linux', rootfs: {type: 'layers', diff_ids: []}, config: {}}))
    const manifest = {
      schemaVersion: 2,
      mediaType: oci ? MediaType.ociManifest : MediaType.dockerManifest,
      config: {mediaType: oci ? MediaType.ociConfig : MediaType.dockerConfig, size: this.config.length, digest: digestOf(this.config)},
      layers: [],
    }
    const bytes = Buffer.from(JSON.stringify(manifest))
    this.root = {bytes, mediaType: manifest.mediaType, digest: digestOf(bytes), names: []}
  }

  async roots(): Promise<Root[]> {
    return [this.root]
  }

  async manifest(desc: Descriptor): Promise<ManifestBytes> {
    if (desc.digest !== this.root.digest) throw new NotFoundError(`${this.description}: no manifest ${desc.digest}`)
    return this.root
  }

  async blob(desc: Descriptor): Promise<Readable> {
    if (desc.digest !== digestOf(this.config)) throw new NotFoundError(`${this.description}: no blob ${desc.digest}`)
    return Readable.from([this.config])
  }

  async close(): Promise<void> {}
}
