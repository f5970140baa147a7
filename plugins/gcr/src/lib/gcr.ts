/**
 * gcr: GCR's extension of `GET /v2/NAME/tags/list`. Besides `name` and `tags`, GCR (and Artifact
 * Registry's gcr.io domains) answer
 *
 *   "child":    ["sub", ...]               repositories directly below NAME (relative names)
 *   "manifest": {"sha256:…": {             every manifest in NAME, tagged or not
 *       "tag": ["v1"], "mediaType": "…", "imageSizeBytes": "1234",
 *       "timeCreatedMs": "1700000000000", "timeUploadedMs": "1700000000000", "layerId": ""}}
 *
 * with the int64 fields as decimal strings (as go-containerregistry's google.Tags reads them).
 * Requests go through the core's transport, so credentials and TLS settings are ocitool's.
 */
import {name as names, type Session} from 'ocitool'

export interface ManifestInfo {
  tag: string[]
  mediaType: string
  imageSizeBytes: number
  timeCreatedMs: number
  timeUploadedMs: number
}

export interface GcrListing {
  /** `registry/repository` */
  repository: string
  tags: string[]
  manifests: Record<string, ManifestInfo>
  /** full names of the child repositories */
  children: string[]
}

async function readJson(body: NodeJS.ReadableStream): Promise<unknown> {
  const chunks: Buffer[] = []
  for await (const c of body) chunks.push(c as Buffer)
  return JSON.parse(Buffer.concat(chunks).toString('utf8'))
}

const num = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? Number(v) || 0 : 0)

/** list: one repository's GCR listing. */
export async function list(session: Session, repository: string): Promise<GcrListing> {
  const repo = names.parseRepository(repository)
  const res = await session.transport(repo.registry, repo.apiHost).request({
    method: 'GET',
    path: `/v2/${repo.repository}/tags/list`,
    scopes: [`repository:${repo.repository}:pull`],
    expect: [200],
    context: {subject: repo.name, what: 'tags of'},
  })
  const doc = (await readJson(res.body)) as {tags?: string[]; manifest?: Record<string, Record<string, unknown>>; child?: string[]}
  if (typeof doc !== 'object' || doc === null) throw new Error(`tags of ${repo.name}: not a JSON object`)
  const manifests: Record<string, ManifestInfo> = {}
  for (const [digest, m] of Object.entries(doc.manifest ?? {})) {
    manifests[digest] = {
      tag: Array.isArray(m.tag) ? (m.tag as string[]) : [],
      mediaType: typeof m.mediaType === 'string' ? m.mediaType : '',
      imageSizeBytes: num(m.imageSizeBytes),
      timeCreatedMs: num(m.timeCreatedMs),
      timeUploadedMs: num(m.timeUploadedMs),
    }
  }
  return {repository: repo.name, tags: doc.tags ?? [], manifests, children: (doc.child ?? []).map((c) => `${repo.name}/${c}`)}
}

/** walk: the listing of repository and, when recursive, of every repository below it (parents first). */
export async function walk(session: Session, repository: string, recursive: boolean): Promise<GcrListing[]> {
  const out: GcrListing[] = []
  const visit = async (r: string) => {
    const l = await list(session, r)
    out.push(l)
    if (recursive) for (const c of [...l.children].sort()) await visit(c)
  }
  await visit(repository)
  return out
}
