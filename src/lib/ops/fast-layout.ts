/**
 * fast-layout: containerregistry's puller directory ("fast" format), so `pull --name IMAGE
 * --directory DIR` writes what its pusher, flattener and rules_docker read:
 *   config.json    the config blob
 *   digest         the manifest digest (sha256:…)
 *   manifest.json  the manifest, exact bytes
 *   000.tar.gz     the first (base) layer's blob; 000.sha256 its digest as hex, no prefix
 *   …              up to NNN, in manifest order
 * An index is resolved to one platform (linux/amd64 when none is asked, as the puller does).
 * Every blob is verified while written; on failure the files written are removed.
 */
import {createWriteStream} from 'node:fs'
import {mkdir, rm, writeFile} from 'node:fs/promises'
import * as path from 'node:path'
import {pipeline} from 'node:stream/promises'
import {NotFoundError, UsageError} from '../errors.js'
import type {Reference} from '../name/reference.js'
import {parseManifest} from '../oci/manifest.js'
import {formatPlatform, platformMatches} from '../oci/platform.js'
import type {ImageIndex, ImageManifest, Platform} from '../oci/types.js'
import {type RemoteOptions, withSession} from '../remote/session.js'

export interface FastLayoutOptions extends RemoteOptions {
  platform?: Platform
}

export interface FastLayoutResult {
  digest: string
  layers: number
  files: string[]
}

export function pullFast(ref: Reference, dir: string, options: FastLayoutOptions = {}): Promise<FastLayoutResult> {
  return withSession(options, async (s) => {
    const repo = s.repository(ref)
    let m = await repo.getManifest(ref.digest ?? ref.tag ?? 'latest')
    let parsed = parseManifest(m.bytes, m.mediaType)
    if (parsed.kind === 'index') {
      const want = options.platform ?? {os: 'linux', architecture: 'amd64'}
      const child = (parsed.manifest as ImageIndex).manifests.find((d) => d.platform && platformMatches(want, d.platform))
      if (!child) throw new NotFoundError(`${ref}: no manifest for platform ${formatPlatform(want)}`, {code: 'PLATFORM_NOT_FOUND'})
      m = await repo.getManifest(child.digest)
      parsed = parseManifest(m.bytes, m.mediaType)
    }
    if (parsed.kind !== 'image') throw new UsageError(`${ref}: a ${parsed.mediaType} manifest is not an image`, {code: 'NOT_AN_IMAGE'})
    const image = parsed.manifest as ImageManifest
    await mkdir(dir, {recursive: true})
    const files: string[] = []
    const put = async (name: string, write: (file: string) => Promise<void>) => {
      const file = path.join(dir, name)
      files.push(file)
      await write(file)
    }
    try {
      await put('config.json', async (f) => pipeline(await repo.blob(image.config.digest, image.config.size), createWriteStream(f)))
      await put('digest', (f) => writeFile(f, m.digest))
      await put('manifest.json', (f) => writeFile(f, m.bytes))
      for (const [i, layer] of image.layers.entries()) {
        const n = String(i).padStart(3, '0')
        await put(`${n}.tar.gz`, async (f) => pipeline(await repo.blob(layer.digest, layer.size), createWriteStream(f)))
        await put(`${n}.sha256`, (f) => writeFile(f, layer.digest.slice(layer.digest.indexOf(':') + 1)))
      }
    } catch (e) {
      await Promise.all(files.map((f) => rm(f, {force: true})))
      throw e
    }
    return {digest: m.digest, layers: image.layers.length, files}
  })
}
