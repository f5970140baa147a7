/**
 * cache: a content-addressed blob cache in front of a Source (`pull --cache-path DIR`), reused
 * across runs. A cached blob is read from DIR/<alg>/<hex>; a missing one streams from the source
 * and is written to the cache as it passes, verified on its own and renamed into place only
 * when complete, so the cache never holds a partial or wrong blob.
 */
import {createReadStream, createWriteStream} from 'node:fs'
import {mkdir, rename, rm, stat} from 'node:fs/promises'
import {join} from 'node:path'
import {PassThrough, type Readable} from 'node:stream'
import {randomBytes} from 'node:crypto'
import {verify} from '../io/verify.js'
import type {Descriptor} from '../oci/types.js'
import type {ManifestBytes, MountLocation, Root, Source} from './types.js'

export class CachingSource implements Source {
  readonly description: string
  readonly mountFrom?: MountLocation

  constructor(
    private readonly inner: Source,
    private readonly dir: string,
  ) {
    this.description = inner.description
    this.mountFrom = inner.mountFrom
  }

  roots(): Promise<Root[]> {
    return this.inner.roots()
  }

  manifest(desc: Descriptor): Promise<ManifestBytes> {
    return this.inner.manifest(desc)
  }

  async blob(desc: Descriptor): Promise<Readable> {
    const [alg, hex] = desc.digest.split(':')
    const path = join(this.dir, alg, hex)
    const cached = await stat(path).catch(() => undefined)
    if (cached?.isFile() && cached.size === desc.size) return createReadStream(path, {highWaterMark: 1024 * 1024})
    await mkdir(join(this.dir, alg), {recursive: true})
    const upstream = await this.inner.blob(desc)
    const tmp = join(this.dir, alg, `.tmp-${hex.slice(0, 12)}-${randomBytes(4).toString('hex')}`)
    const file = createWriteStream(tmp)
    const check = verify(desc.digest, desc.size, {what: `cached blob ${desc.digest}`})
    const out = new PassThrough({highWaterMark: 1024 * 1024})
    let failed = false
    const fail = (e: Error) => {
      if (failed) return
      failed = true
      file.destroy()
      rm(tmp, {force: true}).catch(() => {})
      out.destroy(e)
    }
    upstream.on('error', fail)
    check.on('error', fail)
    file.on('error', fail)
    upstream.pipe(check)
    check.pipe(file)
    check.pipe(out)
    file.on('finish', () => {
      if (!failed) rename(tmp, path).catch(() => rm(tmp, {force: true}).catch(() => {}))
    })
    out.on('close', () => {
      // the consumer stopped early: do not keep a partial file
      if (!check.writableFinished) fail(new Error('cache write abandoned'))
    })
    return out
  }

  close(): Promise<void> {
    return this.inner.close()
  }
}
