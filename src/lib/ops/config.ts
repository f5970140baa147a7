/** config: the exact bytes of an image's config blob, verified against the manifest's descriptor. */
import {RegistryError} from '../errors.js'
import type {Reference} from '../name/reference.js'
import {parseManifest} from '../oci/manifest.js'
import type {ImageManifest, Platform} from '../oci/types.js'
import {readBody} from '../remote/transport/http.js'
import {type RemoteOptions, withSession} from '../remote/session.js'
import {DEFAULT_PLATFORM, fetchManifest} from './resolve.js'

const CONFIG_CAP = 64 * 1024 * 1024

export function config(ref: Reference, options: RemoteOptions & {platform?: Platform}): Promise<Buffer> {
  return withSession(options, async (s) => {
    let m = await fetchManifest(s, ref, options.platform)
    let parsed = parseManifest(m.bytes, m.mediaType)
    if (parsed.kind === 'index') {
      // as crane does: an index without --platform means linux/amd64
      m = await fetchManifest(s, ref, DEFAULT_PLATFORM)
      parsed = parseManifest(m.bytes, m.mediaType)
    }
    const desc = (parsed.manifest as ImageManifest).config
    if (!desc) throw new RegistryError(`${m.ref}: ${parsed.mediaType} has no config`, {code: 'NOT_AN_IMAGE'})
    const stream = await s.repository(ref).blob(desc.digest, desc.size)
    return readBody(stream, CONFIG_CAP, `config ${ref.name}@${desc.digest}`)
  })
}
