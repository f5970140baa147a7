/**
 * archives: sync into a directory of files, one image per repository and tag.
 *
 *   docker-archive:DIR/   DIR/<repository>/<tag>.tar   a `docker save` tarball (RepoTags: the source name)
 *   oci-archive:DIR/      DIR/<repository>/<tag>.tar   an OCI layout as one tar (ref.name: the tag)
 *   dir:DIR               DIR/<repository>:<tag>/      skopeo's `dir:` image, as `skopeo sync --dest dir` writes
 *
 * <repository> is the path below the source prefix, or the last component of a single source
 * repository (as skopeo sync names it). Every part is a repository component or a tag, whose
 * grammar allows no `/`, no leading `.` and nothing a shell or skopeo's `transport:path:ref`
 * syntax reads specially (archives carry no `:` in their names). Files are written to a
 * temporary name and renamed into place; an archive that already holds the image's digest is
 * left as it is.
 */
import {createHash} from 'node:crypto'
import * as fsp from 'node:fs/promises'
import * as path from 'node:path'
import {UsageError} from '../errors.js'
import {dirBlobPath} from '../layout/dir-format.js'
import type {Session} from '../remote/session.js'
import {openSink} from '../stores/open.js'
import type {Sink} from '../stores/types.js'

export type ArchiveFormat = 'docker-archive' | 'oci-archive' | 'dir'

export const ARCHIVE_FORMATS: readonly ArchiveFormat[] = ['docker-archive', 'oci-archive', 'dir']

/** The destination of one repository: a directory of per-tag archives. */
export interface ArchiveDest {
  kind: 'archives'
  format: ArchiveFormat
  /** the directory given (`DIR`) */
  root: string
  /** the repository's part of the names: `team/app` (below a prefix) or `app` */
  rel: string
  /** the source repository's full name, for docker archives' RepoTags */
  sourceName: string
}

const TAG = /^[\w][\w.-]{0,127}$/
const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/

/** parseArchiveDest reads `docker-archive:DIR/`, `oci-archive:DIR/` or `dir:DIR`; undefined for other forms. */
export function parseArchiveDest(dst: string): {format: ArchiveFormat; root: string} | undefined {
  const colon = dst.indexOf(':')
  const format = dst.slice(0, colon) as ArchiveFormat
  if (colon < 0 || !ARCHIVE_FORMATS.includes(format)) return undefined
  const dir = dst.slice(colon + 1)
  if (dir === '') throw new UsageError(`invalid destination "${dst}": ${format}: needs a directory`)
  if (format !== 'dir' && !dir.endsWith('/')) {
    throw new UsageError(`invalid destination "${dst}": sync writes one archive per repository and tag; name a directory ending in "/" (${format}:${dir}/)`)
  }
  return {format, root: dir.length > 1 ? dir.replace(/\/+$/, '') : dir}
}

/** archivePath is where `tag` of the repository goes. */
export function archivePath(d: ArchiveDest, tag: string): string {
  const parts = d.rel.split('/')
  if (!TAG.test(tag) || parts.some((p) => !COMPONENT.test(p))) throw new UsageError(`cannot name a file for ${d.sourceName}:${tag}`)
  if (d.format === 'dir') return path.join(d.root, ...parts.slice(0, -1), `${parts[parts.length - 1]}:${tag}`)
  return path.join(d.root, ...parts, `${tag}.tar`)
}

/** describeArchives names the destination as users write it. */
export function describeArchives(d: ArchiveDest): string {
  return d.format === 'dir' ? `dir:${path.join(d.root, d.rel)}` : `${d.format}:${path.join(d.root, d.rel)}/`
}

/** archiveDigests are the manifest digests the file at `file` holds (empty when there is none or it cannot be read). */
export async function archiveDigests(format: ArchiveFormat, file: string): Promise<string[]> {
  try {
    if (format === 'dir') {
      const bytes = await fsp.readFile(path.join(file, 'manifest.json'))
      return [`sha256:${createHash('sha256').update(bytes).digest('hex')}`]
    }
    await fsp.access(file)
  } catch {
    return []
  }
  const {DockerArchiveSource, OciArchiveSource} = await import('../tarball/index.js')
  const source = format === 'docker-archive' ? new DockerArchiveSource(file) : new OciArchiveSource(file)
  try {
    return (await source.roots()).map((r) => r.digest)
  } catch {
    return [] // not an archive we can read: it is written again
  } finally {
    await source.close().catch(() => undefined)
  }
}

/** openArchiveSink opens the sink for one tag (its directory made first) and the names to give its root. */
export async function openArchiveSink(session: Session, d: ArchiveDest, tag: string): Promise<{sink: Sink; file: string; names: string[]}> {
  const file = archivePath(d, tag)
  await fsp.mkdir(path.dirname(file), {recursive: true})
  const names = d.format === 'docker-archive' ? [`${d.sourceName}:${tag}`] : [tag]
  const sink = d.format === 'dir' ? await openSink({kind: 'dir', path: file}, session) : await openSink({kind: d.format, path: file}, session)
  return {sink, file, names}
}

/** planningSink stands for the sink of one tag in a dry run: it answers what is there and writes nothing */
export function planningSink(d: ArchiveDest, tag: string): Sink {
  const file = archivePath(d, tag)
  const refuse = () => Promise.reject(new Error('a dry run writes nothing'))
  return {
    description: `${d.format}:${file}`,
    // a dir: image keeps blobs already in its directory; an archive is written whole
    hasBlob: async (desc) => d.format === 'dir' && (await fsp.stat(dirBlobPath(file, desc.digest)).then((s) => s.size, () => -1)) === desc.size,
    putBlob: refuse,
    putManifest: refuse,
    commit: refuse,
    abort: async () => {},
  }
}
