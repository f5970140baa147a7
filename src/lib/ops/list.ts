/** list: tags of a repository and repositories of a registry, every page. */
import type {Repository} from '../name/reference.js'
import {type RemoteOptions, withSession} from '../remote/session.js'

/** digest-named tags (`sha256-<hex>` fallback tags of referrers and signatures) */
const DIGEST_TAG = /^sha(256|512)-[a-f0-9]{64,128}(\..*)?$/

export function listTags(repo: Repository, options: RemoteOptions & {omitDigestTags?: boolean}): Promise<string[]> {
  return withSession(options, async (s) => {
    const tags = await s.repository(repo).tags()
    return options.omitDigestTags ? tags.filter((t) => !DIGEST_TAG.test(t)) : tags
  })
}

export function listRepositories(registry: string, apiHost: string, options: RemoteOptions): Promise<string[]> {
  return withSession(options, (s) => s.catalog(registry, apiHost))
}
