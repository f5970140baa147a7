/**
 * resolve: from a reference to the manifest the user means, picking a child of an index by
 * platform when asked. Shared by manifest, digest, config and the transfer commands.
 */
import {NotFoundError, RegistryError} from '../errors.js'
import {parseReference, type Reference} from '../name/reference.js'
import {parseManifest} from '../oci/manifest.js'
import {formatPlatform, selectManifest} from '../oci/platform.js'
import type {ImageIndex, Platform} from '../oci/types.js'
import type {ManifestResult} from '../remote/registry.js'
import type {Session} from '../remote/session.js'

export interface ResolvedManifest extends ManifestResult {
  /** the reference the bytes were fetched by (a child's digest after platform selection) */
  ref: Reference
}

/** fetchManifest gets the manifest `ref` names; with `platform`, the matching child of an index. */
export async function fetchManifest(session: Session, ref: Reference, platform?: Platform): Promise<ResolvedManifest> {
  const repo = session.repository(ref)
  const top = await repo.getManifest(ref.digest ?? ref.tag ?? 'latest')
  if (!platform) return {...top, ref}
  const parsed = parseManifest(top.bytes, top.mediaType)
  if (parsed.kind !== 'index') return {...top, ref}
  const child = selectManifest(parsed.manifest as ImageIndex, platform)
  if (!child) {
    const have = (parsed.manifest as ImageIndex).manifests.map((d) => (d.platform ? formatPlatform(d.platform) : 'unknown')).join(', ')
    throw new NotFoundError(`${ref}: no manifest for platform ${formatPlatform(platform)} (the index has: ${have || 'none'})`, {code: 'PLATFORM_NOT_FOUND'})
  }
  const childRef = ref.repo().withDigest(child.digest)
  const got = await repo.getManifest(child.digest)
  return {...got, ref: childRef}
}

/** the platform crane picks for an index when none is given */
export const DEFAULT_PLATFORM: Platform = {os: 'linux', architecture: 'amd64'}

/** parseImage parses a user's image argument (a UsageError on bad input). */
export function parseImage(input: string): Reference {
  return parseReference(input)
}

/** imageManifestOrThrow rejects documents that are not image manifests where one is needed. */
export function requireImage(m: ResolvedManifest, what: string): void {
  const parsed = parseManifest(m.bytes, m.mediaType)
  if (parsed.kind !== 'image' && parsed.kind !== 'artifact') {
    throw new RegistryError(`${m.ref}: is ${parsed.mediaType}, not an image manifest; ${what}`, {code: 'NOT_AN_IMAGE'})
  }
}
