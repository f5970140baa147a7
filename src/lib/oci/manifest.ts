/**
 * manifest: parsing and shape checking of manifest documents (OCI image manifest and
 * index, Docker schema 2 manifest and list, the OCI 1.1-rc artifact manifest, legacy
 * Docker schema 1). The caller keeps the raw bytes (they are what the digest covers);
 * `parseManifest` returns a readonly view of them plus what kind of document it is.
 *
 * Media type detection, in order: the document's own `mediaType` field (it is covered by
 * the digest, so it wins over headers); else the `Content-Type` hint when it names a
 * manifest type; else the shape (`manifests` → index, `config` + `layers` → image, `blobs`
 * → artifact, `schemaVersion: 1` → schema 1). A document that has both `manifests` and
 * `layers`/`config` is refused as ambiguous (CVE-2021-41190).
 */
import {ExitCode, OcitoolError} from '../errors.js'
import {digestProblem} from './digest.js'
import {MediaType, baseMediaType, isConfig, isImageManifest, isIndex, isKnownManifestType, isSchema1} from './media-types.js'
import type {ArtifactManifest, Descriptor, ImageIndex, ImageManifest, Schema1Manifest} from './types.js'

/** MAX_MANIFEST_BYTES caps manifest documents (4 MiB, the limit distribution and containerd use). */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024

/** ManifestKind says how to walk a manifest's children. */
export type ManifestKind = 'index' | 'image' | 'schema1' | 'artifact'

/** ParsedManifest is a checked manifest document, discriminated by `kind`. */
export type ParsedManifest =
  | {readonly kind: 'index'; readonly mediaType: string; readonly manifest: ImageIndex}
  | {readonly kind: 'image'; readonly mediaType: string; readonly manifest: ImageManifest}
  | {readonly kind: 'artifact'; readonly mediaType: string; readonly manifest: ArtifactManifest}
  | {readonly kind: 'schema1'; readonly mediaType: string; readonly manifest: Schema1Manifest}

/** AnyManifest is any manifest document `parseManifest` returns. */
export type AnyManifest = ImageIndex | ImageManifest | ArtifactManifest | Schema1Manifest

/**
 * ManifestError: a manifest that is not JSON or not of a manifest's shape. Code
 * `BAD_MANIFEST`, exit 5 (a registry or file served something unusable).
 */
export class ManifestError extends OcitoolError {
  constructor(message: string, options: {cause?: unknown} = {}) {
    super(message, {code: 'BAD_MANIFEST', exitCode: ExitCode.Registry, ...options})
    this.name = 'ManifestError'
  }
}

type Json = Record<string, unknown>

function fail(problem: string, cause?: unknown): never {
  throw new ManifestError(`invalid manifest: ${problem}`, cause === undefined ? {} : {cause})
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function describe(v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'an array'
  return typeof v === 'object' ? 'an object' : `${typeof v} ${JSON.stringify(v)}`
}

function checkString(v: unknown, path: string, optional = false): void {
  if (v === undefined && optional) return
  if (typeof v !== 'string' || v === '') fail(`${path} must be a non-empty string, got ${describe(v)}`)
}

function checkStringArray(v: unknown, path: string): void {
  if (v === undefined) return
  if (!Array.isArray(v) || v.some((s) => typeof s !== 'string')) fail(`${path} must be an array of strings`)
}

function checkAnnotations(v: unknown, path: string): void {
  if (v === undefined) return
  if (!isObject(v)) fail(`${path} must be an object, got ${describe(v)}`)
  for (const [k, val] of Object.entries(v)) {
    if (typeof val !== 'string') fail(`${path}[${JSON.stringify(k)}] must be a string, got ${describe(val)}`)
  }
}

function checkDigest(v: unknown, path: string): void {
  if (typeof v !== 'string') fail(`${path} must be a digest string, got ${describe(v)}`)
  const problem = digestProblem(v)
  if (problem !== undefined) fail(`${path} ${JSON.stringify(v)}: ${problem}`)
}

function checkPlatform(v: unknown, path: string): void {
  if (v === undefined) return
  if (!isObject(v)) fail(`${path} must be an object, got ${describe(v)}`)
  if (typeof v.os !== 'string') fail(`${path}.os must be a string, got ${describe(v.os)}`)
  if (typeof v.architecture !== 'string') fail(`${path}.architecture must be a string, got ${describe(v.architecture)}`)
  for (const k of ['variant', 'os.version'] as const) {
    if (v[k] !== undefined && typeof v[k] !== 'string') fail(`${path}.${k} must be a string, got ${describe(v[k])}`)
  }
  checkStringArray(v['os.features'], `${path}.os.features`)
  checkStringArray(v.features, `${path}.features`)
}

function checkDescriptor(v: unknown, path: string): asserts v is Descriptor {
  if (!isObject(v)) fail(`${path} must be a descriptor object, got ${describe(v)}`)
  checkString(v.mediaType, `${path}.mediaType`)
  checkDigest(v.digest, `${path}.digest`)
  if (typeof v.size !== 'number' || !Number.isSafeInteger(v.size) || v.size < 0) {
    fail(`${path}.size must be a non-negative integer, got ${describe(v.size)}`)
  }
  checkStringArray(v.urls, `${path}.urls`)
  checkAnnotations(v.annotations, `${path}.annotations`)
  checkPlatform(v.platform, `${path}.platform`)
  checkString(v.artifactType, `${path}.artifactType`, true)
  if (v.data !== undefined && typeof v.data !== 'string') fail(`${path}.data must be a base64 string`)
}

function checkDescriptors(v: unknown, path: string, optional = false): void {
  if (v === undefined && optional) return
  if (!Array.isArray(v)) fail(`${path} must be an array, got ${describe(v)}`)
  v.forEach((d, i) => checkDescriptor(d, `${path}[${i}]`))
}

function checkCommon(doc: Json, wantSchemaVersion: 2 | undefined): void {
  if (wantSchemaVersion !== undefined && doc.schemaVersion !== wantSchemaVersion) {
    fail(`schemaVersion must be ${wantSchemaVersion}, got ${describe(doc.schemaVersion)}`)
  }
  checkString(doc.mediaType, 'mediaType', true)
  checkString(doc.artifactType, 'artifactType', true)
  checkAnnotations(doc.annotations, 'annotations')
  if (doc.subject !== undefined) checkDescriptor(doc.subject, 'subject')
}

function decode(bytes: Uint8Array): Json {
  if (bytes.byteLength > MAX_MANIFEST_BYTES) {
    fail(`${bytes.byteLength} bytes is larger than the ${MAX_MANIFEST_BYTES}-byte limit for manifests`)
  }
  let text: string
  try {
    text = new TextDecoder('utf-8', {fatal: true}).decode(bytes)
  } catch (error) {
    fail('not UTF-8 text', error)
  }
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch (error) {
    fail(`not JSON (${error instanceof Error ? error.message : String(error)})`, error)
  }
  if (!isObject(doc)) fail(`expected a JSON object, got ${describe(doc)}`)
  return doc
}

function kindOf(mt: string): ManifestKind | undefined {
  if (isIndex(mt)) return 'index'
  if (isImageManifest(mt)) return 'image'
  if (isSchema1(mt)) return 'schema1'
  if (baseMediaType(mt) === MediaType.ociArtifact) return 'artifact'
  return undefined
}

function kindByShape(doc: Json): ManifestKind | undefined {
  if (doc.schemaVersion === 1) return 'schema1'
  if ('manifests' in doc) return 'index'
  if ('config' in doc || 'layers' in doc) return 'image'
  if ('blobs' in doc) return 'artifact'
  return undefined
}

function defaultMediaType(kind: ManifestKind, doc: Json): string {
  switch (kind) {
    case 'index':
      return MediaType.ociIndex
    case 'image': {
      const config = isObject(doc.config) ? doc.config.mediaType : undefined
      return config === MediaType.dockerConfig ? MediaType.dockerManifest : MediaType.ociManifest
    }
    case 'artifact':
      return MediaType.ociArtifact
    case 'schema1':
      return Array.isArray(doc.signatures) ? MediaType.dockerSchema1Signed : MediaType.dockerSchema1
  }
}

/**
 * parseManifest checks and parses manifest bytes; it throws ManifestError with a one-line
 * reason (the JSON path of the first bad field) when they are not a usable manifest.
 * `mediaTypeHint` is the `Content-Type` the bytes came with, if any.
 */
export function parseManifest(bytes: Uint8Array, mediaTypeHint?: string): ParsedManifest {
  const doc = decode(bytes)
  if ('manifests' in doc && ('layers' in doc || 'config' in doc)) {
    fail('ambiguous document: has both "manifests" and "layers"/"config"')
  }
  const field = typeof doc.mediaType === 'string' ? doc.mediaType : undefined
  const hint = mediaTypeHint !== undefined && isKnownManifestType(mediaTypeHint) ? baseMediaType(mediaTypeHint) : undefined
  const declared = field ?? hint
  const kind = (declared === undefined ? undefined : kindOf(declared)) ?? kindByShape(doc)
  if (kind === undefined) {
    fail(
      declared === undefined
        ? 'no mediaType, and neither "manifests" nor "config"/"layers" to tell what it is'
        : `unknown mediaType ${JSON.stringify(declared)}, and neither "manifests" nor "config"/"layers" to tell what it is`,
    )
  }
  const mediaType = declared ?? defaultMediaType(kind, doc)
  switch (kind) {
    case 'index':
      checkCommon(doc, 2)
      if (doc.manifests === undefined) fail(`${JSON.stringify(mediaType)} needs a "manifests" array`)
      checkDescriptors(doc.manifests, 'manifests')
      return {kind, mediaType, manifest: doc as unknown as ImageIndex}
    case 'image':
      checkCommon(doc, 2)
      if (doc.config === undefined) fail(`${JSON.stringify(mediaType)} needs a "config" descriptor`)
      if (doc.layers === undefined) fail(`${JSON.stringify(mediaType)} needs a "layers" array`)
      checkDescriptor(doc.config, 'config')
      checkDescriptors(doc.layers, 'layers')
      return {kind, mediaType, manifest: doc as unknown as ImageManifest}
    case 'artifact':
      checkCommon(doc, undefined)
      checkDescriptors(doc.blobs, 'blobs', true)
      return {kind, mediaType, manifest: doc as unknown as ArtifactManifest}
    case 'schema1':
      return {kind, mediaType, manifest: checkSchema1(doc)}
  }
}

function checkSchema1(doc: Json): Schema1Manifest {
  if (doc.schemaVersion !== 1) fail(`schemaVersion must be 1 for a schema 1 manifest, got ${describe(doc.schemaVersion)}`)
  if (!Array.isArray(doc.fsLayers)) fail(`fsLayers must be an array, got ${describe(doc.fsLayers)}`)
  doc.fsLayers.forEach((l: unknown, i: number) => {
    if (!isObject(l)) fail(`fsLayers[${i}] must be an object, got ${describe(l)}`)
    checkDigest(l.blobSum, `fsLayers[${i}].blobSum`)
  })
  if (doc.history !== undefined && !Array.isArray(doc.history)) fail(`history must be an array, got ${describe(doc.history)}`)
  return doc as unknown as Schema1Manifest
}

/**
 * childDescriptors returns what a manifest points at, in document order: an index's
 * manifests; an image's config then layers; an artifact's blobs. `subject` is not a child
 * (it points at the parent of a referrer). Schema 1 manifests have no descriptors (their
 * layers have no size or media type): use `schema1BlobDigests`.
 */
export function childDescriptors(m: ParsedManifest): readonly Descriptor[] {
  switch (m.kind) {
    case 'index':
      return m.manifest.manifests
    case 'image':
      return [m.manifest.config, ...m.manifest.layers]
    case 'artifact':
      return m.manifest.blobs ?? []
    case 'schema1':
      return []
  }
}

/** schema1BlobDigests returns the distinct layer digests of a schema 1 manifest, base layer first. */
export function schema1BlobDigests(m: Schema1Manifest): string[] {
  // fsLayers lists the top layer first, and repeats digests for empty layers.
  return [...new Set([...m.fsLayers].reverse().map((l) => l.blobSum))]
}

/**
 * artifactTypeOf returns a manifest's artifact type as the referrers API reports it:
 * `artifactType`, else an image manifest's config media type when that is not an image
 * config (cosign, helm, …), else undefined for plain images and indexes.
 */
export function artifactTypeOf(m: ImageManifest | ImageIndex | ArtifactManifest): string | undefined {
  if (m.artifactType) return m.artifactType
  if ('config' in m && !isConfig(m.config.mediaType)) return m.config.mediaType
  return undefined
}
