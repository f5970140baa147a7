/**
 * attach: push an artifact (files as layers) whose `subject` is an image, and make it findable
 * among that image's referrers: by the registry (`OCI-Subject` on the manifest PUT), else in
 * the fallback tag's index.
 */
import {createReadStream} from 'node:fs'
import {stat} from 'node:fs/promises'
import * as path from 'node:path'
import {Transform} from 'node:stream'
import {NotFoundError, UsageError} from '../errors.js'
import type {Reference} from '../name/reference.js'
import {digestOf, digestOfStream} from '../oci/digest.js'
import {parseManifest} from '../oci/manifest.js'
import {MediaType} from '../oci/media-types.js'
import {formatPlatform, selectManifest} from '../oci/platform.js'
import type {Descriptor, ImageIndex, Platform} from '../oci/types.js'
import {indexReferrer} from '../referrers/index.js'
import {type RepositoryClient, uploadStream} from '../remote/registry.js'
import {type RemoteOptions, withSession} from '../remote/session.js'

export interface AttachFile {
  path: string
  mediaType: string
}

export interface AttachOptions extends RemoteOptions {
  files: AttachFile[]
  artifactType: string
  annotations?: Record<string, string>
  config?: AttachFile
  platform?: Platform
}

export interface AttachResult {
  digest: string
  /** `repo@sha256:…` */
  reference: string
  subject: string
  /** how the registry lists it: its referrers API, or the fallback tag */
  indexedBy: 'api' | 'fallback'
}

const MEDIA_TYPE = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/

/** checkMediaType refuses what is not `type/subtype` (exit 2). */
export function checkMediaType(mt: string, what: string): string {
  if (!MEDIA_TYPE.test(mt)) throw new UsageError(`${what}: ${JSON.stringify(mt)} is not a media type (type/subtype)`, {code: 'BAD_MEDIA_TYPE'})
  return mt
}

/** parseFileArg splits `PATH[:MEDIA_TYPE]`; a path that exists as written wins over a split. */
export async function parseFileArg(arg: string, defaultType = 'application/octet-stream'): Promise<AttachFile> {
  if (await isFile(arg)) return {path: arg, mediaType: defaultType}
  const colon = arg.lastIndexOf(':')
  if (colon > 0) {
    const file = arg.slice(0, colon)
    const mediaType = checkMediaType(arg.slice(colon + 1), file)
    if (!(await isFile(file))) throw new NotFoundError(`${file}: no such file`, {code: 'FILE_NOT_FOUND'})
    return {path: file, mediaType}
  }
  throw new NotFoundError(`${arg}: no such file`, {code: 'FILE_NOT_FOUND'})
}

async function isFile(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isFile()
  } catch {
    return false
  }
}

/** pushFileBlob hashes a file, then uploads it streamed unless the repository has it. */
export async function pushFileBlob(repo: RepositoryClient, file: string, onBytes?: (n: number) => void): Promise<{digest: string; size: number}> {
  const {digest, size} = await digestOfStream(createReadStream(file))
  if ((await repo.headBlob(digest)) === undefined) {
    const data = createReadStream(file, {highWaterMark: 1024 * 1024})
    await uploadStream(repo, digest, size, onBytes ? data.pipe(counter(onBytes)) : data)
  }
  return {digest, size}
}

/** counter passes bytes on, telling onBytes how many went by (progress, without a competing 'data' reader) */
export function counter(onBytes: (n: number) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      onBytes(chunk.length)
      cb(null, chunk)
    },
  })
}

/** pushBytesBlob uploads a small blob unless the repository has it. */
export async function pushBytesBlob(repo: RepositoryClient, bytes: Buffer): Promise<{digest: string; size: number}> {
  const digest = digestOf(bytes)
  if ((await repo.headBlob(digest)) === undefined) await repo.uploadBlob(digest, bytes.length, bytes)
  return {digest, size: bytes.length}
}

/** attach pushes the artifact and indexes it as a referrer of the image `ref` names. */
export function attach(ref: Reference, options: AttachOptions): Promise<AttachResult> {
  if (!MEDIA_TYPE.test(options.artifactType)) {
    // the OCI playground's crane took a plain word ("misc"); kept as given, as it did
    if (!/^[\x21-\x7e]+$/.test(options.artifactType)) checkMediaType(options.artifactType, 'the artifact type')
    options.warn?.(`artifact type ${JSON.stringify(options.artifactType)} is not a media type (type/subtype); stored as given`)
  }
  return withSession(options, async (s) => {
    const repo = s.repository(ref)
    let subject = await repo.getManifest(ref.identifier)
    if (options.platform) {
      const parsed = parseManifest(subject.bytes, subject.mediaType)
      if (parsed.kind === 'index') {
        const child = selectManifest(parsed.manifest as ImageIndex, options.platform)
        if (!child) throw new NotFoundError(`${ref}: no manifest for platform ${formatPlatform(options.platform)}`, {code: 'PLATFORM_NOT_FOUND'})
        subject = await repo.getManifest(child.digest)
      }
    }
    const layers: Descriptor[] = []
    for (const f of options.files) {
      const blob = await pushFileBlob(repo, f.path)
      layers.push({mediaType: f.mediaType, digest: blob.digest, size: blob.size, annotations: {'org.opencontainers.image.title': path.basename(f.path)}})
    }
    const empty = async (): Promise<Descriptor> => ({mediaType: MediaType.ociEmpty, ...(await pushBytesBlob(repo, Buffer.from('{}'))), data: 'e30='})
    let config: Descriptor
    if (options.config) {
      const blob = await pushFileBlob(repo, options.config.path)
      config = {mediaType: options.config.mediaType, digest: blob.digest, size: blob.size}
    } else {
      config = await empty()
    }
    const manifest = {
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      artifactType: options.artifactType,
      config,
      layers: layers.length > 0 ? layers : [await empty()],
      subject: {mediaType: subject.mediaType, digest: subject.digest, size: subject.bytes.length},
      ...(options.annotations && Object.keys(options.annotations).length > 0 ? {annotations: options.annotations} : {}),
    }
    const bytes = Buffer.from(JSON.stringify(manifest))
    const digest = digestOf(bytes)
    const put = await repo.putManifestResult(digest, bytes, MediaType.ociManifest)
    const indexedBy = await indexReferrer(repo, {bytes, mediaType: MediaType.ociManifest, digest}, put.ociSubject)
    return {digest, reference: `${ref.name}@${digest}`, subject: subject.digest, indexedBy}
  })
}

/** parseAnnotations turns `k=v` strings into an object (exit 2 for a missing `=`). */
export function parseAnnotations(list: string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  for (const a of list ?? []) {
    const eq = a.indexOf('=')
    if (eq <= 0) throw new UsageError(`--annotation ${JSON.stringify(a)}: want KEY=VALUE`)
    out[a.slice(0, eq)] = a.slice(eq + 1)
  }
  return out
}
