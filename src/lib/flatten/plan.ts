/**
 * plan: pass 1 of `flatten`. Fed the entries of every layer, top layer first, it
 * decides which entry of which layer is in the flattened filesystem, by the layer rules of the
 * OCI image spec (https://github.com/opencontainers/image-spec/blob/main/layer.md#whiteouts):
 *
 * - a path belongs to the highest layer that has it; a non-directory there hides everything a
 *   lower layer has under it (a directory hides nothing: lower children stay);
 * - `DIR/.wh.NAME` deletes `DIR/NAME` (and what is under it) from lower layers, and
 *   `DIR/.wh..wh..opq` hides every lower child of DIR; neither touches its own layer, so a
 *   layer may delete a path and add it again; other `.wh..wh.*` names (AUFS bookkeeping) are
 *   ignored; whiteout files are never written;
 * - within one layer the last entry for a path wins, as when extracting;
 * - a path a higher layer puts something under is a directory there, so a lower regular file
 *   (or device) at that path is hidden; a lower symlink is kept, as `docker load` would have
 *   written through it.
 *
 * Hard links: a link names the entry its target path had at that point of the stream (earlier
 * in its own layer, else in the nearest lower layer that has it). When that entry survives,
 * the link is written as is (after its target, since pass 2 goes bottom to top). When the
 * target was replaced or deleted by a higher layer, the first link that needs it takes its
 * place: the old target's bytes are written under the link's name, and further links to the
 * same entry become links to that name. A link whose target is nowhere is left out (warned).
 *
 * Memory grows with the number of paths, never with the size of a layer.
 */
import {OcitoolError} from '../errors.js'
import {ancestorsOf, normalizeEntryPath, parentOf, resolveInRoot} from './paths.js'

/** EntryKind is what a layer entry is, as far as flattening cares. */
export type EntryKind = 'directory' | 'file' | 'symlink' | 'link' | 'other' | 'unsupported'

/** PlanEntry is one tar entry of the layer being planned. */
export interface PlanEntry<H> {
  /** position of the entry in its layer tar (0, 1, …); pass 2 counts the same way */
  ordinal: number
  /** the name as written in the tar */
  name: string
  kind: EntryKind
  /** hard links and symlinks: the target as written */
  linkname?: string
  /** directories: what to write for them (they are written first, parents before children) */
  header?: H
}

/** Action is what pass 2 writes for one entry: the entry under `path`, or a hard link to `target`. */
export type Action = {kind: 'emit'; path: string} | {kind: 'link'; path: string; target: string}

export interface FlattenPlan<H> {
  /** surviving directories, parents before children */
  directories: Array<{path: string; header: H}>
  /** layer index → entry ordinal → action; a layer without any need not be read again */
  actions: Map<number, Map<number, Action>>
}

export interface PlannerOptions {
  /** 'error' (default): an entry outside the root fails the export; 'skip': warn and leave it out */
  unsafePaths?: 'error' | 'skip'
  warn?: (message: string) => void
}

const WHITEOUT = '.wh.'
const OPAQUE = '.wh..wh..opq'
const AUFS_META = '.wh..wh.'
const DELETED = 'deleted'

interface Slot {
  layer: number
  ordinal: number
  kind: EntryKind
}
interface Target extends Slot {
  path: string
}
type Decision = Slot | typeof DELETED

interface LayerState<H> {
  index: number
  what: string
  /** visible entries (not hidden by a higher layer), last one per path */
  entries: Map<string, {slot: Slot; header?: H}>
  /** every entry so far, visible or not, for hard links of this layer */
  seen: Map<string, Target>
  whiteouts: Set<string>
  opaque: Set<string>
  /** hard links of this layer whose target is in a lower layer, by target path */
  pending: Map<string, string[]>
}

const keyOf = (s: {layer: number; ordinal: number}) => `${s.layer}:${s.ordinal}`

/** FlattenPlanner: call beginLayer/entry…/endLayer for each layer from the top down, then finish. */
export class FlattenPlanner<H> {
  private readonly decided = new Map<string, Decision>()
  /** directories whose lower contents are hidden */
  private readonly opaque = new Set<string>()
  /** paths a higher layer has something under */
  private readonly impliedDirs = new Set<string>()
  private readonly dirHeaders = new Map<string, H>()
  /** link slot key → the entry it names (undefined: none) */
  private readonly linkTargets = new Map<string, Target | undefined>()
  /** links waiting for a lower layer: target path → link slot keys */
  private readonly pending = new Map<string, string[]>()
  /** layer index → its name for messages */
  private readonly whats = new Map<number, string>()
  /** symlink slot key → its target as written */
  private readonly symlinkTargets = new Map<string, string>()
  private cur?: LayerState<H>

  constructor(private readonly options: PlannerOptions = {}) {}

  beginLayer(index: number, what: string): void {
    if (this.cur) throw new Error(`flatten: layer ${this.cur.index} not ended`)
    this.whats.set(index, what)
    this.cur = {index, what, entries: new Map(), seen: new Map(), whiteouts: new Set(), opaque: new Set(), pending: new Map()}
  }

  /**
   * entry plans one entry. True when its header (and bytes) may be written: it is not hidden by a
   * higher layer, or a higher layer's hard link waits for it. An entry may also be written when a
   * later link of its own layer needs its bytes although a higher layer replaced it: then false.
   */
  entry(e: PlanEntry<H>): boolean {
    const cur = this.layer()
    const path = this.safe(e.name, 'entry')
    if (!path) return false // outside the root (skipped), or the root itself
    const slash = path.lastIndexOf('/')
    const dir = slash < 0 ? '' : path.slice(0, slash)
    const base = path.slice(slash + 1)
    if (base.startsWith(WHITEOUT)) {
      if (base === OPAQUE) cur.opaque.add(dir)
      else if (!base.startsWith(AUFS_META) && base.length > WHITEOUT.length) cur.whiteouts.add(dir ? `${dir}/${base.slice(WHITEOUT.length)}` : base.slice(WHITEOUT.length))
      return false
    }
    let target: string | undefined
    if (e.kind === 'link') {
      target = this.safe(e.linkname ?? '', `hard link target of ${path}`)
      if (!target) {
        if (target === '') this.warn(`${cur.what}: hard link ${path} has no target; left out`)
        return false
      }
    }
    const slot: Slot = {layer: cur.index, ordinal: e.ordinal, kind: e.kind}
    const visible = !this.hidden(path, e.kind)
    if (visible) {
      cur.entries.set(path, {slot, header: e.kind === 'directory' ? e.header : undefined})
      if (e.kind === 'symlink') this.symlinkTargets.set(keyOf(slot), e.linkname ?? '')
      if (target !== undefined) {
        const t = cur.seen.get(target)
        if (t) this.linkTargets.set(keyOf(slot), t)
        else cur.pending.set(target, [...(cur.pending.get(target) ?? []), keyOf(slot)])
      }
    }
    cur.seen.set(path, {...slot, path})
    return visible || this.pending.has(path)
  }

  endLayer(): void {
    const cur = this.layer()
    // links from higher layers whose target this layer has (or deletes)
    for (const [target, keys] of this.pending) {
      const t = cur.seen.get(target)
      if (!t && !this.layerDeletes(cur, target)) continue
      for (const k of keys) this.linkTargets.set(k, t)
      this.pending.delete(target)
    }
    for (const [path, {slot, header}] of cur.entries) {
      this.decided.set(path, slot)
      if (slot.kind === 'directory') this.dirHeaders.set(path, header as H)
      this.imply(path)
    }
    for (const w of cur.whiteouts) {
      const e = cur.entries.get(w)
      // deleted and added again in this layer: a directory starts empty
      if (e) {
        if (e.slot.kind === 'directory') this.opaque.add(w)
      } else if (!this.decided.has(w)) {
        this.decided.set(w, DELETED)
      }
      this.imply(w)
    }
    for (const d of cur.opaque) {
      this.opaque.add(d)
      if (d) this.impliedDirs.add(d)
      this.imply(d)
    }
    for (const [target, keys] of cur.pending) this.pending.set(target, [...(this.pending.get(target) ?? []), ...keys])
    this.cur = undefined
  }

  finish(): FlattenPlan<H> {
    if (this.cur) throw new Error(`flatten: layer ${this.cur.index} not ended`)
    for (const keys of this.pending.values()) for (const k of keys) this.linkTargets.set(k, undefined)
    this.pending.clear()
    const actions = new Map<number, Map<number, Action>>()
    const set = (s: {layer: number; ordinal: number}, a: Action) => {
      let m = actions.get(s.layer)
      if (!m) actions.set(s.layer, (m = new Map()))
      m.set(s.ordinal, a)
    }
    const has = (s: {layer: number; ordinal: number}) => actions.get(s.layer)?.has(s.ordinal) === true
    const directories: Array<{path: string; header: H}> = []
    const links: Target[] = []
    // (a hard link to an entry left out finds it gone below and takes its bytes instead)
    const gone = new Set<string>()
    const moved = this.moveOutOfEscapes(gone)
    const finalOf = (path: string) => moved.get(path) ?? path
    for (const [path, d] of this.decided) {
      if (d === DELETED || gone.has(path)) continue
      const at = finalOf(path)
      if (d.kind === 'directory') directories.push({path: at, header: this.dirHeaders.get(path) as H})
      else if (d.kind === 'link') links.push({...d, path: at})
      else if (d.kind === 'unsupported') this.warn(`${path}: unsupported tar entry type (e.g. a GNU sparse file); left out`)
      else set(d, {kind: 'emit', path: at})
    }
    // code-unit order puts a directory before everything under it (a prefix sorts first)
    directories.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
    links.sort((a, b) => a.layer - b.layer || a.ordinal - b.ordinal)
    const takenBy = new Map<string, string>()
    for (const l of links) {
      const t = this.linkTargets.get(keyOf(l))
      if (!t) {
        this.warn(`hard link ${l.path}: its target is not in the image; left out`)
        continue
      }
      if (t.kind === 'directory' || t.kind === 'unsupported') {
        this.warn(`hard link ${l.path}: its target ${t.path} is a ${t.kind === 'directory' ? 'directory' : 'unsupported entry'}; left out`)
        continue
      }
      const d = this.decided.get(t.path)
      const survives = d !== undefined && d !== DELETED && d.layer === t.layer && d.ordinal === t.ordinal && !gone.has(t.path)
      if (survives && (t.kind !== 'link' || has(t))) {
        set(l, {kind: 'link', path: l.path, target: finalOf(t.path)})
        continue
      }
      if (t.kind === 'link') {
        this.warn(`hard link ${l.path}: its target ${t.path} is a hard link that was replaced; left out`)
        continue
      }
      // the target was replaced or deleted above: the first link takes its content
      const first = takenBy.get(keyOf(t))
      if (first !== undefined) {
        set(l, {kind: 'link', path: l.path, target: first})
      } else {
        takenBy.set(keyOf(t), l.path)
        set(t, {kind: 'emit', path: l.path})
      }
    }
    return {directories, actions}
  }

  /**
   * moveOutOfEscapes: where each surviving entry is written. Entries under a symlink that would
   * take an extracting tool outside the root are moved to where the link leads inside the root
   * (resolveInRoot); when that path has an entry already, the one from the higher layer stays
   * and the other is left out (`gone`), as if the layers had been extracted in a container.
   * Entries under a symlink loop, or under a non-directory, are left out (or, for a loop, refused).
   * Returns the moved ones: path as written → path in the output.
   */
  private moveOutOfEscapes(gone: Set<string>): Map<string, string> {
    const moved = new Map<string, string>()
    const symlinks = this.survivingSymlinks()
    for (const [path, d] of this.decided) {
      if (d === DELETED) continue
      if (this.underFile(path)) {
        this.warn(`${path}: its parent is not a directory in the same layer; left out`)
        gone.add(path)
        continue
      }
      if (symlinks.size === 0) continue
      const r = resolveInRoot(parentOf(path), symlinks)
      if (!r) {
        this.unsafe(`entry ${JSON.stringify(path)} is under a symlink loop`, this.whats.get(d.layer) ?? 'layer')
        gone.add(path)
        continue
      }
      if (!r.escapes) continue
      const base = path.slice(path.lastIndexOf('/') + 1)
      moved.set(path, r.path === '' ? base : `${r.path}/${base}`)
    }
    if (moved.size === 0) return moved
    // one entry per output path: the highest layer's (then the latest in its layer)
    const owner = new Map<string, {path: string; slot: Slot}>()
    for (const [path, d] of this.decided) {
      if (d === DELETED || gone.has(path)) continue
      const at = moved.get(path) ?? path
      const other = owner.get(at)
      if (other && (other.slot.layer > d.layer || (other.slot.layer === d.layer && other.slot.ordinal > d.ordinal))) {
        gone.add(path)
        continue
      }
      if (other) gone.add(other.path)
      owner.set(at, {path, slot: d})
    }
    return moved
  }

  private layer(): LayerState<H> {
    if (!this.cur) throw new Error('flatten: entry outside a layer')
    return this.cur
  }

  /** hidden: a higher layer has decided this path, or hides what is under one of its ancestors */
  private hidden(path: string, kind: EntryKind): boolean {
    if (this.decided.has(path)) return true
    if (kind !== 'directory' && kind !== 'symlink' && this.impliedDirs.has(path)) return true
    for (const a of ancestorsOf(path)) {
      if (this.opaque.has(a)) return true
      const d = this.decided.get(a)
      if (d === DELETED || (d !== undefined && d.kind !== 'directory')) return true
    }
    return false
  }

  /** layerDeletes: whether the layer removes `path` for the layers below it */
  private layerDeletes(cur: LayerState<H>, path: string): boolean {
    if (cur.whiteouts.has(path)) return true
    return ancestorsOf(path).some((a) => cur.opaque.has(a) || cur.whiteouts.has(a))
  }

  /** underFile: a surviving ancestor is neither a directory nor a symlink (one layer had both) */
  private underFile(path: string): boolean {
    for (const a of ancestorsOf(path)) {
      const d = a === '' ? undefined : this.decided.get(a)
      if (d !== undefined && d !== DELETED && d.kind !== 'directory' && d.kind !== 'symlink') return true
    }
    return false
  }

  private imply(path: string): void {
    const as = ancestorsOf(path)
    for (let i = as.length - 1; i >= 1; i--) {
      if (this.impliedDirs.has(as[i])) return
      this.impliedDirs.add(as[i])
    }
  }

  /** safe normalises a name; outside the root it throws, or warns and gives undefined */
  private safe(name: string, what: string): string | undefined {
    const p = normalizeEntryPath(name)
    if (p !== undefined) return p
    this.unsafe(`${what} ${JSON.stringify(name)} is outside the image root`, this.cur?.what ?? 'layer')
    return undefined
  }

  /** unsafe fails with UNSAFE_PATH, or (skip mode) warns that the entry is left out */
  private unsafe(what: string, where: string): void {
    const message = `${where}: ${what}`
    if (this.options.unsafePaths === 'skip') {
      this.warn(`${message}; left out`)
      return
    }
    throw new OcitoolError(message, {code: 'UNSAFE_PATH', suggestions: ['the layer is malformed or malicious; nothing was written outside the output']})
  }

  /** survivingSymlinks maps each symlink of the flattened filesystem to its target as written */
  private survivingSymlinks(): Map<string, string> {
    const out = new Map<string, string>()
    for (const [path, d] of this.decided) {
      if (d !== DELETED && d.kind === 'symlink') out.set(path, this.symlinkTargets.get(keyOf(d)) ?? '')
    }
    return out
  }

  private warn(message: string): void {
    this.options.warn?.(message)
  }
}
