/**
 * inspect: what `skopeo inspect` prints about an image, from any store: the top manifest's
 * digest, the registry's tags, and from the platform's image its config's created time,
 * labels, platform, env and layers. Field names and order are skopeo's, so scripts written
 * for skopeo's JSON read ours.
 */

import type {Platform} from '../oci/types.js'
import {type RemoteOptions, withSession} from '../remote/session.js'
import type {Location} from '../stores/location.js'
import {openImage, openTop} from './source-image.js'

export interface InspectLayer {
  MIMEType: string
  Digest: string
  Size: number
  Annotations: Record<string, string> | null
}

/** InspectOutput is skopeo's `inspect` document, field for field. */
export interface InspectOutput {
  Name?: string
  Digest: string
  RepoTags: string[]
  Created: string | null
  DockerVersion: string
  Labels: Record<string, string> | null
  Architecture: string
  Variant?: string
  Os: string
  Layers: string[]
  LayersData: InspectLayer[]
  Env: string[] | null
}

export interface InspectOptions extends RemoteOptions {
  platform?: Platform
  /** list the repository's tags (registry only; skopeo's default, `--no-tags` turns it off) */
  tags?: boolean
}

/** inspect builds skopeo's document for the image `loc` names. */
export function inspect(loc: Location, options: InspectOptions = {}): Promise<InspectOutput> {
  return withSession(options, async (s) => {
    const img = await openImage(loc, s, options.platform)
    try {
      const config = await img.config()
      const c = config.config ?? {}
      let repoTags: string[] = []
      if (loc.kind === 'registry' && options.tags !== false) repoTags = await s.repository(loc.ref).tags()
      const name = loc.kind === 'registry' ? loc.ref.name : undefined
      const layers = img.manifest.layers
      return {
        ...(name ? {Name: name} : {}),
        Digest: img.top.digest,
        RepoTags: repoTags,
        Created: typeof config.created === 'string' ? goTime(config.created) : null,
        DockerVersion: typeof config.docker_version === 'string' ? config.docker_version : '',
        Labels: c.Labels && Object.keys(c.Labels).length > 0 ? {...c.Labels} : null,
        Architecture: config.architecture ?? '',
        ...(config.variant ? {Variant: config.variant} : {}),
        Os: config.os ?? '',
        Layers: layers.map((l) => l.digest),
        LayersData: layers.map((l) => ({MIMEType: l.mediaType, Digest: l.digest, Size: l.size, Annotations: l.annotations ? {...l.annotations} : null})),
        Env: c.Env ? [...c.Env] : null,
      }
    } finally {
      await img.source.close().catch(() => {})
    }
  })
}

/** inspectRaw returns the top manifest's exact bytes (`--raw`; an index stays an index). */
export function inspectRaw(loc: Location, options: RemoteOptions = {}): Promise<Buffer> {
  return withSession(options, async (s) => {
    const {source, top} = await openTop(loc, s)
    await source.close().catch(() => {})
    return top.bytes
  })
}

/** inspectConfig returns the platform's image config bytes, exactly as stored. */
export function inspectConfig(loc: Location, options: InspectOptions = {}): Promise<Buffer> {
  return withSession(options, async (s) => {
    const img = await openImage(loc, s, options.platform)
    try {
      return await img.configBytes()
    } finally {
      await img.source.close().catch(() => {})
    }
  })
}


/** goTime writes an RFC 3339 time as Go's time.RFC3339Nano does (skopeo's form): no trailing zeros in the fraction. */
export function goTime(s: string): string {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/i.exec(s)
  if (!m) return s
  const frac = (m[2] ?? '').slice(0, 9).replace(/0+$/, '')
  return `${m[1]}${frac ? `.${frac}` : ''}${m[3].toUpperCase() === 'Z' ? 'Z' : m[3]}`
}
