/**
 * diff: how two images differ, container-diff style: their configs (field by field, `Env` and
 * `Labels` by name; rootfs and history are the layers' business), their layers (by diff_id:
 * the common bottom, then what each has on top), and with `files` the paths added, removed or
 * modified in the applied filesystems (whiteouts applied; modified = type, mode, owner, size,
 * content digest or link target differ; times are ignored). The common bottom layers are read
 * once for both trees.
 */
import {pipeline as pipe} from 'node:stream'
import {verify} from '../io/verify.js'
import type {Descriptor, ImageConfig, Platform} from '../oci/types.js'
import {type RemoteOptions, withSession} from '../remote/session.js'
import type {Location} from '../stores/location.js'
import {type FileTree, applyLayer, sameFile} from '../flatten/index.js'
import {type SourceImage, openImage} from './source-image.js'

export interface ConfigChange {
  key: string
  /** absent: the key is only in B */
  a?: unknown
  /** absent: the key is only in A */
  b?: unknown
}

export interface LayerRef {
  /** 1-based position in its image */
  index: number
  diffId: string
  digest: string
}

export interface DiffResult {
  a: {digest: string}
  b: {digest: string}
  config: ConfigChange[]
  layers: {common: number; onlyA: LayerRef[]; onlyB: LayerRef[]}
  files?: {added: string[]; removed: string[]; modified: string[]}
}

export interface DiffOptions extends RemoteOptions {
  platform?: Platform
  files?: boolean
}

/** diff compares the images `a` and `b` name. */
export function diff(a: Location, b: Location, options: DiffOptions = {}): Promise<DiffResult> {
  return withSession(options, async (s) => {
    const ia = await openImage(a, s, options.platform)
    try {
      const ib = await openImage(b, s, options.platform)
      try {
        const [ca, cb] = await Promise.all([ia.config(), ib.config()])
        const da = diffIds(ca, ia)
        const db = diffIds(cb, ib)
        let common = 0
        while (common < da.length && common < db.length && da[common] === db[common]) common++
        const refs = (ids: string[], img: SourceImage) => ids.slice(common).map((diffId, i) => ({index: common + i + 1, diffId, digest: img.manifest.layers[common + i]?.digest ?? ''}))
        const result: DiffResult = {
          a: {digest: ia.image.digest},
          b: {digest: ib.image.digest},
          config: configChanges(ca, cb),
          layers: {common, onlyA: refs(da, ia), onlyB: refs(db, ib)},
        }
        if (options.files) result.files = await fileChanges(ia, ib, common)
        return result
      } finally {
        await ib.source.close().catch(() => {})
      }
    } finally {
      await ia.source.close().catch(() => {})
    }
  })
}

function diffIds(config: ImageConfig, img: SourceImage): string[] {
  const ids = config.rootfs?.diff_ids
  // a config without rootfs (rare, broken): the layer digests stand in
  return Array.isArray(ids) && ids.length === img.manifest.layers.length ? [...ids] : img.manifest.layers.map((l) => l.digest)
}

/** flattenConfig turns a config into `key → value`, Env and Labels by name, arrays whole. */
export function flattenConfig(config: ImageConfig): Map<string, unknown> {
  const out = new Map<string, unknown>()
  const walk = (v: unknown, key: string): void => {
    if (key === 'rootfs' || key === 'history') return
    if (key.endsWith('.Env') && Array.isArray(v)) {
      for (const e of v) {
        const s = String(e)
        const eq = s.indexOf('=')
        out.set(`${key}.${eq < 0 ? s : s.slice(0, eq)}`, eq < 0 ? '' : s.slice(eq + 1))
      }
      return
    }
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
      const entries = Object.entries(v)
      if (entries.length === 0 && key !== '') out.set(key, v)
      for (const [k, x] of entries) walk(x, key ? `${key}.${k}` : k)
      return
    }
    out.set(key, v)
  }
  walk(config, '')
  return out
}

export function configChanges(a: ImageConfig, b: ImageConfig): ConfigChange[] {
  const fa = flattenConfig(a)
  const fb = flattenConfig(b)
  const keys = [...new Set([...fa.keys(), ...fb.keys()])].sort()
  const out: ConfigChange[] = []
  for (const key of keys) {
    const inA = fa.has(key)
    const inB = fb.has(key)
    if (inA && inB && JSON.stringify(fa.get(key)) === JSON.stringify(fb.get(key))) continue
    out.push({key, ...(inA ? {a: fa.get(key)} : {}), ...(inB ? {b: fb.get(key)} : {})})
  }
  return out
}

async function applyAll(tree: FileTree, img: SourceImage, layers: readonly Descriptor[], signal?: AbortSignal): Promise<void> {
  for (const d of layers) {
    signal?.throwIfAborted()
    const what = `layer ${d.digest} of ${img.source.description}`
    const blob = pipe(await img.source.blob(d), verify(d.digest, d.size, {what}), () => {})
    await applyLayer(tree, blob, what)
  }
}

async function fileChanges(ia: SourceImage, ib: SourceImage, common: number): Promise<NonNullable<DiffResult['files']>> {
  const base: FileTree = new Map()
  await applyAll(base, ia, ia.manifest.layers.slice(0, common))
  const ta = new Map(base)
  const tb = new Map(base)
  await applyAll(ta, ia, ia.manifest.layers.slice(common))
  await applyAll(tb, ib, ib.manifest.layers.slice(common))
  const added: string[] = []
  const removed: string[] = []
  const modified: string[] = []
  for (const [p, fa] of ta) {
    const fb = tb.get(p)
    if (!fb) removed.push(p)
    else if (!sameFile(fa, fb)) modified.push(p)
  }
  for (const p of tb.keys()) if (!ta.has(p)) added.push(p)
  const sort = (l: string[]) => l.sort().map((p) => `/${p}`)
  return {added: sort(added), removed: sort(removed), modified: sort(modified)}
}
