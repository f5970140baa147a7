/**
 * foreign: the bytes of a foreign (non-distributable) layer from the `urls` of its descriptor,
 * for a registry that does not hold them (image-spec descriptor.md: `urls` lists where the
 * content may be downloaded). Only http and https URLs are fetched, without any registry
 * credential; each is tried in order, and the bytes are checked against the descriptor's digest
 * and size as they stream (a mismatch errors the stream: exit 6).
 */
import type {Readable} from 'node:stream'
import {NotFoundError} from '../errors.js'
import {verify} from '../io/verify.js'
import type {Descriptor} from '../oci/types.js'
import {drain, type HttpClient, redactUrl} from './transport/http.js'

/** webUrls: the descriptor's http(s) URLs (others, such as file: or ftp:, are never fetched). */
export function webUrls(desc: Descriptor): string[] {
  return (desc.urls ?? []).filter((u) => /^https?:\/\//i.test(u))
}

/** fetchForeign streams a foreign layer from the first of its URLs that answers 200. */
export async function fetchForeign(http: HttpClient, desc: Descriptor, log?: (m: string) => void): Promise<Readable> {
  const urls = webUrls(desc)
  const tried: string[] = []
  for (const url of urls) {
    try {
      const res = await http.send({method: 'GET', url, followRedirect: true})
      if (res.status === 200) {
        log?.(`foreign layer ${desc.digest} from ${redactUrl(url)}`)
        return res.body.pipe(verify(desc.digest, desc.size))
      }
      await drain(res.body)
      tried.push(`${redactUrl(url)}: HTTP ${res.status}`)
    } catch (e) {
      tried.push(`${redactUrl(url)}: ${(e as Error).message}`)
    }
  }
  const why = urls.length === 0 ? 'it has no http(s) url' : tried.join('; ')
  throw new NotFoundError(`foreign layer ${desc.digest}: not in the registry, and not at its urls (${why})`, {code: 'FOREIGN_LAYER_UNAVAILABLE'})
}
