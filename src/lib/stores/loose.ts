/**
 * loose: an image from loose files, as build systems hand them to containerregistry's pusher:
 * a config file, layer files (gzip, zstd or plain tar; plain ones are gzip-compressed while
 * pushed, their digest measured in a first streaming pass) and optionally the manifest itself
 * (its exact bytes are pushed, after checking that it names exactly these blobs).
 */
import {createReadStream} from 'node:fs'
import {open, readFile, stat} from 'node:fs/promises'
import {basename} from 'node:path'
import {Readable} from 'node:stream'
import {pipeline} from 'node:stream/promises'
import {IntegrityError, NotFoundError, UsageError} from '../errors.js'
import {createDigester, digestOf} from '../oci/digest.js'
import {MediaType} from '../oci/media-types.js'
import {parseManifest} from '../oci/manifest.js'
import type {Descriptor, ImageManifest} from '../oci/types.js'
import {detectCompression, gzipLayer, measureGzip} from '../tarball/compression.js'
import type {ManifestBytes, Root, Source} from './types.js'

export interface LooseImageFiles {
  config: string
  layers: string[]
  manifest?: string
  /** OCI media types instead of Docker schema 2 */
  oci?: boolean
  /** containerregistry's --digest: files holding each --layer's digest (hex, or sha256:hex), checked */
  digests?: string[]
  /** containerregistry's --tarball with --config: a docker tarball whose layers come first (the base) */
  base?: string
  /** containerregistry's --uncompressed_layer files (after the --layer ones) and their --diff_id files (checked) */
  uncompressed?: string[]
  diffIds?: string[]
}

interface LayerFile {
  path: string
  desc: Descriptor
  /** compress while reading (plain tar) */
  gzip: boolean
}

export class LooseFilesSource implements Source {
  readonly description: string
  private baseSource?: Source
  private built?: Promise<{root: Root; config: {desc: Descriptor; bytes: Buffer}; layers: LayerFile[]}>

  constructor(private readonly files: LooseImageFiles) {
    this.description = `config ${basename(files.config)} + ${files.layers.length + (files.uncompressed?.length ?? 0)} layer file(s)`
  }

  private build() {
    this.built ??= (async () => {
      const oci = this.files.oci === true
      const configBytes = await readCapped(this.files.config, 64 * 1024 * 1024)
      const config = {bytes: configBytes, desc: {mediaType: oci ? MediaType.ociConfig : MediaType.dockerConfig, size: configBytes.length, digest: digestOf(configBytes)}}
      const layers: LayerFile[] = []
      const digests = this.files.digests ?? []
      if (digests.length > 0 && digests.length !== this.files.layers.length) throw new UsageError(`--digest and --layer must come in pairs (${digests.length} --digest, ${this.files.layers.length} --layer)`)
      for (const [i, path] of this.files.layers.entries()) {
        const layer = await describeLayer(path, oci)
        if (digests[i] !== undefined) await checkDigestFile(digests[i], layer.desc.digest, path)
        layers.push(layer)
      }
      const plain = this.files.uncompressed ?? []
      const diffIds = this.files.diffIds ?? []
      if (diffIds.length > 0 && diffIds.length !== plain.length) throw new UsageError(`--diff_id and --uncompressed_layer must come in pairs (${diffIds.length} --diff_id, ${plain.length} --uncompressed_layer)`)
      for (const [i, path] of plain.entries()) {
        if (diffIds[i] !== undefined) await checkDigestFile(diffIds[i], await fileDigest(path), path)
        layers.push(await describeLayer(path, oci))
      }
      const baseLayers: Descriptor[] = []
      if (this.files.base) {
        const {DockerArchiveSource} = await import('../tarball/docker-archive-source.js')
        this.baseSource = new DockerArchiveSource(this.files.base)
        const roots = await this.baseSource.roots()
        if (roots.length !== 1) throw new UsageError(`--tarball ${this.files.base}: holds ${roots.length} images; a base is one`)
        const parsed = parseManifest(roots[0].bytes, roots[0].mediaType)
        if (parsed.kind !== 'image') throw new UsageError(`--tarball ${this.files.base}: not an image`)
        baseLayers.push(...(parsed.manifest as ImageManifest).layers)
      }
      let bytes: Buffer
      if (this.files.manifest) {
        bytes = await readCapped(this.files.manifest, 4 * 1024 * 1024)
        checkManifest(bytes, config.desc, layers, this.files.manifest)
      } else {
        const mediaType = oci ? MediaType.ociManifest : MediaType.dockerManifest
        bytes = Buffer.from(JSON.stringify({schemaVersion: 2, mediaType, config: config.desc, layers: [...baseLayers, ...layers.map((l) => l.desc)]}))
      }
      const mediaType = parseManifest(bytes).mediaType
      return {root: {bytes, mediaType, digest: digestOf(bytes), names: []}, config, layers}
    })()
    return this.built
  }

  async roots(): Promise<Root[]> {
    return [(await this.build()).root]
  }

  async manifest(desc: Descriptor): Promise<ManifestBytes> {
    const {root} = await this.build()
    if (desc.digest !== root.digest) throw new NotFoundError(`${this.description}: no manifest ${desc.digest}`)
    return root
  }

  async blob(desc: Descriptor): Promise<Readable> {
    const {config, layers} = await this.build()
    if (desc.digest === config.desc.digest) {
      return Readable.from([config.bytes])
    }
    const layer = layers.find((l) => l.desc.digest === desc.digest)
    if (!layer && this.baseSource) return this.baseSource.blob(desc)
    if (!layer) throw new NotFoundError(`${this.description}: no blob ${desc.digest}`)
    const file = createReadStream(layer.path, {highWaterMark: 1024 * 1024})
    if (!layer.gzip) return file
    const gz = gzipLayer()
    file.on('error', (e) => gz.destroy(e))
    return file.pipe(gz)
  }

  async close(): Promise<void> {
    await this.baseSource?.close()
  }
}

/** checkDigestFile: a --digest file names the digest its --layer hashes to (exit 6 otherwise). */
async function checkDigestFile(file: string, actual: string, layer: string): Promise<void> {
  const text = (await readCapped(file, 1024)).toString('utf8').trim()
  const named = text.includes(':') ? text : `sha256:${text}`
  if (named !== actual) throw new IntegrityError(`--digest ${file} says ${named}, but --layer ${layer} hashes to ${actual}`, {code: 'DIGEST_MISMATCH'})
}

async function describeLayer(path: string, oci: boolean): Promise<LayerFile> {
  const head = await readHead(path)
  const kind = detectCompression(head)
  if (kind === 'none') {
    const m = await measureGzip(createReadStream(path, {highWaterMark: 1024 * 1024}))
    return {path, gzip: true, desc: {mediaType: oci ? MediaType.ociLayerGzip : MediaType.dockerLayer, digest: m.digest, size: m.size}}
  }
  const d = createDigester('sha256')
  await pipeline(createReadStream(path, {highWaterMark: 1024 * 1024}), async function* (src) {
    for await (const c of src) d.update(c as Buffer)
  })
  const mediaType = kind === 'gzip' ? (oci ? MediaType.ociLayerGzip : MediaType.dockerLayer) : oci ? MediaType.ociLayerZstd : MediaType.dockerLayerZstd
  return {path, gzip: false, desc: {mediaType, digest: d.digest(), size: d.size}}
}

function checkManifest(bytes: Buffer, config: Descriptor, layers: LayerFile[], file: string): void {
  const parsed = parseManifest(bytes)
  if (parsed.kind !== 'image') throw new UsageError(`--manifest ${file}: is ${parsed.mediaType}, not an image manifest`)
  const m = parsed.manifest as ImageManifest
  if (m.config.digest !== config.digest) throw new UsageError(`--manifest ${file}: names config ${m.config.digest}, but --config hashes to ${config.digest}`)
  const given = new Set(layers.map((l) => l.desc.digest))
  for (const l of m.layers) {
    if (!given.has(l.digest)) throw new UsageError(`--manifest ${file}: names layer ${l.digest}, which no --layer file is`)
  }
}

async function readHead(path: string): Promise<Buffer> {
  const h = await open(path, 'r').catch((e: NodeJS.ErrnoException) => {
    throw e.code === 'ENOENT' ? new NotFoundError(`no such file ${path}`) : e
  })
  try {
    const buf = Buffer.alloc(4)
    const {bytesRead} = await h.read(buf, 0, 4, 0)
    return buf.subarray(0, bytesRead)
  } finally {
    await h.close()
  }
}

async function readCapped(path: string, cap: number): Promise<Buffer> {
  const st = await stat(path).catch((e: NodeJS.ErrnoException) => {
    throw e.code === 'ENOENT' ? new NotFoundError(`no such file ${path}`) : e
  })
  if (st.size > cap) throw new UsageError(`${path}: larger than ${cap} bytes`)
  return readFile(path)
}

async function fileDigest(path: string): Promise<string> {
  const d = createDigester('sha256')
  await pipeline(createReadStream(path, {highWaterMark: 1024 * 1024}), async function* (src) {
    for await (const c of src) d.update(c as Buffer)
  })
  return d.digest()
}
