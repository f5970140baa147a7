/**
 * referrers: `GET /v2/<name>/referrers/<digest>` (distribution spec 1.1), an OCI index of
 * the manifests whose `subject` is digest, optionally filtered by `?artifactType=`; a
 * filtered answer says so with `OCI-Filters-Applied: artifactType`. An unknown subject has
 * no referrers: the answer is an empty index, never a 404.
 */
import {MediaType} from '../../oci/media-types.js'
import {sendJson} from '../http.js'
import {checkDigest} from '../names.js'
import type {Call} from '../router.js'

/** listReferrers answers the referrers index of a subject. */
export async function listReferrers({ctx, res, name, param, query}: Call): Promise<void> {
  const subject = checkDigest(param)
  let manifests = await ctx.repos.referrers(name, subject)
  const filters = query.getAll('artifactType')
  const headers: Record<string, string> = {'Content-Type': MediaType.ociIndex}
  if (filters.length > 0) {
    manifests = manifests.filter((d) => d.artifactType !== undefined && filters.includes(d.artifactType))
    headers['OCI-Filters-Applied'] = 'artifactType'
  }
  sendJson(res, 200, {schemaVersion: 2, mediaType: MediaType.ociIndex, manifests}, headers)
}
