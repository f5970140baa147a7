/**
 * refs: the referrers of an image (API or fallback tag, the same answer either way), and of
 * those referrers down to a depth, for `refs --format tree`.
 */
import type {Reference} from '../name/reference.js'
import {MediaType} from '../oci/media-types.js'
import type {Descriptor} from '../oci/types.js'
import {listReferrers} from '../referrers/index.js'
import {type RemoteOptions, withSession} from '../remote/session.js'

export interface RefsOptions extends RemoteOptions {
  artifactType?: string
  /** levels of referrers of referrers to list (1: the image's own) */
  depth?: number
}

export interface ReferrerNode {
  descriptor: Descriptor
  referrers: ReferrerNode[]
}

export interface RefsResult {
  subject: string
  /** the image's own referrers, each with its referrers down to depth */
  referrers: ReferrerNode[]
  /** true: the registry's referrers API answered; false: the fallback tag */
  api: boolean
  /** the artifactType filter, when asked, was applied by the registry (else by ocitool) */
  serverFiltered: boolean
}

/** refs lists the referrers of the manifest `ref` names. */
export function refs(ref: Reference, options: RefsOptions = {}): Promise<RefsResult> {
  return withSession(options, async (s) => {
    const repo = s.repository(ref)
    const subject = ref.digest ?? (await repo.getManifest(ref.identifier)).digest
    const depth = Math.max(1, options.depth ?? 1)
    const top = await listReferrers(repo, subject, options.artifactType)
    const walk = async (list: Descriptor[], level: number, seen: Set<string>): Promise<ReferrerNode[]> => {
      const out: ReferrerNode[] = []
      for (const d of list) {
        let children: ReferrerNode[] = []
        if (level < depth && !seen.has(d.digest)) {
          const next = await listReferrers(repo, d.digest)
          children = await walk(next.manifests, level + 1, new Set([...seen, d.digest]))
        }
        out.push({descriptor: d, referrers: children})
      }
      return out
    }
    return {subject, referrers: await walk(top.manifests, 1, new Set([subject])), api: top.api, serverFiltered: top.serverFiltered}
  })
}

/** asIndex renders the image's own referrers as an OCI index (`refs --format json`). */
export function asIndex(r: RefsResult): object {
  return {schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: r.referrers.map((n) => n.descriptor)}
}

/** table renders one line per referrer: digest, artifactType, size, annotations. */
export function table(r: RefsResult): string {
  const rows = [['DIGEST', 'ARTIFACT TYPE', 'SIZE', 'ANNOTATIONS']]
  for (const n of r.referrers) rows.push(row(n.descriptor))
  const widths = rows[0].map((_, i) => Math.max(...rows.map((x) => x[i].length)))
  return rows.map((x) => x.map((c, i) => (i === x.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd()).join('\n') + '\n'
}

/** tree renders the subject and its referrers, indented, down to the depth asked. */
export function tree(r: RefsResult): string {
  const lines = [r.subject]
  const draw = (nodes: ReferrerNode[], prefix: string) => {
    nodes.forEach((n, i) => {
      const last = i === nodes.length - 1
      lines.push(`${prefix}${last ? '└── ' : '├── '}${row(n.descriptor).filter(Boolean).join('  ')}`)
      draw(n.referrers, prefix + (last ? '    ' : '│   '))
    })
  }
  draw(r.referrers, '')
  return lines.join('\n') + '\n'
}

function row(d: Descriptor): string[] {
  const annotations = Object.entries(d.annotations ?? {}).map(([k, v]) => `${k}=${v}`).join(',')
  return [d.digest, d.artifactType ?? '-', String(d.size), annotations]
}
