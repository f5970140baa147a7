// A small stand-in for GCR in front of a real distribution registry: every request is passed
// through unchanged, except `GET /v2/NAME/tags/list`, whose answer gets GCR's extension fields
// (see plugins/gcr/src/lib/gcr.ts for the format, after GCR's documented responses):
//   child     the repositories directly below NAME, from the registry's /v2/_catalog;
//   manifest  every manifest revision the registry stores for NAME (read from its storage
//             directory, since the distribution API cannot list untagged manifests), with the
//             tags pointing at it, its mediaType, imageSizeBytes (config + layers),
//             timeCreatedMs (the image config's `created`) and timeUploadedMs (when the registry
//             stored the revision), int64s as strings.
// A NAME with children but no manifests answers 200 with empty tags, as GCR does.
// `denyDelete` answers DELETE with 403 DENIED, like a caller without delete permission.
import * as fs from 'node:fs'
import * as http from 'node:http'
import type {AddressInfo} from 'node:net'
import * as path from 'node:path'
import type {RunningRegistry} from '../../../../test/support/registry.js'

export interface FakeGcr {
  host: string
  denyDelete: boolean
  deletes: string[]
  stop(): Promise<void>
}

interface Upstream {
  status: number
  headers: http.IncomingHttpHeaders
  body: Buffer
}

function upstream(registry: RunningRegistry, method: string, p: string, headers: http.IncomingHttpHeaders, body?: Buffer): Promise<Upstream> {
  const u = new URL(registry.url)
  return new Promise((resolve, reject) => {
    const req = http.request({host: u.hostname, port: u.port, method, path: p, headers: {...headers, host: registry.host}}, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks)}))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(body)
  })
}

const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ')

export async function startFakeGcr(registry: RunningRegistry): Promise<FakeGcr> {
  const storage = path.join(registry.dir, 'data', 'docker', 'registry', 'v2', 'repositories')
  if (!fs.existsSync(path.dirname(storage))) throw new Error(`fake GCR: no registry storage under ${registry.dir}/data`)
  const state: FakeGcr = {host: '', denyDelete: false, deletes: [], stop: async () => {}}

  const extend = async (name: string, auth: http.IncomingHttpHeaders, tagsDoc: {tags?: string[] | null}) => {
    const cat = await upstream(registry, 'GET', '/v2/_catalog?n=1000', auth)
    const repos: string[] = cat.status === 200 ? (JSON.parse(cat.body.toString()).repositories ?? []) : []
    const child = [...new Set(repos.filter((r) => r.startsWith(`${name}/`)).map((r) => r.slice(name.length + 1).split('/')[0]))].sort()
    const tags = tagsDoc.tags ?? []
    const tagOf = new Map<string, string[]>()
    for (const t of tags) {
      const h = await upstream(registry, 'HEAD', `/v2/${name}/manifests/${t}`, {...auth, accept: MANIFEST_ACCEPT})
      const d = String(h.headers['docker-content-digest'] ?? '')
      if (d) tagOf.set(d, [...(tagOf.get(d) ?? []), t])
    }
    const manifest: Record<string, unknown> = {}
    const revisions = path.join(storage, name, '_manifests', 'revisions', 'sha256')
    for (const hex of fs.existsSync(revisions) ? fs.readdirSync(revisions) : []) {
      const link = path.join(revisions, hex, 'link')
      if (!fs.existsSync(link)) continue // deleted
      const digest = `sha256:${hex}`
      const m = await upstream(registry, 'GET', `/v2/${name}/manifests/${digest}`, {...auth, accept: MANIFEST_ACCEPT})
      if (m.status !== 200) continue
      const doc = JSON.parse(m.body.toString()) as {mediaType?: string; config?: {digest: string; size: number}; layers?: {size: number}[]}
      let size = 0
      let created = 0
      if (doc.config) {
        size = doc.config.size + (doc.layers ?? []).reduce((a, l) => a + l.size, 0)
        const c = await upstream(registry, 'GET', `/v2/${name}/blobs/${doc.config.digest}`, auth)
        if (c.status === 200) created = Date.parse(JSON.parse(c.body.toString()).created ?? '') || 0
      }
      manifest[digest] = {
        imageSizeBytes: String(size),
        layerId: '',
        mediaType: String(m.headers['content-type'] ?? doc.mediaType ?? ''),
        tag: tagOf.get(digest) ?? [],
        timeCreatedMs: String(created),
        timeUploadedMs: String(Math.floor(fs.statSync(link).mtimeMs)),
      }
    }
    return {child, manifest, name, tags}
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', async () => {
      try {
        const headers = {...req.headers}
        delete headers.host
        const auth: http.IncomingHttpHeaders = req.headers.authorization ? {authorization: req.headers.authorization} : {}
        if (req.method === 'DELETE') {
          state.deletes.push(req.url ?? '')
          if (state.denyDelete) {
            res.writeHead(403, {'content-type': 'application/json'})
            res.end(JSON.stringify({errors: [{code: 'DENIED', message: 'Permission "artifactregistry.repositories.deleteArtifacts" denied on resource'}]}))
            return
          }
        }
        const up = await upstream(registry, req.method ?? 'GET', req.url ?? '/', headers, chunks.length ? Buffer.concat(chunks) : undefined)
        const m = /^\/v2\/(.+)\/tags\/list(\?.*)?$/.exec(req.url ?? '')
        if (req.method === 'GET' && m && (up.status === 200 || up.status === 404)) {
          const name = m[1]
          const doc = up.status === 200 ? JSON.parse(up.body.toString()) : {}
          const ext = await extend(name, auth, doc)
          if (up.status === 404 && ext.child.length === 0) {
            res.writeHead(up.status, up.headers)
            res.end(up.body)
            return
          }
          res.writeHead(200, {'content-type': 'application/json'})
          res.end(JSON.stringify(ext))
          return
        }
        const h = {...up.headers}
        delete h['transfer-encoding']
        res.writeHead(up.status, h)
        res.end(up.body)
      } catch (e) {
        res.writeHead(502)
        res.end(String(e))
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  state.host = `127.0.0.1:${(server.address() as AddressInfo).port}`
  state.stop = () => new Promise<void>((resolve) => server.close(() => resolve()))
  return state
}
