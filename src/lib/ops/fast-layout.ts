/**
 * fast-layout: containerregistry's puller directory ("fast" format), so `pull --name IMAGE
 * --directory DIR` writes what its pusher, flattener and rules_docker read:
 *   config.json    the config blob
 *   digest         the manifest digest (sha256:…)
 *   manifest.json  the manifest, exact bytes
 *   000.tar.gz     the first (base) layer's blob; 000.sha256 its digest as hex, no prefix
 *   …              up to NNN, in manifest order
 * An index is resolved to one platform (linux/amd64 when none is asked, as the puller does).
 * The importer's form reads a docker tarball instead, and its `tar` format writes NNN.tar
 * (uncompressed) with NNN.sha256 holding the diff_id.
 * Every blob is verified while written; on failure the files written are removed.
 */
import {createWriteStream} from 'node:fs'
import {mkdir, rm, writeFile} from 'node:fs/promises'
import * as path from 'node:path'
import type {Readable} from 'node:stream'
import {pipeline} from 'node:stream/promises'
import {createGunzip} from 'node:zlib'
import {NotFoundError, UsageError} from '../errors.js'
import {createDigester} from '../oci/digest.js'
import {parseManifest} from '../oci/manifest.js'
import {formatPlatform, platformMatches} from '../oci/platform.js'
import type {ImageIndex, ImageManifest, Platform} from '../oci/types.js'
import {verify} from '../io/verify.js'
import {type RemoteOptions, withSession} from '../remote/session.js'
import {type Location, describeLocation} from '../stores/location.js'
import {openSource} from '../stores/open.js'
import type {ManifestBytes} from '../stores/types.js'

export interface FastLayoutOptions extends RemoteOptions {
  platform?: Platform
  /** 'tar.gz' (the puller's, default): the layer blobs; 'tar' (the importer's other format): uncompressed layers named by diff_id */
  format?: 'tar.gz' | 'tar'
}

export interface FastLayoutResult {
  digest: string
  layers: number
  files: string[]
}

/** pullFast writes the image at `loc` (a registry image, or a tarball for the importer) as the fast directory `dir`. */
export function pullFast(loc: Location, dir: string, options: FastLayoutOptions = {}): Promise<FastLayoutResult> {
  return withSession(options, async (s) => {
    const source = await openSource(loc, s)
    try {
      const roots = await source.roots()
      if (roots.length !== 1) throw new UsageError(`${source.description}: holds ${roots.length} images; name one (docker-archive:FILE:REF)`)
      let m: ManifestBytes = roots[0]
      let parsed = parseManifest(m.bytes, m.mediaType)
      if (parsed.kind === 'index') {
        const want = options.platform ?? {os: 'linux', architecture: 'amd64'}
        const child = (parsed.manifest as ImageIndex).manifests.find((d) => d.platform && platformMatches(want, d.platform))
        if (!child) throw new NotFoundError(`${describeLocation(loc)}: no manifest for platform ${formatPlatform(want)}`, {code: 'PLATFORM_NOT_FOUND'})
        m = await source.manifest(child)
        parsed = parseManifest(m.bytes, m.mediaType)
      }
      if (parsed.kind !== 'image') throw new UsageError(`${describeLocation(loc)}: a ${parsed.mediaType} manifest is not an image`, {code: 'NOT_AN_IMAGE'})
      const image = parsed.manifest as ImageManifest
      const blob = async (d: {digest: string; size: number; mediaType: string}): Promise<Readable> => {
        const raw = await source.blob(d)
        const checked = verify(d.digest, d.size, {what: `blob ${d.digest}`})
        raw.on('error', (e) => checked.destroy(e))
        return raw.pipe(checked)
      }
      await mkdir(dir, {recursive: true})
      const files: string[] = []
      const put = async (name: string, write: (file: string) => Promise<void>) => {
        const file = path.join(dir, name)
        files.push(file)
        await write(file)
      }
      try {
        await put('config.json', async (f) => pipeline(await blob(image.config), createWriteStream(f)))
        await put('digest', (f) => writeFile(f, m.digest))
        await put('manifest.json', (f) => writeFile(f, m.bytes))
        for (const [i, layer] of image.layers.entries()) {
          const n = String(i).padStart(3, '0')
          if (options.format === 'tar') {
            if (!/gzip/.test(layer.mediaType)) throw new UsageError(`layer ${layer.digest} is ${layer.mediaType}: --format tar writes gzip layers uncompressed only`, {code: 'UNSUPPORTED_COMPRESSION'})
            const hash = createDigester('sha256')
            await put(`${n}.tar`, async (f) =>
              pipeline(await blob(layer), createGunzip(), async function* (src) {
                for await (const c of src) {
                  hash.update(c as Buffer)
                  yield c as Buffer
                }
              }, createWriteStream(f)))
            const diffId = hash.digest()
            await put(`${n}.sha256`, (f) => writeFile(f, diffId.slice(diffId.indexOf(':') + 1)))
          } else {
            await put(`${n}.tar.gz`, async (f) => pipeline(await blob(layer), createWriteStream(f)))
            await put(`${n}.sha256`, (f) => writeFile(f, layer.digest.slice(layer.digest.indexOf(':') + 1)))
          }
        }
      } catch (e) {
        await Promise.all(files.map((f) => rm(f, {force: true})))
        throw e
      }
      return {digest: m.digest, layers: image.layers.length, files}
    } finally {
      await source.close()
    }
  })
}
