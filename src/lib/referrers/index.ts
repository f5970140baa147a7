/**
 * referrers: the manifests whose `subject` is a given manifest (distribution spec 1.1). Read
 * through the referrers API when the registry has it, else through the fallback tag
 * `<alg>-<hex>` holding an OCI index of referrer descriptors. Writes to the fallback tag are
 * read-modify-write without compare-and-swap, so each writer re-reads after writing (twice,
 * a moment apart) and merges again when a concurrent writer dropped its change.
 * https://github.com/opencontainers/distribution-spec/blob/main/spec.md#listing-referrers
 */
import {setTimeout as sleep} from 'node:timers/promises'
import {OcitoolError, ExitCode, isOcitoolError} from '../errors.js'
import {digestOf} from '../oci/digest.js'
import {artifactTypeOf, parseManifest} from '../oci/manifest.js'
import {MediaType} from '../oci/media-types.js'
import type {Descriptor, ImageIndex} from '../oci/types.js'
import type {ManifestResult, RepositoryClient} from '../remote/registry.js'

export interface ReferrersList {
  manifests: Descriptor[]
  /** true: the registry's referrers API answered; false: read from the fallback tag */
  api: boolean
  /** the artifactType filter was applied by the registry (`OCI-Filters-Applied`) */
  serverFiltered: boolean
}

/** fallbackTag is the tag the referrers tag schema uses for a subject: `sha256-<hex>`, at most 128 characters. */
export function fallbackTag(digest: string): string {
  return digest.replace(':', '-').slice(0, 128)
}

/** referrerDescriptor describes a manifest as its subject's referrers list shows it. */
export function referrerDescriptor(m: ManifestResult): Descriptor {
  const parsed = parseManifest(m.bytes, m.mediaType)
  if (parsed.kind === 'schema1') return {mediaType: m.mediaType, digest: m.digest, size: m.bytes.length}
  const doc = parsed.manifest
  const artifactType = artifactTypeOf(doc)
  return {
    mediaType: parsed.mediaType,
    digest: m.digest,
    size: m.bytes.length,
    ...(artifactType === undefined ? {} : {artifactType}),
    ...(doc.annotations === undefined ? {} : {annotations: doc.annotations}),
  }
}

/** subjectOf returns the digest a manifest names as its subject, if any. */
export function subjectOf(m: ManifestResult): string | undefined {
  const parsed = parseManifest(m.bytes, m.mediaType)
  return parsed.kind === 'schema1' ? undefined : parsed.manifest.subject?.digest
}

/**
 * listReferrers lists a subject's referrers, through the API or the fallback tag, filtered by
 * artifactType. `api: false` (the registry is known to have no referrers API) goes to the tag at once.
 */
export async function listReferrers(repo: RepositoryClient, subject: string, artifactType?: string, api?: boolean): Promise<ReferrersList> {
  const fromApi = api === false ? {api: false, manifests: [], filtered: false} : await repo.referrers(subject, artifactType)
  let manifests: Descriptor[]
  if (fromApi.api) manifests = fromApi.manifests
  else manifests = (await readFallback(repo, subject)).manifests
  const serverFiltered = fromApi.api && fromApi.filtered
  if (artifactType && !serverFiltered) manifests = manifests.filter((d) => d.artifactType === artifactType)
  return {manifests, api: fromApi.api, serverFiltered}
}

interface FallbackIndex {
  manifests: Descriptor[]
  /** the index document as read (other fields are kept when it is rewritten) */
  doc?: Record<string, unknown>
}

/** readFallback reads a subject's fallback tag: an empty list when there is none; an error when it holds something else than an index. */
export async function readFallback(repo: RepositoryClient, subject: string): Promise<FallbackIndex> {
  const tag = fallbackTag(subject)
  let m: ManifestResult
  try {
    m = await repo.getManifest(tag)
  } catch (e) {
    if (isOcitoolError(e) && e.exitCode === ExitCode.NotFound) return {manifests: []}
    throw e
  }
  const parsed = parseManifest(m.bytes, m.mediaType)
  if (parsed.kind !== 'index') {
    throw new OcitoolError(`${repo.name}:${tag}: the referrers fallback tag holds a ${parsed.mediaType}, not an index; left untouched`, {
      code: 'FALLBACK_NOT_INDEX',
      exitCode: ExitCode.Registry,
      suggestions: [`move the tag ${tag} away if it is not a referrers index`],
    })
  }
  const index = parsed.manifest as ImageIndex
  return {manifests: [...index.manifests], doc: JSON.parse(m.bytes.toString('utf8')) as Record<string, unknown>}
}

async function writeFallback(repo: RepositoryClient, subject: string, current: FallbackIndex, manifests: Descriptor[]): Promise<void> {
  const doc = {...(current.doc ?? {schemaVersion: 2, mediaType: MediaType.ociIndex}), manifests}
  const bytes = Buffer.from(JSON.stringify(doc))
  await repo.putManifest(fallbackTag(subject), bytes, MediaType.ociIndex)
}

/**
 * updateFallback changes a subject's fallback index: `change` maps the current list to the
 * wanted one, and `holds` says whether a list read back has the change. Retried until a
 * re-read shows it twice in a row, so concurrent writers' changes are merged, not lost.
 */
async function updateFallback(
  repo: RepositoryClient,
  subject: string,
  change: (list: Descriptor[]) => Descriptor[],
  holds: (list: Descriptor[]) => boolean,
): Promise<void> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const current = await readFallback(repo, subject)
    if (!holds(current.manifests)) await writeFallback(repo, subject, current, change(current.manifests))
    let stable = true
    for (let check = 0; check < 2 && stable; check++) {
      await sleep(50 + Math.floor(Math.random() * 150))
      stable = holds((await readFallback(repo, subject)).manifests)
    }
    if (stable) return
    await sleep(Math.floor(Math.random() * 100 * (attempt + 1)))
  }
  throw new OcitoolError(`${repo.name}:${fallbackTag(subject)}: the referrers fallback index keeps changing under us; try again`, {code: 'FALLBACK_CONTENDED', exitCode: ExitCode.Registry})
}

/** addToFallback adds a referrer's descriptor to its subject's fallback index. */
export function addToFallback(repo: RepositoryClient, subject: string, desc: Descriptor): Promise<void> {
  return updateFallback(
    repo,
    subject,
    (list) => [...list.filter((d) => d.digest !== desc.digest), desc],
    (list) => list.some((d) => d.digest === desc.digest),
  )
}

/** removeFromFallback drops a referrer from its subject's fallback index (nothing when there is no index). */
export async function removeFromFallback(repo: RepositoryClient, subject: string, digest: string): Promise<void> {
  const current = await readFallback(repo, subject)
  if (!current.manifests.some((d) => d.digest === digest)) return
  await updateFallback(
    repo,
    subject,
    (list) => list.filter((d) => d.digest !== digest),
    (list) => !list.some((d) => d.digest === digest),
  )
}

/** deleteFallback deletes a subject's fallback index (the subject is gone); nothing when absent. */
export async function deleteFallback(repo: RepositoryClient, subject: string): Promise<boolean> {
  const head = await repo.headManifest(fallbackTag(subject))
  if (!head) return false
  const digest = head.digest || digestOf((await repo.getManifest(fallbackTag(subject))).bytes)
  await repo.deleteManifest(digest)
  return true
}

/**
 * indexReferrer makes a referrer pushed with `putManifestResult` findable: nothing when the
 * registry answered `OCI-Subject` (it indexed it), else adds it to the fallback index.
 */
export async function indexReferrer(repo: RepositoryClient, m: ManifestResult, ociSubject: string | undefined): Promise<'api' | 'fallback'> {
  const subject = subjectOf(m)
  if (!subject) return 'api'
  if (ociSubject) return 'api'
  await addToFallback(repo, subject, referrerDescriptor(m))
  return 'fallback'
}
