/**
 * gc: which manifests of a GCR repository are garbage, and in which order to delete them.
 *
 * Garbage is an untagged manifest, unless it is kept: by --older-than (uploaded too recently),
 * by --keep N (the N most recently uploaded untagged ones), or because something kept needs it —
 * a child of a kept index (so never a platform image of a tagged multi-arch index), the subject
 * of a kept referrer, or a referrer of a kept subject (signatures and SBOMs of live images stay).
 * Deletion order: a manifest only after every garbage manifest that points at it (an index
 * before its children, a referrer before its subject), so no kept or remaining manifest ever
 * points at a deleted one; with -r the child repositories come before their parents.
 */
import {name as names, type RepositoryClient, type Session} from 'ocitool'
import type {GcrListing} from './gcr.js'

export interface GcOptions {
  /** only untagged manifests uploaded at least this many ms ago */
  olderThanMs?: number
  /** keep the N most recently uploaded untagged manifests */
  keep?: number
  now?: number
}

export interface Garbage {
  repository: string
  digest: string
  mediaType: string
  timeUploadedMs: number
}

interface Links {
  children: string[]
  subject?: string
}

async function links(client: RepositoryClient, digest: string): Promise<Links> {
  const {bytes} = await client.getManifest(digest)
  const doc = JSON.parse(Buffer.from(bytes).toString('utf8')) as {manifests?: {digest: string}[]; subject?: {digest: string}}
  return {children: (doc.manifests ?? []).map((m) => m.digest), subject: doc.subject?.digest}
}

/** plan: the garbage of one repository, in deletion order. */
export async function plan(session: Session, listing: GcrListing, o: GcOptions = {}): Promise<Garbage[]> {
  const now = o.now ?? Date.now()
  const all = Object.entries(listing.manifests)
  const client = session.repository(names.parseRepository(listing.repository))
  const graph = new Map<string, Links>()
  await Promise.all(all.map(async ([d]) => graph.set(d, await links(client, d))))

  const kept = new Set(all.filter(([, m]) => m.tag.length > 0).map(([d]) => d))
  const untagged = all.filter(([, m]) => m.tag.length === 0).sort(([, a], [, b]) => b.timeUploadedMs - a.timeUploadedMs)
  untagged.forEach(([d, m], i) => {
    if (o.keep !== undefined && i < o.keep) kept.add(d)
    if (o.olderThanMs !== undefined && now - m.timeUploadedMs < o.olderThanMs) kept.add(d)
  })
  // close over what kept manifests need
  for (let changed = true; changed; ) {
    changed = false
    for (const [d, l] of graph) {
      const needs = kept.has(d) ? [...l.children, ...(l.subject ? [l.subject] : [])] : []
      if (!kept.has(d) && l.subject && kept.has(l.subject)) needs.push(d)
      for (const n of needs) {
        if (graph.has(n) && !kept.has(n)) {
          kept.add(n)
          changed = true
        }
      }
    }
  }
  const garbage = new Set(all.map(([d]) => d).filter((d) => !kept.has(d)))
  // order: d after every garbage manifest that points at it
  const pointers = new Map<string, string[]>()
  for (const d of garbage) for (const t of [...graph.get(d)!.children, ...(graph.get(d)!.subject ? [graph.get(d)!.subject!] : [])]) {
    if (garbage.has(t)) pointers.set(t, [...(pointers.get(t) ?? []), d])
  }
  const out: string[] = []
  const done = new Set<string>()
  const visit = (d: string) => {
    if (done.has(d)) return
    done.add(d)
    for (const p of pointers.get(d) ?? []) visit(p)
    out.push(d)
  }
  for (const d of [...garbage].sort()) visit(d)
  return out.map((d) => ({repository: listing.repository, digest: d, mediaType: listing.manifests[d].mediaType, timeUploadedMs: listing.manifests[d].timeUploadedMs}))
}

/** parseDuration: `90s`, `15m`, `12h`, `30d`, `2w`, or combinations like `1d12h`, in ms. */
export function parseDuration(s: string): number {
  const units: Record<string, number> = {ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000}
  const parts = [...s.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/g)]
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== s) throw new Error(`invalid duration "${s}" (use e.g. 30d, 12h, 1d12h)`)
  return parts.reduce((a, p) => a + Number(p[1]) * units[p[2]], 0)
}
