/**
 * digest: the digest of the manifest a reference names. HEAD first (no body moves), GET when
 * the registry's HEAD gives no Docker-Content-Digest; with `platform`, the matching child.
 * Local images (files, layouts, loose build files) are in ./local-digest.ts: this module
 * stays small for the quick path of `ocitool digest` (src/lib/cli/lean.ts).
 */
import type {Reference} from '../name/reference.js'
import type {Platform} from '../oci/types.js'
import {type RemoteOptions, withSession} from '../remote/session.js'
import {fetchManifest} from './resolve.js'

export interface DigestResult {
  digest: string
  mediaType: string
  size: number
  /** `registry/repository@digest` */
  fullRef: string
}

export function digest(ref: Reference, options: RemoteOptions & {platform?: Platform}): Promise<DigestResult> {
  return withSession(options, async (s) => {
    if (!options.platform) {
      if (ref.digest) {
        // by digest: the answer is known, but confirm that the registry has it
        const head = await s.repository(ref).headManifest(ref.digest)
        if (head?.digest === ref.digest) return {digest: ref.digest, mediaType: head.mediaType, size: head.size, fullRef: `${ref.name}@${ref.digest}`}
      } else {
        const head = await s.repository(ref).headManifest(ref.tag ?? 'latest')
        if (head && /^sha256:[a-f0-9]{64}$/.test(head.digest)) {
          return {digest: head.digest, mediaType: head.mediaType, size: head.size, fullRef: `${ref.name}@${head.digest}`}
        }
      }
    }
    const m = await fetchManifest(s, ref, options.platform)
    return {digest: m.digest, mediaType: m.mediaType, size: m.bytes.length, fullRef: `${ref.name}@${m.digest}`}
  })
}
