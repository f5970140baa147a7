/**
 * dir-format: the files of skopeo's `dir:` transport (containers/image `directory`), version
 * 1.1, as skopeo 1.9 writes them:
 *   version                      `Directory Transport Version: 1.1\n`
 *   manifest.json                the top manifest's exact bytes (an image, or an index with --all)
 *   <hex>                        each blob (config, layer), named by its digest's hex, no algorithm
 *   <hex>.manifest.json          each child manifest of an index
 *   signature-N, <hex>.signature-N  signatures (ocitool neither reads nor writes them)
 *
 * https://github.com/containers/image/blob/main/directory/directory_transport.go
 */
import * as path from 'node:path'

import {parseDigest} from '../oci/digest.js'

export const DIR_VERSION_FILE = 'version'
export const DIR_VERSION = 'Directory Transport Version: 1.1\n'
/** what every version of the format's `version` file starts with */
export const DIR_VERSION_PREFIX = 'Directory Transport Version: '
export const DIR_MANIFEST_FILE = 'manifest.json'

/** dirBlobPath returns `DIR/<hex>`; an invalid digest is a UsageError (so no path escapes DIR). */
export function dirBlobPath(dir: string, digest: string): string {
  return path.join(dir, parseDigest(digest).hex)
}

/** dirManifestPath returns `DIR/<hex>.manifest.json`, where skopeo keeps an index's children. */
export function dirManifestPath(dir: string, digest: string): string {
  return path.join(dir, `${parseDigest(digest).hex}.manifest.json`)
}

const IMAGE_FILE = /^([0-9a-f]{64}|[0-9a-f]{128})(?:\.manifest\.json|\.signature-\d+)?$/
const TOP_SIGNATURE = /^signature-\d+$/

/**
 * classifyDirFile says what a file name in a `dir:` image is: content of digest hex
 * (`{hex}`), a signature of the top manifest (`'signature'`), or something else (undefined).
 */
export function classifyDirFile(name: string): {hex: string} | 'signature' | undefined {
  const m = IMAGE_FILE.exec(name)
  if (m) return {hex: m[1]!}
  return TOP_SIGNATURE.test(name) ? 'signature' : undefined
}
