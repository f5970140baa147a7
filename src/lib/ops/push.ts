/**
 * push: a docker tarball (modern or legacy), an OCI layout (directory or tar), a `dir:` directory
 * or loose build outputs, to a registry. The input's kind is found by looking, not by its name.
 */
import {readFile, stat} from 'node:fs/promises'
import {join} from 'node:path'
import type {Readable} from 'node:stream'
import {NotFoundError, UsageError} from '../errors.js'
import type {Reference} from '../name/reference.js'
import {digestOf} from '../oci/digest.js'
import {MediaType} from '../oci/media-types.js'
import type {Descriptor} from '../oci/types.js'
import {LooseFilesSource, type LooseImageFiles} from '../stores/loose.js'
import {type Location, isStoreName, parseLocation} from '../stores/location.js'
import {stdinFile} from '../io/stdin-file.js'
import type {ManifestBytes, Root, Source} from '../stores/types.js'
import {type CopyOptions, type CopyResult, type CopySource, copy} from './copy.js'

export interface PushOptions extends CopyOptions {
  /** push an OCI layout's index.json itself, as an image index of everything in it */
  index?: boolean
}

/**
 * pushLocation: push's PATH, a store name (`docker-archive:FILE:REF`, `oci:DIR:REF`, …) or a
 * file or directory whose kind is found by looking inside; `-` is an archive on stdin.
 */
export async function pushLocation(input: string): Promise<Location> {
  if (isStoreName(input)) {
    const loc = parseLocation(input)
    if (loc.kind === 'registry') throw new UsageError(`push reads a local image, not the registry image ${input} (use copy)`)
    return loc
  }
  return detectLocation(input === '-' ? await stdinFile() : input)
}

/** detectLocation tells what kind of image store `path` is. */
export async function detectLocation(path: string): Promise<Location> {
  const st = await stat(path).catch(() => undefined)
  if (!st) throw new NotFoundError(`no such file or directory ${path}`)
  if (st.isDirectory()) {
    // oci-layout without index.json: the layout source says index.json is missing (exit 3)
    if ((await exists(join(path, 'index.json'))) || (await exists(join(path, 'oci-layout')))) return {kind: 'oci', path}
    if (await exists(join(path, 'manifest.json'))) return {kind: 'dir', path}
    throw new UsageError(`${path}: neither an OCI layout (index.json) nor a dir: image (manifest.json)`)
  }
  const {TarReader} = await import('../tarball/index.js')
  const tar = await TarReader.open(path)
  if (tar.has('manifest.json')) return {kind: 'docker-archive', path}
  if (tar.has('index.json')) return {kind: 'oci-archive', path}
  throw new UsageError(`${path}: a tar without manifest.json or index.json: not a docker or OCI image archive`)
}

export async function push(input: string | LooseImageFiles, dst: Reference, options: PushOptions = {}): Promise<CopyResult> {
  let src: CopySource
  if (typeof input !== 'string') {
    src = {source: new LooseFilesSource(input)}
  } else {
    const loc = await pushLocation(input)
    if (options.index) {
      if (loc.kind !== 'oci' && loc.kind !== 'oci-archive') throw new UsageError(`--index needs an OCI layout, not ${input}`)
      src = {source: new IndexJsonSource(await openLayout(loc), () => readIndexJson(loc))}
    } else {
      src = loc
    }
  }
  return copy(src, {kind: 'registry', ref: dst}, options)
}

type LayoutLocation = Extract<Location, {kind: 'oci' | 'oci-archive'}>

async function openLayout(loc: LayoutLocation): Promise<Source> {
  if (loc.kind === 'oci') return new (await import('../layout/index.js')).OciLayoutSource(loc.path, {})
  return new (await import('../tarball/index.js')).OciArchiveSource(loc.path, {})
}

async function readIndexJson(loc: LayoutLocation): Promise<Buffer> {
  if (loc.kind === 'oci') return readFile(join(loc.path, 'index.json'))
  const {TarReader} = await import('../tarball/index.js')
  return (await TarReader.open(loc.path)).readBytes('index.json', 4 * 1024 * 1024)
}

/** IndexJsonSource: an OCI layout whose index.json is the one root (push --index). */
class IndexJsonSource implements Source {
  readonly description: string

  constructor(
    private readonly inner: Source,
    private readonly read: () => Promise<Buffer>,
  ) {
    this.description = `${inner.description} (index.json)`
  }

  async roots(): Promise<Root[]> {
    const bytes = await this.read()
    return [{bytes, mediaType: MediaType.ociIndex, digest: digestOf(bytes), names: []}]
  }

  manifest(desc: Descriptor): Promise<ManifestBytes> {
    return this.inner.manifest(desc)
  }

  blob(desc: Descriptor): Promise<Readable> {
    return this.inner.blob(desc)
  }

  close(): Promise<void> {
    return this.inner.close()
  }
}

async function exists(p: string): Promise<boolean> {
  return (await stat(p).catch(() => undefined)) !== undefined
}

/** stamp substitutes `{KEY}` in `name` from `KEY value` lines of Bazel stamp files. */
export async function stamp(name: string, files: string[]): Promise<string> {
  if (files.length === 0) return name
  const values = new Map<string, string>()
  for (const f of files) {
    const text = await readFile(f, 'utf8').catch(() => {
      throw new NotFoundError(`--stamp-info-file ${f}: no such file`)
    })
    for (const line of text.split('\n')) {
      const m = /^(\S+)\s+(.*)$/.exec(line.trim())
      if (m) values.set(m[1], m[2])
    }
  }
  return name.replace(/\{([^{}]+)\}/g, (_, key: string) => {
    const v = values.get(key)
    if (v === undefined) throw new UsageError(`${name}: no value for {${key}} in the stamp files`)
    return v
  })
}
