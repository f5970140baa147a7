/**
 * artifact: OCI artifacts as oras pushes and pulls them. push: files as layers named by
 * `org.opencontainers.image.title`, the empty config (`application/vnd.oci.empty.v1+json`)
 * unless one is given, `artifactType`, no subject, under a tag. pull: every titled layer
 * written under the target directory, verified; a title that would leave the directory (an
 * absolute path, `..`) fails the pull before any byte moves, and files appear only when all of
 * them were downloaded and verified (temporary names, renamed at the end).
 */
import {randomBytes} from 'node:crypto'
import {createWriteStream} from 'node:fs'
import * as fsp from 'node:fs/promises'
import * as path from 'node:path'
import {pipeline} from 'node:stream/promises'
import {NotFoundError, OcitoolError, UsageError, isOcitoolError} from '../errors.js'
import type {Reference} from '../name/reference.js'
import {digestOf} from '../oci/digest.js'
import {parseManifest} from '../oci/manifest.js'
import {MediaType} from '../oci/media-types.js'
import type {Descriptor, ImageManifest, Platform} from '../oci/types.js'
import {type RemoteOptions, withSession} from '../remote/session.js'
import {type AttachFile, checkMediaType, pushBytesBlob, pushFileBlob} from './attach.js'
import {fetchManifest} from './resolve.js'

export const TITLE = 'org.opencontainers.image.title'
/** oras's artifact type when none is given */
export const UNKNOWN_ARTIFACT = 'application/vnd.unknown.artifact.v1'
/** oras's default media type for a file */
export const DEFAULT_FILE_TYPE = 'application/vnd.oci.image.layer.v1.tar'

export interface ArtifactPushOptions extends RemoteOptions {
  files: AttachFile[]
  artifactType?: string
  annotations?: Record<string, string>
  config?: AttachFile
}

export interface ArtifactPushResult {
  digest: string
  /** `registry/repository@digest` */
  reference: string
  /** `registry/repository:tag` */
  tagged: string
  artifactType: string
}

/** pushArtifact uploads the files and the manifest, tagged as `ref` says. */
export function pushArtifact(ref: Reference, options: ArtifactPushOptions): Promise<ArtifactPushResult> {
  const artifactType = options.artifactType ? checkMediaType(options.artifactType, '--artifact-type') : options.config ? undefined : UNKNOWN_ARTIFACT
  if (options.files.length === 0) throw new UsageError('artifact push: name at least one FILE', {code: 'NO_FILES'})
  const titles = new Set<string>()
  for (const f of options.files) {
    const title = path.basename(f.path)
    if (titles.has(title)) throw new UsageError(`artifact push: two files are named ${JSON.stringify(title)}; titles must differ`, {code: 'DUPLICATE_TITLE'})
    titles.add(title)
  }
  return withSession(options, async (s) => {
    const repo = s.repository(ref)
    const layers: Descriptor[] = []
    for (const f of options.files) {
      const blob = await pushFileBlob(repo, f.path)
      layers.push({mediaType: f.mediaType, digest: blob.digest, size: blob.size, annotations: {[TITLE]: path.basename(f.path)}})
    }
    let config: Descriptor
    if (options.config) {
      const blob = await pushFileBlob(repo, options.config.path)
      config = {mediaType: options.config.mediaType, digest: blob.digest, size: blob.size}
    } else {
      config = {mediaType: MediaType.ociEmpty, ...(await pushBytesBlob(repo, Buffer.from('{}'))), data: 'e30='}
    }
    const manifest = {
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      ...(artifactType ? {artifactType} : {}),
      config,
      layers,
      ...(options.annotations && Object.keys(options.annotations).length > 0 ? {annotations: options.annotations} : {}),
    }
    const bytes = Buffer.from(JSON.stringify(manifest))
    const digest = digestOf(bytes)
    const tag = ref.digest ? undefined : ref.identifier
    if (ref.digest && ref.digest !== digest) throw new UsageError(`${ref}: the artifact's digest is ${digest}; push it to a tag`, {code: 'DIGEST_MISMATCH'})
    await repo.putManifest(tag ?? digest, bytes, MediaType.ociManifest)
    return {digest, reference: `${ref.name}@${digest}`, tagged: tag ? `${ref.name}:${tag}` : `${ref.name}@${digest}`, artifactType: artifactType ?? config.mediaType}
  })
}

export interface PulledFile {
  /** the path written (under the target directory) */
  path: string
  title: string
  digest: string
  size: number
}

export interface ArtifactPullOptions extends RemoteOptions {
  platform?: Platform
}

/** safeTarget resolves a title under `dir`, refusing one that leaves it (exit 6: the artifact, not the user, is at fault). */
export function safeTarget(dir: string, title: string): string {
  const root = path.resolve(dir)
  const bad = title === '' || title.includes('\0') || path.isAbsolute(title) || title.split(/[/\\]/).some((p) => p === '..')
  const target = path.resolve(root, title)
  if (bad || target === root || !target.startsWith(root + path.sep)) {
    throw new OcitoolError(`artifact file title ${JSON.stringify(title)} would be written outside ${dir}; refusing to pull`, {code: 'UNSAFE_PATH', exitCode: 6})
  }
  return target
}

/** pullArtifact writes every titled layer of `ref`'s manifest under `dir`. */
export function pullArtifact(ref: Reference, dir: string, options: ArtifactPullOptions = {}): Promise<PulledFile[]> {
  return withSession(options, async (s) => {
    const m = await fetchManifest(s, ref, options.platform)
    const parsed = parseManifest(m.bytes, m.mediaType)
    if (parsed.kind === 'index') throw new UsageError(`${ref}: is an index; pick one manifest with --platform or by digest`, {code: 'NOT_AN_ARTIFACT'})
    if (parsed.kind !== 'image' && parsed.kind !== 'artifact') throw new UsageError(`${ref}: ${parsed.mediaType} holds no files`, {code: 'NOT_AN_ARTIFACT'})
    const layers = ((parsed.manifest as ImageManifest).layers ?? []).filter((d) => typeof d.annotations?.[TITLE] === 'string')
    if (layers.length === 0) throw new NotFoundError(`${ref}: no layer has a ${TITLE} annotation; nothing to pull`, {code: 'NO_FILES'})
    const plan = layers.map((d) => ({desc: d, title: d.annotations![TITLE], target: safeTarget(dir, d.annotations![TITLE])}))
    const seen = new Set<string>()
    for (const p of plan) {
      if (seen.has(p.target)) throw new OcitoolError(`${ref}: two layers are titled ${JSON.stringify(p.title)}`, {code: 'DUPLICATE_TITLE', exitCode: 6})
      seen.add(p.target)
    }
    const repo = s.repository(m.ref)
    const staged: Array<{tmp: string; target: string}> = []
    try {
      for (const p of plan) {
        await fsp.mkdir(path.dirname(p.target), {recursive: true})
        const tmp = path.join(path.dirname(p.target), `.${path.basename(p.target)}.tmp-${randomBytes(6).toString('hex')}`)
        staged.push({tmp, target: p.target})
        await pipeline(await repo.blob(p.desc.digest, p.desc.size), createWriteStream(tmp, {flags: 'wx'}), {signal: options.signal})
      }
      for (const f of staged) await fsp.rename(f.tmp, f.target)
    } catch (e) {
      await Promise.all(staged.map((f) => fsp.rm(f.tmp, {force: true})))
      if (isOcitoolError(e)) throw e
      throw new OcitoolError(`pulling ${ref} into ${dir}: ${(e as Error).message}`, {code: 'WRITE', cause: e})
    }
    return plan.map((p) => ({path: path.join(dir, p.title), title: p.title, digest: p.desc.digest, size: p.desc.size}))
  })
}
