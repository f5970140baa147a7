// Deterministic fixture images, built in code (tar-stream + zlib) and pushed with skopeo,
// which nobody here wrote: a push that round-trips through skopeo with the same digest also
// proves our fixtures are well formed. Same seed, same bytes, same digests, every run.

import * as crypto from 'node:crypto'
import * as fsp from 'node:fs/promises'
import * as path from 'node:path'
import * as zlib from 'node:zlib'
import * as tar from 'tar-stream'
import {run, type RunOptions, type RunResult} from './exec.js'
import type {RunningRegistry} from './registry.js'
import {tmpDir, type TmpDir} from './tmp.js'

export const MediaTypes = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
} as const

export interface Platform {
  os: string
  architecture: string
  variant?: string
}

export interface ImageOptions {
  layers: number
  seed: string
  mediaTypes: 'oci' | 'docker'
  /** Default linux/amd64. */
  platform?: Platform
}

/** BuiltImage is a fixture image: its digests plus every blob, in memory (they are tiny). */
export interface BuiltImage {
  mediaType: string
  manifestDigest: string
  manifestBytes: Buffer
  configDigest: string
  configBytes: Buffer
  layerDigests: string[]
  diffIds: string[]
  platform: Platform
  /** digest → bytes for the config and layers (not the manifest). */
  blobs: Map<string, Buffer>
}

/** BuiltIndex is a three-platform OCI index and its images. */
export interface BuiltIndex {
  mediaType: string
  manifestDigest: string
  manifestBytes: Buffer
  images: BuiltImage[]
}

export const sha256 = (b: Buffer | string) => `sha256:${crypto.createHash('sha256').update(b).digest('hex')}`
const hex = (digest: string) => digest.replace(/^sha256:/, '')
const fixedTime = new Date('2000-01-01T00:00:00Z')

/** seededBytes returns n bytes derived from key only (SHA-256 in counter mode). */
export function seededBytes(key: string, n: number): Buffer {
  const parts: Buffer[] = []
  for (let i = 0; parts.length * 32 < n; i++) parts.push(crypto.createHash('sha256').update(`${key}#${i}`).digest())
  return Buffer.concat(parts).subarray(0, n)
}

/** makeLayerTar builds a small deterministic tar: one directory and two regular files, uid/gid 0, fixed mtime. */
export async function makeLayerTar(key: string): Promise<Buffer> {
  const pack = tar.pack()
  const common = {mtime: fixedTime, uid: 0, gid: 0, uname: 'root', gname: 'root'}
  const dir = `fixture/${key.replace(/[^\w.-]/g, '_')}`
  const hello = Buffer.from(`hello from ${key}\n`)
  const data = seededBytes(key, 700)
  pack.entry({...common, name: `${dir}/`, type: 'directory', mode: 0o755})
  pack.entry({...common, name: `${dir}/hello.txt`, type: 'file', mode: 0o644, size: hello.length}, hello)
  pack.entry({...common, name: `${dir}/data.bin`, type: 'file', mode: 0o644, size: data.length}, data)
  pack.finalize()
  const chunks: Buffer[] = []
  for await (const c of pack) chunks.push(c as Buffer)
  return Buffer.concat(chunks)
}

/** buildImage makes an image with `layers` gzip layers; the gzip header carries no mtime, so bytes are stable. */
export async function buildImage(opts: ImageOptions): Promise<BuiltImage> {
  const platform = opts.platform ?? {os: 'linux', architecture: 'amd64'}
  const oci = opts.mediaTypes === 'oci'
  const blobs = new Map<string, Buffer>()
  const layerDescs: object[] = []
  const diffIds: string[] = []
  for (let i = 0; i < opts.layers; i++) {
    const raw = await makeLayerTar(`${opts.seed}-layer${i}`)
    const gz = zlib.gzipSync(raw, {level: 6})
    diffIds.push(sha256(raw))
    blobs.set(sha256(gz), gz)
    layerDescs.push({mediaType: oci ? MediaTypes.ociLayerGzip : MediaTypes.dockerLayerGzip, size: gz.length, digest: sha256(gz)})
  }
  const config = {
    created: fixedTime.toISOString(),
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant ? {variant: platform.variant} : {}),
    config: {Env: ['PATH=/usr/local/bin:/usr/bin:/bin', `FIXTURE_SEED=${opts.seed}`], Cmd: ['/bin/sh'], Labels: {'org.ocitool.fixture': opts.seed}},
    rootfs: {type: 'layers', diff_ids: diffIds},
    history: diffIds.map((_, i) => ({created: fixedTime.toISOString(), created_by: `ocitool fixture layer ${i}`})),
  }
  const configBytes = Buffer.from(JSON.stringify(config))
  blobs.set(sha256(configBytes), configBytes)
  const mediaType = oci ? MediaTypes.ociManifest : MediaTypes.dockerManifest
  const manifest = {
    schemaVersion: 2,
    mediaType,
    config: {mediaType: oci ? MediaTypes.ociConfig : MediaTypes.dockerConfig, size: configBytes.length, digest: sha256(configBytes)},
    layers: layerDescs,
  }
  const manifestBytes = Buffer.from(JSON.stringify(manifest))
  return {
    mediaType, manifestDigest: sha256(manifestBytes), manifestBytes, configDigest: sha256(configBytes), configBytes,
    layerDigests: layerDescs.map((d) => (d as {digest: string}).digest), diffIds, platform, blobs,
  }
}

export const indexPlatforms: Platform[] = [
  {os: 'linux', architecture: 'amd64'},
  {os: 'linux', architecture: 'arm64', variant: 'v8'},
  {os: 'linux', architecture: 'arm', variant: 'v7'},
]

/** buildIndex makes an OCI index of three distinct single-layer images (linux/amd64, linux/arm64/v8, linux/arm/v7). */
export async function buildIndex(seed: string): Promise<BuiltIndex> {
  const images: BuiltImage[] = []
  for (const p of indexPlatforms) images.push(await buildImage({layers: 1, seed: `${seed}-${p.architecture}${p.variant ?? ''}`, mediaTypes: 'oci', platform: p}))
  const index = {
    schemaVersion: 2,
    mediaType: MediaTypes.ociIndex,
    manifests: images.map((im) => ({mediaType: im.mediaType, size: im.manifestBytes.length, digest: im.manifestDigest, platform: im.platform})),
  }
  const manifestBytes = Buffer.from(JSON.stringify(index))
  return {mediaType: MediaTypes.ociIndex, manifestDigest: sha256(manifestBytes), manifestBytes, images}
}

/** writeImageDir writes a skopeo `dir:` directory (manifest.json, version, one file per blob named by hex digest). */
export async function writeImageDir(dir: string, opts: ImageOptions): Promise<BuiltImage> {
  const image = await buildImage(opts)
  await fsp.mkdir(dir, {recursive: true})
  await fsp.writeFile(path.join(dir, 'version'), 'Directory Transport Version: 1.1\n')
  await fsp.writeFile(path.join(dir, 'manifest.json'), image.manifestBytes)
  for (const [digest, bytes] of image.blobs) await fsp.writeFile(path.join(dir, hex(digest)), bytes)
  return image
}

/**
 * writeOciLayout writes an OCI image layout whose index.json holds one entry: the
 * three-platform index from buildIndex(seed), annotated `org.opencontainers.image.ref.name: tag`.
 */
export async function writeOciLayout(dir: string, opts: {seed: string; tag?: string}): Promise<BuiltIndex> {
  const built = await buildIndex(opts.seed)
  const blobDir = path.join(dir, 'blobs', 'sha256')
  await fsp.mkdir(blobDir, {recursive: true})
  const put = (digest: string, bytes: Buffer) => fsp.writeFile(path.join(blobDir, hex(digest)), bytes)
  for (const im of built.images) {
    await put(im.manifestDigest, im.manifestBytes)
    for (const [digest, bytes] of im.blobs) await put(digest, bytes)
  }
  await put(built.manifestDigest, built.manifestBytes)
  await fsp.writeFile(path.join(dir, 'oci-layout'), JSON.stringify({imageLayoutVersion: '1.0.0'}))
  const top = {
    schemaVersion: 2,
    mediaType: MediaTypes.ociIndex,
    manifests: [{
      mediaType: built.mediaType, size: built.manifestBytes.length, digest: built.manifestDigest,
      annotations: {'org.opencontainers.image.ref.name': opts.tag ?? 'latest'},
    }],
  }
  await fsp.writeFile(path.join(dir, 'index.json'), JSON.stringify(top))
  return built
}

let skopeoHome: Promise<TmpDir> | undefined

/**
 * skopeo runs skopeo (async, default timeout 60 s) with an isolated HOME and without
 * XDG_RUNTIME_DIR, REGISTRY_AUTH_FILE or DOCKER_CONFIG, so no real credentials are used,
 * and with --insecure-policy so no policy.json is needed. Never throws on a non-zero exit.
 */
export async function skopeo(args: string[], opts: RunOptions = {}): Promise<RunResult> {
  skopeoHome ??= tmpDir('skopeo-home')
  const env: NodeJS.ProcessEnv = {...process.env, HOME: (await skopeoHome).path, ...opts.env}
  for (const k of ['XDG_RUNTIME_DIR', 'REGISTRY_AUTH_FILE', 'DOCKER_CONFIG']) if (!opts.env?.[k]) delete env[k]
  return run('skopeo', ['--insecure-policy', ...args], {...opts, env})
}

/**
 * skopeoRegistryArgs returns the TLS and credential flags skopeo needs for registry, for
 * one side of a copy (`src`/`dest`) or for single-image commands like inspect (`''`).
 * user picks the account (default: the first of registry.users); null means anonymous.
 */
export function skopeoRegistryArgs(registry: RunningRegistry, side: 'src' | 'dest' | '', user?: string | null): string[] {
  const p = side ? `--${side}-` : '--'
  const args = registry.tls ? [`${p}cert-dir`, registry.certDir!] : [`${p}tls-verify=false`]
  if (registry.flavour === 'basic' || registry.flavour === 'token') {
    const name = user === undefined ? Object.keys(registry.users)[0] : user
    if (name !== null) args.push(`${p}creds`, `${name}:${registry.users[name]}`)
  }
  return args
}

export type FixtureKind = 'oci' | 'docker' | 'index'

export interface PushedFixture {
  kind: FixtureKind
  /** `127.0.0.1:PORT/repo:tag` */
  ref: string
  /** The top manifest (the index for `index`). */
  mediaType: string
  manifestDigest: string
  manifestBytes: Buffer
  /** The single image for `oci`/`docker`; the three platform images for `index`. */
  images: BuiltImage[]
}

/**
 * pushFixture builds a fixture of kind from seed, pushes it to registry as repoTag
 * (`repo:tag`) with `skopeo copy --preserve-digests` (`--all` for an index), then reads it
 * back with `skopeo inspect --raw` and throws unless the digest is the one built.
 */
export async function pushFixture(registry: RunningRegistry, repoTag: string, kind: FixtureKind, seed = 'fixture'): Promise<PushedFixture> {
  const work = await tmpDir('fixture')
  try {
    const ref = `${registry.host}/${repoTag}`
    let pushed: PushedFixture
    let src: string
    if (kind === 'index') {
      const built = await writeOciLayout(work.path, {seed, tag: 'fixture'})
      src = `oci:${work.path}:fixture`
      pushed = {kind, ref, mediaType: built.mediaType, manifestDigest: built.manifestDigest, manifestBytes: built.manifestBytes, images: built.images}
    } else {
      const built = await writeImageDir(work.path, {layers: 2, seed, mediaTypes: kind})
      src = `dir:${work.path}`
      pushed = {kind, ref, mediaType: built.mediaType, manifestDigest: built.manifestDigest, manifestBytes: built.manifestBytes, images: [built]}
    }
    const all = kind === 'index' ? ['--all'] : []
    await checked(['copy', '--quiet', '--preserve-digests', ...all, ...skopeoRegistryArgs(registry, 'dest'), src, `docker://${ref}`])
    const raw = await checked(['inspect', '--raw', ...skopeoRegistryArgs(registry, ''), `docker://${ref}`])
    const got = sha256(raw.stdoutBytes)
    if (got !== pushed.manifestDigest) throw new Error(`pushFixture ${ref}: registry has ${got}, built ${pushed.manifestDigest}`)
    return pushed
  } finally {
    await work.remove()
  }
}

async function checked(args: string[]): Promise<RunResult> {
  const r = await skopeo(args)
  if (r.code !== 0) throw new Error(`skopeo ${args[0]} failed (${r.code}): ${r.stderr.trim()}`)
  return r
}
