// Hand-built `docker save` archives in the formats ocitool did not write: legacy docker
// (1.10–24: `<id>/layer.tar` uncompressed, `<id>/json`, `<hex>.json` config, `repositories`,
// symlinks for shared layers) and docker 25+ (an OCI layout inside, `blobs/sha256/…`).

import * as fsp from 'node:fs/promises'

import {TarReader} from '../../../src/lib/tarball/reader.js'
import {type BuiltImage, makeLayerTar, sha256} from '../../support/fixtures.js'
import {type TarItem, descriptorsOf, packTar} from './helpers.js'

const hex = (d: string) => d.replace(/^sha256:/, '')

export interface LegacyImage {
  tag: string
  /** layer keys: the same key in two images is one layer, stored once and symlinked */
  layers: string[]
}

export interface LegacyBuilt {
  /** per image: config bytes and the raw (uncompressed) layer tars */
  images: {configBytes: Buffer; configDigest: string; raw: Buffer[]; diffIds: string[]; layerFiles: string[]}[]
}

/** writeLegacyArchive writes a docker 1.10–24 style archive with uncompressed layers. */
export async function writeLegacyArchive(file: string, images: LegacyImage[]): Promise<LegacyBuilt> {
  const items: TarItem[] = []
  const stored = new Map<string, string>() // layer key → id of the directory holding it
  const manifest: object[] = []
  const repositories: Record<string, Record<string, string>> = {}
  const built: LegacyBuilt = {images: []}
  for (const [n, im] of images.entries()) {
    const raw: Buffer[] = []
    const layerFiles: string[] = []
    let parent: string | undefined
    for (const [i, key] of im.layers.entries()) {
      const tarBytes = await makeLayerTar(`legacy-${key}`)
      raw.push(tarBytes)
      const id = hex(sha256(`v1-id-${n}-${i}-${key}`))
      items.push({name: `${id}/`, type: 'directory'})
      items.push({name: `${id}/VERSION`, body: '1.0'})
      items.push({name: `${id}/json`, body: JSON.stringify({id, ...(parent ? {parent} : {}), created: '2000-01-01T00:00:00Z'})})
      const first = stored.get(key)
      if (first === undefined) {
        items.push({name: `${id}/layer.tar`, body: tarBytes})
        stored.set(key, id)
      } else {
        items.push({name: `${id}/layer.tar`, type: 'symlink', linkname: `../${first}/layer.tar`})
      }
      layerFiles.push(`${id}/layer.tar`)
      parent = id
    }
    const diffIds = raw.map((r) => sha256(r))
    const config = {architecture: 'amd64', os: 'linux', config: {Cmd: ['/bin/sh']}, rootfs: {type: 'layers', diff_ids: diffIds}}
    const configBytes = Buffer.from(JSON.stringify(config))
    const configDigest = sha256(configBytes)
    items.push({name: `${hex(configDigest)}.json`, body: configBytes})
    manifest.push({Config: `${hex(configDigest)}.json`, RepoTags: [im.tag], Layers: layerFiles})
    const [repo, tag] = im.tag.split(':')
    repositories[repo] = {...repositories[repo], [tag]: parent!}
    built.images.push({configBytes, configDigest, raw, diffIds, layerFiles})
  }
  items.push({name: 'repositories', body: JSON.stringify(repositories)})
  items.push({name: 'manifest.json', body: JSON.stringify(manifest)})
  await fsp.writeFile(file, await packTar(items))
  return built
}

/**
 * writeDocker25Archive writes an image the way docker 25+ saves it: an OCI layout
 * (`oci-layout`, `index.json`, `blobs/sha256/…`) plus manifest.json pointing into blobs/.
 * `withIndex: false` leaves out index.json (so the manifest must be synthesised).
 */
export async function writeDocker25Archive(file: string, image: BuiltImage, opts: {withIndex: boolean; tag: string}): Promise<void> {
  const {config, layers} = descriptorsOf(image)
  const items: TarItem[] = [{name: 'blobs/', type: 'directory'}, {name: 'blobs/sha256/', type: 'directory'}]
  for (const [digest, bytes] of image.blobs) items.push({name: `blobs/sha256/${hex(digest)}`, body: bytes})
  items.push({name: `blobs/sha256/${hex(image.manifestDigest)}`, body: image.manifestBytes})
  if (opts.withIndex) {
    const index = {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [{
        mediaType: image.mediaType, digest: image.manifestDigest, size: image.manifestBytes.length,
        annotations: {'io.containerd.image.name': `docker.io/library/${opts.tag}`, 'org.opencontainers.image.ref.name': opts.tag.split(':')[1]},
      }],
    }
    items.push({name: 'index.json', body: JSON.stringify(index)})
    items.push({name: 'oci-layout', body: '{"imageLayoutVersion":"1.0.0"}'})
  }
  const manifest = [{Config: `blobs/sha256/${hex(config.digest)}`, RepoTags: [opts.tag], Layers: layers.map((l) => `blobs/sha256/${hex(l.digest)}`)}]
  items.push({name: 'manifest.json', body: JSON.stringify(manifest)})
  await fsp.writeFile(file, await packTar(items))
}

/** rewriteManifestJson copies an archive, changing its manifest.json with `fn`. */
export async function rewriteManifestJson(src: string, dst: string, fn: (entries: Record<string, unknown>[]) => unknown[]): Promise<void> {
  const reader = await TarReader.open(src)
  const items: TarItem[] = []
  for (const e of reader.entries()) {
    if (e.type !== 'file') continue
    let body = await reader.readBytes(e.name, 1 << 30)
    if (e.name === 'manifest.json') body = Buffer.from(JSON.stringify(fn(JSON.parse(body.toString()))))
    items.push({name: e.name, body})
  }
  await fsp.writeFile(dst, await packTar(items))
}

/** corruptEntry flips one byte in the middle of an entry of an archive file, in place. */
export async function corruptEntry(file: string, name: string): Promise<void> {
  const e = (await TarReader.open(file)).resolve(name)
  const handle = await fsp.open(file, 'r+')
  try {
    const at = e.offset + Math.floor(e.size / 2)
    const b = Buffer.alloc(1)
    await handle.read(b, 0, 1, at)
    b[0] ^= 0x01
    await handle.write(b, 0, 1, at)
  } finally {
    await handle.close()
  }
}
