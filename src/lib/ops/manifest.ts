/** manifest: the exact bytes of a manifest (a child of an index with `platform`). */
import type {Reference} from '../name/reference.js'
import type {Platform} from '../oci/types.js'
import {type RemoteOptions, withSession} from '../remote/session.js'
import {type ResolvedManifest, fetchManifest} from './resolve.js'

export function manifest(ref: Reference, options: RemoteOptions & {platform?: Platform}): Promise<ResolvedManifest> {
  return withSession(options, (s) => fetchManifest(s, ref, options.platform))
}
