// A raw HTTP client for the embedded registry's tests: one request, the whole answer, no
// retries, no redirects, nothing a real client would smooth over.

import * as crypto from 'node:crypto'
import * as http from 'node:http'
import type {Readable} from 'node:stream'
import {startServer, type RunningServer} from '../../../src/lib/serve/index.js'

export interface Reply {
  status: number
  headers: http.IncomingHttpHeaders
  body: Buffer
  /** The body as JSON (throws when it is not). */
  json(): any
}

export interface RequestOptions {
  method?: string
  headers?: Record<string, string | number>
  body?: string | Buffer | Readable
}

/** request sends one request to base + path (a path or an absolute URL) and reads the whole reply. */
export function request(base: string, path: string, opts: RequestOptions = {}): Promise<Reply> {
  const url = new URL(path, base)
  return new Promise((resolve, reject) => {
    const req = http.request(url, {method: opts.method ?? 'GET', headers: opts.headers, agent: false}, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('error', reject)
      res.on('end', () => {
        const body = Buffer.concat(chunks)
        resolve({status: res.statusCode ?? 0, headers: res.headers, body, json: () => JSON.parse(body.toString('utf8'))})
      })
    })
    req.on('error', reject)
    const b = opts.body
    if (b === undefined || typeof b === 'string' || Buffer.isBuffer(b)) req.end(b)
    else b.pipe(req)
  })
}

export const sha256 = (b: Buffer | string) => `sha256:${crypto.createHash('sha256').update(b).digest('hex')}`

/** errorCode returns the first code of a distribution error envelope. */
export function errorCode(r: Reply): string {
  const doc = r.json() as {errors: {code: string}[]}
  return doc.errors[0].code
}

/** pushBlob uploads bytes to repo monolithically (POST ?digest=) and returns its digest. */
export async function pushBlob(base: string, repo: string, bytes: Buffer | string): Promise<string> {
  const digest = sha256(bytes)
  const r = await request(base, `/v2/${repo}/blobs/uploads/?digest=${digest}`, {method: 'POST', body: bytes, headers: {'Content-Type': 'application/octet-stream'}})
  if (r.status !== 201) throw new Error(`pushBlob ${repo}: ${r.status} ${r.body.toString()}`)
  return digest
}

/** pushManifest PUTs a manifest document under reference and returns the reply. */
export function pushManifest(base: string, repo: string, reference: string, doc: object | Buffer, mediaType: string): Promise<Reply> {
  const body = Buffer.isBuffer(doc) ? doc : Buffer.from(JSON.stringify(doc))
  return request(base, `/v2/${repo}/manifests/${reference}`, {method: 'PUT', body, headers: {'Content-Type': mediaType}})
}

/** withServer starts a registry on 127.0.0.1:0 for the duration of fn. */
export async function withServer<T>(fn: (s: RunningServer) => Promise<T>, disk?: string): Promise<T> {
  const s = await startServer({address: '127.0.0.1:0', ...(disk === undefined ? {} : {disk})})
  try {
    return await fn(s)
  } finally {
    await s.close()
  }
}
