// pushBigImage pushes an OCI image with one incompressible layer of `size` seeded bytes, through
// the core client (no skopeo): the fixture of fault tests that need a blob big enough to cut.
import {parseReference} from '../../src/lib/name/reference.js'
import {Session} from '../../src/lib/remote/session.js'
import {MediaTypes, seededBytes, sha256} from './fixtures.js'
import type {RunningRegistry} from './registry.js'

export interface BigImage {
  /** manifest digest */
  digest: string
  /** layer digest */
  layer: string
  /** layer bytes */
  bytes: Buffer
}

export async function pushBigImage(reg: RunningRegistry, repoTag: string, seed: string, size: number): Promise<BigImage> {
  const layer = seededBytes(seed, size)
  const config = Buffer.from(JSON.stringify({architecture: 'amd64', os: 'linux', rootfs: {type: 'layers', diff_ids: [sha256(layer)]}}))
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaTypes.ociManifest,
      config: {mediaType: MediaTypes.ociConfig, size: config.length, digest: sha256(config)},
      layers: [{mediaType: MediaTypes.ociLayerGzip, size: layer.length, digest: sha256(layer)}],
    }),
  )
  const ref = parseReference(`${reg.host}/${repoTag}`)
  const s = new Session({})
  try {
    const repo = s.repository(ref)
    for (const b of [config, layer]) await repo.uploadBlob(sha256(b), b.length, b)
    return {digest: await repo.putManifest(ref.tag!, manifest, MediaTypes.ociManifest), layer: sha256(layer), bytes: layer}
  } finally {
    s.close()
  }
}
