/**
 * alias: a name for a set of blobs, stored as python-dxf stores it so both tools read each
 * other's: a Docker schema 2 manifest under the tag NAME whose layers are the blobs
 * (application/octet-stream) and whose config is the first blob again (schema 2 requires a
 * config; dxf reuses the first layer rather than upload one). The bytes are the ones dxf's
 * json.dumps(sort_keys=True) gives: keys sorted, ", " and ": " separators. Aliases written by
 * earlier ocitool versions (OCI artifacts of type application/vnd.ocitool.alias.v1) are read too.
 * Deleting an alias leaves its blobs.
 */
import {NotFoundError, OcitoolError, ExitCode, UsageError, isOcitoolError} from '../errors.js'
import type {Repository} from '../name/reference.js'
import {digestOf, isDigest} from '../oci/digest.js'
import {parseManifest} from '../oci/manifest.js'
import {MediaType} from '../oci/media-types.js'
import {formatPlatform, platformMatches} from '../oci/platform.js'
import type {Descriptor, ImageIndex, ImageManifest, Platform} from '../oci/types.js'
import type {RepositoryClient} from '../remote/registry.js'
import {type RemoteOptions, withSession} from '../remote/session.js'
import {pushFileBlob} from './attach.js'

/** the artifact type of the aliases earlier ocitool versions wrote (still read) */
export const ALIAS_ARTIFACT_TYPE = 'application/vnd.ocitool.alias.v1'
const DXF_CONFIG_TYPE = 'application/vnd.docker.container.image.v1+json'

export interface AliasOptions extends RemoteOptions {
  /** for an alias that is a manifest list / index: the platform whose manifest to read */
  platform?: Platform
}

/** aliasManifestBytes is the manifest python-dxf's set_alias writes for these blobs, byte for byte. */
export function aliasManifestBytes(blobs: Array<{digest: string; size: number}>): Buffer {
  if (blobs.length === 0) throw new UsageError('an alias names at least one blob', {code: 'EMPTY_ALIAS'})
  const layer = (b: {digest: string; size: number}) => `{"digest": ${JSON.stringify(b.digest)}, "mediaType": "application/octet-stream", "size": ${b.size}}`
  const config = `{"digest": ${JSON.stringify(blobs[0].digest)}, "mediaType": "${DXF_CONFIG_TYPE}", "size": ${blobs[0].size}}`
  return Buffer.from(`{"config": ${config}, "layers": [${blobs.map(layer).join(', ')}], "mediaType": "${MediaType.dockerManifest}", "schemaVersion": 2}`)
}

interface ReadAlias {
  /** the blobs, in order */
  blobs: Descriptor[]
  /** the config blob: the first blob for an alias dxf or ocitool wrote, the image ID for an image */
  config: string
  /** the manifest's digest (what deleting the alias deletes) */
  digest: string
  bytes: Buffer
}

/** readAlias reads the alias NAME: dxf's form, ocitool's earlier form, or (as dxf does) any image manifest. */
export async function readAlias(repo: RepositoryClient, name: string, platform?: Platform): Promise<ReadAlias> {
  let m
  try {
    m = await repo.getManifest(name)
  } catch (e) {
    if (isOcitoolError(e) && e.exitCode === ExitCode.NotFound) throw new NotFoundError(`alias ${repo.name}:${name}: not found`, {code: 'ALIAS_NOT_FOUND', cause: e})
    throw e
  }
  let parsed = parseManifest(m.bytes, m.mediaType)
  if (parsed.kind === 'index') {
    const index = parsed.manifest as ImageIndex
    const have = index.manifests.map((d) => (d.platform ? formatPlatform(d.platform) : 'unknown')).join(', ')
    if (!platform) throw new UsageError(`alias ${repo.name}:${name} is a multi-platform index (${have}): choose one with DXF_PLATFORM or --platform`, {code: 'ALIAS_PLATFORM'})
    const child = index.manifests.find((d) => d.platform && platformMatches(platform, d.platform))
    if (!child) throw new NotFoundError(`alias ${repo.name}:${name}: no manifest for platform ${formatPlatform(platform)} (the index has: ${have})`, {code: 'PLATFORM_NOT_FOUND'})
    m = await repo.getManifest(child.digest)
    parsed = parseManifest(m.bytes, m.mediaType)
  }
  if (parsed.kind !== 'image') throw new OcitoolError(`${repo.name}:${name}: the tag is not an alias (a ${parsed.mediaType} manifest)`, {code: 'NOT_AN_ALIAS'})
  const im = parsed.manifest as ImageManifest
  if (im.artifactType === ALIAS_ARTIFACT_TYPE) {
    // ocitool's earlier form: an empty placeholder layer stood for "no blobs"
    const blobs = im.layers.filter((l) => l.mediaType !== MediaType.ociEmpty)
    return {blobs, config: blobs[0]?.digest ?? im.config.digest, digest: m.digest, bytes: m.bytes}
  }
  return {blobs: [...im.layers], config: im.config.digest, digest: m.digest, bytes: m.bytes}
}

/** aliasDigests returns the blob digests of an alias (NotFound when there is none). */
export async function aliasDigests(repo: RepositoryClient, name: string, platform?: Platform): Promise<string[]> {
  return (await readAlias(repo, name, platform)).blobs.map((l) => l.digest)
}

/** aliasBlobs returns the blobs (digest and size, as the manifest gives them) of an alias. */
export async function aliasBlobs(repo: RepositoryClient, name: string, platform?: Platform): Promise<Descriptor[]> {
  return (await readAlias(repo, name, platform)).blobs
}

/** setAlias stores an alias for blobs already in the repository (digest and size known). */
export async function setAlias(repo: RepositoryClient, name: string, blobs: Array<{digest: string; size: number}>): Promise<string> {
  const bytes = aliasManifestBytes(blobs)
  await repo.putManifest(name, bytes, MediaType.dockerManifest)
  return digestOf(bytes)
}

/** set stores an alias for blobs named by digest (which must be in the repository) or files (pushed). */
export function set(repoName: Repository, name: string, items: string[], options: RemoteOptions = {}): Promise<{digest: string; blobs: string[]}> {
  return withSession(options, async (s) => {
    const repo = s.repository(repoName)
    const blobs: Array<{digest: string; size: number}> = []
    for (const it of items) {
      if (isDigest(it as unknown)) {
        const size = await repo.headBlob(it)
        if (size === undefined) throw new NotFoundError(`blob ${repo.name}@${it}: not found`, {code: 'BLOB_UNKNOWN'})
        blobs.push({digest: it, size})
      } else {
        blobs.push(await pushFileBlob(repo, it))
      }
    }
    const digest = await setAlias(repo, name, blobs)
    return {digest, blobs: blobs.map((b) => b.digest)}
  })
}

/** get returns an alias's blob digests. */
export function get(repoName: Repository, name: string, options: AliasOptions = {}): Promise<string[]> {
  return withSession(options, (s) => aliasDigests(s.repository(repoName), name, options.platform))
}

/** configDigest is dxf's get-digest: the config blob of an alias (its first blob) or image (the image ID). */
export function configDigest(repoName: Repository, name: string, options: AliasOptions = {}): Promise<string> {
  return withSession(options, async (s) => (await readAlias(s.repository(repoName), name, options.platform)).config)
}

/** list returns the aliases of a repository (tags whose manifest is an alias). */
export function list(repoName: Repository, options: RemoteOptions = {}): Promise<string[]> {
  return withSession(options, async (s) => {
    const repo = s.repository(repoName)
    const out: string[] = []
    for (const tag of await repo.tags()) {
      const m = await repo.getManifest(tag).catch(() => undefined)
      if (m && isAliasManifest(m.bytes, m.mediaType)) out.push(tag)
    }
    return out.sort()
  })
}

/** isAliasManifest: dxf's form (config = first layer, octet-stream layers) or ocitool's earlier artifact. */
export function isAliasManifest(bytes: Buffer, mediaType: string): boolean {
  try {
    const parsed = parseManifest(bytes, mediaType)
    if (parsed.kind !== 'image') return false
    const im = parsed.manifest as ImageManifest
    if (im.artifactType === ALIAS_ARTIFACT_TYPE) return true
    return im.layers.length > 0 && im.config.digest === im.layers[0].digest && im.layers.every((l) => l.mediaType === 'application/octet-stream')
  } catch {
    return false // not a manifest we read: not an alias
  }
}

/** remove deletes an alias (its manifest) and returns the blobs it named, as dxf's del-alias prints them; the blobs stay. */
export function remove(repoName: Repository, name: string, options: AliasOptions = {}): Promise<{digest: string; blobs: string[]}> {
  return withSession(options, async (s) => {
    const repo = s.repository(repoName)
    const alias = await readAlias(repo, name, options.platform)
    const head = await repo.headManifest(name)
    const digest = head?.digest || (await repo.getManifest(name)).digest
    await repo.deleteManifest(digest)
    return {digest, blobs: alias.blobs.map((b) => b.digest)}
  })
}

/** manifest returns an alias's manifest bytes as the registry stores them (dxf's get-manifest). */
export function manifest(repoName: Repository, name: string, options: AliasOptions = {}): Promise<Buffer> {
  return withSession(options, async (s) => (await readAlias(s.repository(repoName), name, options.platform)).bytes)
}
