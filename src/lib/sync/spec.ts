/**
 * spec: what one sync source asks for (from the command line or one entry of a config file),
 * and where its repositories are. SRC is a repository (`reg/team/app`: all its tags) or a prefix
 * ending in `/` (`reg/team/`, `reg/`: every repository of the catalog under it); DST the matching
 * repository or prefix, an OCI layout (`oci:DIR`; under a prefix, one layout per repository
 * in DIR/<path below the prefix>), or a directory of per-tag archives (archives.ts).
 */
import * as path from 'node:path'
import {UsageError} from '../errors.js'
import {Repository, parseRegistry, parseRepository} from '../name/reference.js'
import type {Platform} from '../oci/types.js'
import {type ArchiveDest, type ArchiveFormat, describeArchives, parseArchiveDest} from './archives.js'

export interface SyncSpec {
  src: string
  dst: string
  /** tags to take: regular expressions, each matching the whole tag (any of them) */
  include?: string[]
  /** tags to leave: regular expressions, each matching the whole tag */
  exclude?: string[]
  /** a semver range (`>=1.2 <2`); tags that are not versions are left out */
  semver?: string
  /** only the newest N tags (after the other filters) */
  newest?: number
  /** how "newest" is decided: semver order, or the image config's `created` */
  newestBy?: 'semver' | 'created'
  /** platforms to keep from an index; undefined or 'all' copies it whole */
  platforms?: Platform[] | 'all'
  /** copy referrers (signatures, SBOMs) of every copied image */
  referrers?: boolean
  /** copy `sha256-…` tags (referrer fallback tags, cosign signatures); default true */
  digestTags?: boolean
}

export type SourceEndpoint =
  | {kind: 'repository'; repo: Repository}
  | {kind: 'prefix'; registry: string; path: string}

export type DestEndpoint =
  | {kind: 'repository'; repo: Repository}
  | {kind: 'prefix'; registry: string; path: string}
  | {kind: 'oci'; dir: string; perRepository: boolean}
  | {kind: 'archives'; format: ArchiveFormat; root: string}

/** parseSource reads SRC: a repository, or a prefix ending in `/`. */
export function parseSource(src: string): SourceEndpoint {
  const s = src.replace(/^docker:\/\//, '')
  if (s.endsWith('/')) return parsePrefix(s, 'source')
  return {kind: 'repository', repo: parseRepository(s)}
}

/** parseDest reads DST, which must match SRC's shape (a prefix for a prefix). */
export function parseDest(dst: string, src: SourceEndpoint): DestEndpoint {
  if (dst.startsWith('oci:')) {
    const dir = dst.slice(4)
    if (dir === '' || dir === '/') throw new UsageError(`invalid destination "${dst}": oci: needs a directory`)
    return {kind: 'oci', dir: dir.replace(/\/+$/, '') || dir, perRepository: src.kind === 'prefix'}
  }
  const archives = parseArchiveDest(dst)
  if (archives) return {kind: 'archives', ...archives}
  const s = dst.replace(/^docker:\/\//, '')
  if (s.endsWith('/')) return parsePrefix(s, 'destination')
  if (src.kind === 'prefix') throw new UsageError(`invalid destination "${dst}": a prefix source (${src.registry}/${src.path}) needs a prefix destination ending in "/"`)
  return {kind: 'repository', repo: parseRepository(s)}
}

function parsePrefix(s: string, what: string): {kind: 'prefix'; registry: string; path: string} {
  const slash = s.indexOf('/')
  const host = s.slice(0, slash)
  const rest = s.slice(slash + 1)
  if (!/[.:]/.test(host) && host !== 'localhost') throw new UsageError(`invalid ${what} "${s}": a prefix starts with a registry host (host[:port]/…/)`)
  const registry = parseRegistry(host)
  if (rest !== '') parseRepository(`${registry}/${rest.replace(/\/$/, '')}`) // validates the path
  return {kind: 'prefix', registry, path: rest}
}

/** A repository to mirror, where it goes. */
export interface RepoPair {
  source: Repository
  dest: {kind: 'registry'; repo: Repository} | {kind: 'oci'; dir: string} | ArchiveDest
}

/** destFor maps one source repository to its destination. */
export function destFor(src: SourceEndpoint, dst: DestEndpoint, repo: Repository): RepoPair['dest'] {
  const rel = src.kind === 'prefix' ? repo.repository.slice(src.path.length) : repo.repository.split('/').pop()!
  switch (dst.kind) {
    case 'repository':
      return {kind: 'registry', repo: dst.repo}
    case 'prefix':
      return {kind: 'registry', repo: new Repository(dst.registry, `${dst.path}${rel}`)}
    case 'oci':
      return {kind: 'oci', dir: dst.perRepository ? path.join(dst.dir, rel) : dst.dir}
    case 'archives':
      return {kind: 'archives', format: dst.format, root: dst.root, rel, sourceName: repo.name}
  }
}

/** describeDest names a destination as users write it. */
export function describeDest(d: RepoPair['dest']): string {
  return d.kind === 'registry' ? d.repo.name : d.kind === 'oci' ? `oci:${d.dir}` : describeArchives(d)
}
