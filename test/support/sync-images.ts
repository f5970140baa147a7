// Small images for the sync tests, built in code and pushed with ocitool's own registry client
// (skopeo per image would make a 30-repository source slow). Layers are seeded bytes, gzip'd
// without an mtime, so the same seed gives the same digest; images may share layers.
import * as zlib from 'node:zlib'
import {Session} from '../../src/lib/remote/session.js'
import {parseReference} from '../../src/lib/name/reference.js'
import {seededBytes, sha256} from './fixtures.js'
import type {RunningRegistry} from './registry.js'

export interface SeedImage {
  /** layer seeds: the same seed makes the same layer */
  layers: string[]
  created?: string
  /** bytes per layer before gzip (default 2048; seeded bytes barely compress) */
  layerBytes?: number
}

export interface SeededImage {
  digest: string
  manifest: Buffer
  blobs: Map<string, Buffer>
}

export function buildSeedImage(img: SeedImage): SeededImage {
  const blobs = new Map<string, Buffer>()
  const layers = img.layers.map((seed) => {
    const gz = zlib.gzipSync(seededBytes(seed, img.layerBytes ?? 2048), {level: 1})
    blobs.set(sha256(gz), gz)
    return {mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', size: gz.length, digest: sha256(gz)}
  })
  const config = Buffer.from(JSON.stringify({
    created: img.created ?? '2000-01-01T00:00:00Z', architecture: 'amd64', os: 'linux',
    rootfs: {type: 'layers', diff_ids: layers.map((l) => l.digest)}, config: {Labels: {seed: img.layers.join(',')}},
  }))
  blobs.set(sha256(config), config)
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: {mediaType: 'application/vnd.oci.image.config.v1+json', size: config.length, digest: sha256(config)}, layers,
  }))
  return {digest: sha256(manifest), manifest, blobs}
}

/**
 * pushImages pushes `repo:tag` → image for each entry; returns the manifest digests by `repo:tag`.
 * Repositories are pushed at once, the images of one repository one after another: distribution
 * rewrites a repository's link to a blob in place when the same blob is uploaded to it twice at
 * once, and a manifest put meanwhile finds its blob unknown (MANIFEST_BLOB_UNKNOWN).
 */
export async function pushImages(reg: RunningRegistry, images: Record<string, SeedImage>): Promise<Record<string, string>> {
  const s = new Session({})
  const out: Record<string, string> = {}
  const byRepo = new Map<string, Array<[string, SeedImage]>>()
  for (const [repoTag, spec] of Object.entries(images)) {
    const repoName = repoTag.slice(0, repoTag.lastIndexOf(':'))
    byRepo.set(repoName, [...(byRepo.get(repoName) ?? []), [repoTag, spec]])
  }
  try {
    await Promise.all([...byRepo.values()].map(async (list) => {
      for (const [repoTag, spec] of list) {
        const ref = parseReference(`${reg.host}/${repoTag}`)
        const repo = s.repository(ref)
        const img = buildSeedImage(spec)
        for (const [d, b] of img.blobs) if ((await repo.headBlob(d)) === undefined) await repo.uploadBlob(d, b.length, b)
        out[repoTag] = await repo.putManifest(ref.tag!, img.manifest, 'application/vnd.oci.image.manifest.v1+json')
      }
    }))
    return out
  } finally {
    s.close()
  }
}

/** digestAt is the digest `repo:tag` has on `reg` (HEAD), or undefined. */
export async function digestAt(reg: RunningRegistry, repoTag: string): Promise<string | undefined> {
  const s = new Session({})
  try {
    const ref = parseReference(`${reg.host}/${repoTag}`)
    return (await s.repository(ref).headManifest(ref.tag!))?.digest
  } finally {
    s.close()
  }
}

/** blobRequests are the destination log's requests that touch blobs (HEAD, GET, uploads, mounts). */
export function blobRequests(reg: RunningRegistry, since = 0) {
  return reg.requests().slice(since).filter((r) => /\/blobs\//.test(r.path))
}

/** uploadsAndMounts counts finished uploads (PUT …?digest=) and mounts (POST ?mount= answered 201) on a log. */
export function uploadsAndMounts(reg: RunningRegistry, since = 0): {uploads: string[]; mounts: string[]} {
  const reqs = reg.requests().slice(since)
  const digestOf = (uri: string) => decodeURIComponent(/[?&](?:digest|mount)=([^&]+)/.exec(uri)?.[1] ?? '')
  return {
    uploads: reqs.filter((r) => r.method === 'PUT' && /\/blobs\/uploads\//.test(r.path) && r.status === 201).map((r) => digestOf(r.uri)),
    mounts: reqs.filter((r) => r.method === 'POST' && /[?&]mount=/.test(r.uri) && r.status === 201).map((r) => digestOf(r.uri)),
  }
}
