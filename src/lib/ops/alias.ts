/**
 * alias: a name for a set of blobs, stored as an OCI artifact manifest (artifactType
 * `application/vnd.ocitool.alias.v1`, the blobs as layers) under the tag NAME, so any OCI
 * tool can copy it. Deleting an alias leaves its blobs.
 */
import {NotFoundError, OcitoolError, ExitCode, isOcitoolError} from '../errors.js'
import type {Repository} from '../name/reference.js'
import {digestOf, isDigest} from '../oci/digest.js'
import {parseManifest} from '../oci/manifest.js'
import {MediaType} from '../oci/media-types.js'
import type {Descriptor, ImageManifest} from '../oci/types.js'
import type {RepositoryClient} from '../remote/registry.js'
import {type RemoteOptions, withSession} from '../remote/session.js'
import {pushBytesBlob, pushFileBlob} from './attach.js'

export const ALIAS_ARTIFACT_TYPE = 'application/vnd.ocitool.alias.v1'

/** aliasDigests returns the blob digests of an alias (NotFound when there is none, exit 1 when the tag is not an alias). */
export async function aliasDigests(repo: RepositoryClient, name: string): Promise<string[]> {
  let m
  try {
    m = await repo.getManifest(name)
  } catch (e) {
    if (isOcitoolError(e) && e.exitCode === ExitCode.NotFound) throw new NotFoundError(`alias ${repo.name}:${name}: not found`, {code: 'ALIAS_NOT_FOUND', cause: e})
    throw e
  }
  const parsed = parseManifest(m.bytes, m.mediaType)
  if (parsed.kind !== 'image' || (parsed.manifest as ImageManifest).artifactType !== ALIAS_ARTIFACT_TYPE) {
    throw new OcitoolError(`${repo.name}:${name}: the tag is not an alias (${ALIAS_ARTIFACT_TYPE})`, {code: 'NOT_AN_ALIAS'})
  }
  return (parsed.manifest as ImageManifest).layers.map((l) => l.digest)
}

/** set stores an alias for blobs named by digest (which must be in the repository) or files (pushed). */
export function set(repoName: Repository, name: string, items: string[], options: RemoteOptions = {}): Promise<{digest: string; blobs: string[]}> {
  return withSession(options, async (s) => {
    const repo = s.repository(repoName)
    const layers: Descriptor[] = []
    for (const it of items) {
      if (isDigest(it as unknown)) {
        const size = await repo.headBlob(it)
        if (size === undefined) throw new NotFoundError(`blob ${repo.name}@${it}: not found`, {code: 'BLOB_UNKNOWN'})
        layers.push({mediaType: 'application/octet-stream', digest: it, size})
      } else {
        const {digest, size} = await pushFileBlob(repo, it)
        layers.push({mediaType: 'application/octet-stream', digest, size, annotations: {'org.opencontainers.image.title': (it as string).split('/').pop()!}})
      }
    }
    const empty = await pushBytesBlob(repo, Buffer.from('{}'))
    const manifest = {
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      artifactType: ALIAS_ARTIFACT_TYPE,
      config: {mediaType: MediaType.ociEmpty, ...empty, data: 'e30='},
      layers: layers.length > 0 ? layers : [{mediaType: MediaType.ociEmpty, ...empty, data: 'e30='}],
    }
    const bytes = Buffer.from(JSON.stringify(manifest))
    await repo.putManifest(name, bytes, MediaType.ociManifest)
    return {digest: digestOf(bytes), blobs: layers.map((l) => l.digest)}
  })
}

/** get returns an alias's blob digests. */
export function get(repoName: Repository, name: string, options: RemoteOptions = {}): Promise<string[]> {
  return withSession(options, (s) => aliasDigests(s.repository(repoName), name))
}

/** list returns the aliases of a repository (tags whose manifest is an alias). */
export function list(repoName: Repository, options: RemoteOptions = {}): Promise<string[]> {
  return withSession(options, async (s) => {
    const repo = s.repository(repoName)
    const out: string[] = []
    for (const tag of await repo.tags()) {
      const m = await repo.getManifest(tag).catch(() => undefined)
      if (!m) continue
      try {
        const parsed = parseManifest(m.bytes, m.mediaType)
        if (parsed.kind === 'image' && (parsed.manifest as ImageManifest).artifactType === ALIAS_ARTIFACT_TYPE) out.push(tag)
      } catch {
        // not a manifest we read: not an alias
      }
    }
    return out.sort()
  })
}

/** remove deletes an alias (its manifest); the blobs stay. */
export function remove(repoName: Repository, name: string, options: RemoteOptions = {}): Promise<string> {
  return withSession(options, async (s) => {
    const repo = s.repository(repoName)
    await aliasDigests(repo, name)
    const head = await repo.headManifest(name)
    const digest = head?.digest || (await repo.getManifest(name)).digest
    await repo.deleteManifest(digest)
    return digest
  })
}
