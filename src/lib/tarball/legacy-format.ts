/**
 * legacy-format: the names and metadata of the legacy `docker save` format (docker image spec
 * v1.2, "combined image JSON + filesystem changeset"), as docker 1.10–24 and
 * go-containerregistry's legacy/tarball write it:
 *
 *   <config hex>.json        the image config
 *   <layer id>/layer.tar     the layer, uncompressed (or a symlink to the same layer's file
 *                            in another directory, as docker save writes shared layers; then
 *                            manifest.json names that file instead)
 *   <layer id>/json          the v1 layer JSON: id, parent, created, container_config
 *   <layer id>/VERSION       `1.0`
 *   repositories             {"<repo>": {"<tag>": "<top layer id>"}}
 *   manifest.json            [{"Config", "RepoTags", "Layers", "LayerSources"?}]
 *
 * Layer ids (any unique 64-hex name will do for docker load and skopeo, as long as
 * manifest.json, the json files and repositories agree) are derived from the config alone:
 * - a layer below the top has the hex of its ChainID (OCI image spec: the base layer's is
 *   its diff id, each next one `sha256(<parent ChainID> + " " + <diff id>)`), so images that
 *   share a stack of layers share its directories;
 * - the top layer's id is `sha256(<top ChainID> + " " + <config digest>)`, because its json
 *   carries the image config (as docker and go-containerregistry write it): two images with
 *   the same layers and different configs get different top ids.
 *
 * https://github.com/moby/moby/blob/v24.0.9/image/spec/v1.2.md#combined-image-json--filesystem-changeset-format
 * https://github.com/opencontainers/image-spec/blob/v1.1.0/config.md#layer-chainid
 */
import {OcitoolError} from '../errors.js'
import {digestOf} from '../oci/digest.js'

/** VERSION is the content of every `<layer id>/VERSION`. */
export const LEGACY_VERSION = '1.0'
/** REPOSITORIES names the legacy tag file. */
export const REPOSITORIES = 'repositories'
/** `created` of the layers below the top, which have no config of their own. */
const EPOCH = '1970-01-01T00:00:00Z'

const SHA256 = /^sha256:([0-9a-f]{64})$/

/** hexOf returns the hex of a `sha256:` digest, or undefined for anything else. */
export function hexOf(digest: string): string | undefined {
  return SHA256.exec(digest)?.[1]
}

/** LegacyConfig is what the legacy format needs from an image config. */
export interface LegacyConfig {
  /** the parsed config (for the top layer's json) */
  doc: Record<string, unknown>
  /** rootfs.diff_ids, each a `sha256:` digest */
  diffIds: string[]
}

/** parseLegacyConfig reads a config's diff ids; anything unusable is a BAD_CONFIG OcitoolError naming `what`. */
export function parseLegacyConfig(bytes: Buffer, what: string): LegacyConfig {
  let doc: unknown
  try {
    doc = JSON.parse(bytes.toString('utf8'))
  } catch (e) {
    throw new OcitoolError(`${what}: the config is not JSON`, {code: 'BAD_CONFIG', cause: e})
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new OcitoolError(`${what}: the config is not a JSON object`, {code: 'BAD_CONFIG'})
  const ids = (doc as {rootfs?: {diff_ids?: unknown}}).rootfs?.diff_ids ?? []
  if (!Array.isArray(ids)) throw new OcitoolError(`${what}: the config's rootfs.diff_ids is not an array`, {code: 'BAD_CONFIG'})
  // the ids become file names: only sha256 digests, so nothing can name a path outside a directory
  const bad = ids.find((d) => typeof d !== 'string' || hexOf(d) === undefined)
  if (bad !== undefined) throw new OcitoolError(`${what}: the config's diff id ${JSON.stringify(bad)} is not a sha256 digest`, {code: 'BAD_CONFIG'})
  return {doc: doc as Record<string, unknown>, diffIds: ids as string[]}
}

/** legacyLayerIds returns the layer id of every layer of an image, base first (see the rule above). */
export function legacyLayerIds(diffIds: readonly string[], configDigest: string): string[] {
  const ids: string[] = []
  let chain = ''
  diffIds.forEach((diffId, i) => {
    chain = i === 0 ? diffId : digestOf(Buffer.from(`${chain} ${diffId}`))
    const id = i === diffIds.length - 1 ? digestOf(Buffer.from(`${chain} ${configDigest}`)) : chain
    ids.push(hexOf(id)!)
  })
  return ids
}

/**
 * layerJson is a layer's v1 JSON. Layers below the top get the minimum docker reads
 * (`id`, `parent`, `created`, `container_config`); the top layer also carries the image
 * config's fields (without `rootfs` and `history`), as docker save writes it.
 */
export function layerJson(id: string, parent: string | undefined, config?: Record<string, unknown>): Buffer {
  const own = {id, ...(parent === undefined ? {} : {parent})}
  if (config === undefined) return Buffer.from(JSON.stringify({...own, created: EPOCH, container_config: {}}))
  const {rootfs: _rootfs, history: _history, id: _id, parent: _parent, ...fields} = config
  return Buffer.from(JSON.stringify({...own, ...fields, created: fields.created ?? EPOCH, container_config: fields.container_config ?? {}}))
}

/** splitRepoTag splits `registry:5000/repo:tag` at its tag's colon. */
export function splitRepoTag(repoTag: string): {repo: string; tag: string} {
  const colon = repoTag.lastIndexOf(':')
  if (colon <= 0 || repoTag.slice(colon + 1).includes('/')) return {repo: repoTag, tag: 'latest'}
  return {repo: repoTag.slice(0, colon), tag: repoTag.slice(colon + 1)}
}

/** Repositories is the legacy `repositories` file: repo → tag → top layer id. */
export type Repositories = Record<string, Record<string, string>>

/** addRepoTags records an image's tags under its top layer id. */
export function addRepoTags(repos: Repositories, repoTags: readonly string[], topId: string): void {
  for (const t of repoTags) {
    const {repo, tag} = splitRepoTag(t)
    repos[repo] = {...repos[repo], [tag]: topId}
  }
}
