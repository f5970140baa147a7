/**
 * mutate: edit configs and manifests (labels, env, entrypoint, annotations, platform, media
 * types) of an image, or of every child of an index (or the chosen platforms), then write it.
 * Only the new configs and manifests move (and appended layers).
 */
import {UsageError} from '../errors.js'
import {isIndex} from '../oci/media-types.js'
import {parsePlatform} from '../oci/platform.js'
import type {Platform} from '../oci/types.js'
import {type Target, convertManifest, convertMediaType} from '../mutate/convert.js'
import {type Json, createdNow, editRoot} from '../mutate/edit.js'
import {type PreparedLayer, prepareLayer} from '../mutate/layer.js'
import {OverlaySource} from '../mutate/overlay.js'
import {type RemoteOptions, withSession} from '../remote/session.js'
import type {Location} from '../stores/location.js'
import {openSource} from '../stores/open.js'
import {type CopyOptions, type CopyResult, copy} from './copy.js'

export interface MutateSpec {
  annotations?: Record<string, string>
  labels?: Record<string, string>
  env?: string[]
  entrypoint?: string[]
  cmd?: string[]
  user?: string
  workdir?: string
  exposedPorts?: string[]
  setPlatform?: string
  created?: string
  append?: string[]
  convert?: Target
}

export interface MutateOptions extends CopyOptions {
  platforms?: Platform[] | 'all'
}

/** parseKeyValues reads `k=v` flags; a missing `=` is a usage error naming the flag. */
export function parseKeyValues(flag: string, values: string[] | undefined): Record<string, string> | undefined {
  if (!values) return undefined
  const out: Record<string, string> = {}
  for (const v of values) {
    const i = v.indexOf('=')
    if (i <= 0) throw new UsageError(`${flag} ${v}: expected KEY=VALUE`)
    out[v.slice(0, i)] = v.slice(i + 1)
  }
  return out
}

export async function mutate(src: Location, dst: Location, spec: MutateSpec, options: MutateOptions): Promise<CopyResult> {
  const prepared: PreparedLayer[] = []
  try {
    return await withSession(options as RemoteOptions, async (session) => {
      const base = await openSource(src, session)
      const overlay = new OverlaySource(base)
      const [root] = await base.roots()
      const docker = root.mediaType.includes('docker')
      for (const input of spec.append ?? []) {
        const layer = await prepareLayer(input, {mediaTypes: (spec.convert ?? (docker ? 'docker' : 'oci')) as 'oci' | 'docker', signal: options.signal, warn: options.warn})
        prepared.push(layer)
        overlay.addBlob(layer.desc.digest, layer.bytes)
      }
      const created = spec.created || prepared.length > 0 ? createdNow(spec.created) : undefined
      const platform = spec.setPlatform ? parsePlatform(spec.setPlatform) : undefined
      if (platform && !platform.architecture) throw new UsageError(`--set-platform ${spec.setPlatform}: an image's platform needs os/arch`)
      const newRoot = await editRoot(
        overlay,
        root,
        ({manifest, config}) => {
          const c = (config.config ??= {}) as Json
          if (spec.annotations) manifest.annotations = {...(manifest.annotations as Json), ...spec.annotations}
          if (spec.labels) c.Labels = {...(c.Labels as Json), ...spec.labels}
          if (spec.env) c.Env = mergeEnv((c.Env as string[]) ?? [], spec.env)
          if (spec.entrypoint) c.Entrypoint = spec.entrypoint
          if (spec.cmd) c.Cmd = spec.cmd
          if (spec.user !== undefined) c.User = spec.user
          if (spec.workdir !== undefined) c.WorkingDir = spec.workdir
          if (spec.exposedPorts) c.ExposedPorts = {...(c.ExposedPorts as Json), ...Object.fromEntries(spec.exposedPorts.map((p) => [p.includes('/') ? p : `${p}/tcp`, {}]))}
          if (platform) {
            config.os = platform.os
            config.architecture = platform.architecture
            if (platform.variant) config.variant = platform.variant
            if (platform['os.version']) config['os.version'] = platform['os.version']
          }
          if (prepared.length > 0) {
            manifest.layers = [...((manifest.layers as Json[]) ?? []), ...prepared.map((l) => l.desc)]
            config.rootfs = {type: 'layers', ...(config.rootfs as Json), diff_ids: [...(((config.rootfs as Json)?.diff_ids as string[]) ?? []), ...prepared.map((l) => l.diffId)]}
            config.history = [...((config.history as Json[]) ?? []), ...prepared.map(() => ({created, created_by: 'ocitool mutate --append'}))]
          }
          if (created) config.created = created
          if (spec.convert) convertManifest(manifest, spec.convert)
        },
        {platforms: options.platforms, indexMediaType: spec.convert && isIndex(root.mediaType) ? convertMediaType(root.mediaType, spec.convert) : undefined},
      )
      overlay.setRoots([{...newRoot, names: []}])
      return copy({source: overlay}, dst, {...options, platforms: undefined})
    })
  } finally {
    for (const l of prepared) await l.cleanup().catch(() => {})
  }
}

/** mergeEnv sets K=V entries, replacing an existing K. */
function mergeEnv(env: string[], set: string[]): string[] {
  const out = [...env]
  for (const kv of set) {
    if (!kv.includes('=')) throw new UsageError(`--env ${kv}: expected KEY=VALUE`)
    const key = kv.slice(0, kv.indexOf('='))
    const i = out.findIndex((e) => e.startsWith(`${key}=`) || e === key)
    if (i >= 0) out[i] = kv
    else out.push(kv)
  }
  return out
}
