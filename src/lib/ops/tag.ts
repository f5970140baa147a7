/** tag, remove: point another tag at a manifest, or delete a manifest by digest. */
import type {Reference} from '../name/reference.js'
import {deleteReferrers, unlistReferrer} from '../referrers/copy.js'
import {type RemoteOptions, withSession} from '../remote/session.js'

export interface TagResult {
  digest: string
  /** `registry/repository:tag` */
  tagged: string
}

/** tag copies the manifest bytes of `ref` to `tag` in the same repository; no blob moves. */
export function tag(ref: Reference, tag: string, options: RemoteOptions): Promise<TagResult> {
  return withSession(options, async (s) => {
    const repo = s.repository(ref)
    const m = await repo.getManifest(ref.digest ?? ref.tag ?? 'latest')
    await repo.putManifest(tag, m.bytes, m.mediaType)
    return {digest: m.digest, tagged: `${ref.name}:${tag}`}
  })
}

export interface DeleteResult {
  digest: string
  /** set when the user named a tag and it was resolved to `digest` first */
  resolvedFrom?: string
  /** referrers deleted with it (`referrers` option) */
  referrers?: string[]
}

/** remove deletes the manifest `ref` names (a tag is resolved to its digest first). */
export function remove(ref: Reference, options: RemoteOptions & {referrers?: boolean}): Promise<DeleteResult> {
  return withSession(options, async (s) => {
    const repo = s.repository(ref)
    let digest = ref.digest
    let resolvedFrom: string | undefined
    if (!digest) {
      const tagName = ref.tag ?? 'latest'
      const head = await repo.headManifest(tagName)
      digest = head?.digest || (await repo.getManifest(tagName)).digest
      resolvedFrom = tagName
    }
    if (!options.referrers) {
      await repo.deleteManifest(digest)
      return {digest, resolvedFrom}
    }
    // referrers first (and the fallback indexes naming them), then the image itself
    const referrers = await deleteReferrers(repo, digest)
    await unlistReferrer(repo, digest)
    await repo.deleteManifest(digest)
    return {digest, resolvedFrom, referrers}
  })
}
