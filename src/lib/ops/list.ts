/**
 * list: tags of a repository and repositories of a registry. Pages go to the caller as they
 * arrive and are not kept, and at most `maxPages` are followed: a registry whose next link never
 * ends costs neither unbounded memory nor unbounded time (issue 12, item 4).
 */
import type {Repository} from '../name/reference.js'
import type {ListLimits} from '../remote/registry.js'
import {type RemoteOptions, withSession} from '../remote/session.js'

export {DEFAULT_MAX_PAGES} from '../remote/registry.js'

/** digest-named tags (`sha256-<hex>` fallback tags of referrers and signatures) */
const DIGEST_TAG = /^sha(256|512)-[a-f0-9]{64,128}(\..*)?$/

export type ListOptions = RemoteOptions & ListLimits

/** eachTag hands every tag of `repo` to `onTags`, a page at a time, as the pages arrive. */
export function eachTag(repo: Repository, options: ListOptions & {omitDigestTags?: boolean}, onTags: (tags: string[]) => void): Promise<void> {
  return withSession(options, (s) =>
    s.repository(repo).eachTagPage((tags) => onTags(options.omitDigestTags ? tags.filter((t) => !DIGEST_TAG.test(t)) : tags), {maxPages: options.maxPages}),
  )
}

/** listTags collects every tag of `repo` (for --json and callers that need the whole list). */
export async function listTags(repo: Repository, options: ListOptions & {omitDigestTags?: boolean}): Promise<string[]> {
  const out: string[] = []
  await eachTag(repo, options, (tags) => out.push(...tags))
  return out
}

/** eachRepository hands every repository of a registry to `onRepositories`, a page at a time. */
export function eachRepository(registry: string, apiHost: string, options: ListOptions, onRepositories: (repositories: string[]) => void): Promise<void> {
  return withSession(options, (s) => s.eachCatalogPage(registry, apiHost, onRepositories, {maxPages: options.maxPages}))
}

export async function listRepositories(registry: string, apiHost: string, options: ListOptions): Promise<string[]> {
  const out: string[] = []
  await eachRepository(registry, apiHost, options, (repos) => out.push(...repos))
  return out
}
