// Issue 12, "done means": a hostile registry on loopback. Each iteration starts a server that
// serves a small valid image but, with a seeded probability per request, answers instead with a
// random status, random `Location`, `Link`, `WWW-Authenticate`, `Content-Length`,
// `Docker-Content-Digest` and `Content-Type` headers, and a body that is empty, garbage,
// truncated (shorter than its length), endless or oversized. It drives the built CLI's
// manifest, digest, ls, pull, copy and blob. Every run must end within its bound with an exit
// code of the documented set (0, 2, 3, 4, 5, 6), one line on stderr when it fails, no stack
// trace, and no output file under its final name unless it succeeded.
// OCITOOL_HOSTILE_ITERATIONS raises the number of runs per command (default 5: ~30 runs in
// well under a minute); OCITOOL_HOSTILE_SEED picks another seed. A failure prints the seed and
// iteration to replay it alone.
import assert from 'node:assert/strict'
import * as fs from 'node:fs'
import type * as http from 'node:http'
import * as path from 'node:path'
import {after, before, describe, it} from 'node:test'

import {runCli} from '../support/cli.js'
import {type BuiltImage, buildImage, sha256} from '../support/fixtures.js'
import {type HostileServer, startHostileServer} from '../support/hostile-server.js'
import {freePort} from '../support/registry.js'
import {type TmpDir, tmpDir} from '../support/tmp.js'
import {mulberry32 as prng} from '../support/prng.js'

const iterations = Number(process.env.OCITOOL_HOSTILE_ITERATIONS ?? 5)
const seed = Number(process.env.OCITOOL_HOSTILE_SEED ?? 20261204)
const only = process.env.OCITOOL_HOSTILE_ONLY // `command:iteration`, to replay one run
/** every run ends within this (the CLI is killed past it: exit 124, a failure) */
const boundMs = 20_000
const documented = new Set([0, 2, 3, 4, 5, 6])

class Gen {
  constructor(readonly rnd: () => number) {}
  int(n: number): number {
    return Math.floor(this.rnd() * n)
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]
  }
  chance(p: number): boolean {
    return this.rnd() < p
  }
  hex(n: number): string {
    let s = ''
    for (let i = 0; i < n; i++) s += '0123456789abcdef'[this.int(16)]
    return s
  }
}

type BodyKind = 'empty' | 'garbage' | 'json' | 'envelope' | 'html' | 'truncated' | 'endless' | 'oversized' | 'valid'

/** what the hostile server serves when it behaves: one image under r:t, its blobs, a tag list */
interface Content {
  image: BuiltImage
}

/**
 * hostileRegistry answers like a registry holding `content`, except that each request is, with
 * probability `hostility`, answered by `hostile()`. Uploads (for copy) are accepted and dropped.
 */
function hostileRegistry(g: Gen, content: Content, hostility: number, self: () => string, closedPort: number) {
  const {image} = content
  const blobs = image.blobs
  const locations = () => [
    'file:///etc/passwd', 'ftp://127.0.0.1/x', 'data:,x', 'http://[bad', '', 'again', '/v2/', `http://127.0.0.1:${closedPort}/x`,
    `${self()}/v2/r/blobs/${image.layerDigests[0]}`, `${self()}/loop`, `https://${self().slice(7)}/tls-on-plain`, `/${'x'.repeat(9000)}`,
  ]
  const links = () => [
    '<file:///etc/passwd>; rel="next"', '</v2/r/tags/list?last=zz>; rel="next"', '<http://[bad>; rel="next"', '<>; rel="next"',
    `<http://127.0.0.1:${closedPort}/v2/r/tags/list>; rel=next`, `<?n=1&last=${g.hex(6)}>; rel="next"`, 'garbage', '<ftp://x/>; rel="next"',
  ]
  const challenges = () => [
    'Bearer realm="file:///token"', `Bearer realm="${self()}/token",service="hostile"`, 'Bearer realm="http://[bad"', 'Bearer', 'Basic realm="x"',
    `Bearer realm="https://${self().slice(7)}/token"`, 'Negotiate abc', `Bearer realm="${'a'.repeat(9000)}"`, `Bearer realm="http://127.0.0.1:${closedPort}/t"`,
    `Bearer realm="${self()}/token",scope="repository:r:pull"`,
  ]
  const statuses = [200, 200, 201, 202, 204, 206, 301, 302, 303, 307, 308, 400, 401, 401, 403, 404, 405, 416, 429, 500, 502, 503]
  const lengths = ['0', '-1', 'abc', '99999999999', '5', '1e3', '7, 8']
  const digests = () => [`sha256:${g.hex(64)}`, 'sha256:zz', 'md5:abc', `sha512:${g.hex(128)}`, '', image.manifestDigest]
  const types = ['application/vnd.oci.image.manifest.v1+json', 'application/vnd.oci.image.index.v1+json', 'text/html', 'application/json', 'application/octet-stream']
  const kinds: BodyKind[] = ['empty', 'garbage', 'json', 'envelope', 'html', 'truncated', 'endless', 'oversized', 'valid']

  /** the answer a registry would give */
  const honest = (req: http.IncomingMessage): {status: number; headers: Record<string, string>; body: Buffer} => {
    const u = new URL(req.url ?? '/', 'http://x')
    const p = u.pathname
    const head = {'docker-distribution-api-version': 'registry/2.0'}
    if (p === '/v2/') return {status: 200, headers: {...head, 'content-type': 'application/json'}, body: Buffer.from('{}')}
    if (p === '/token') return {status: 200, headers: {'content-type': 'application/json'}, body: Buffer.from(JSON.stringify({token: 'hostile-token', expires_in: 300}))}
    let m = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(p)
    if (m) {
      if (req.method === 'PUT') return {status: 201, headers: {...head, 'docker-content-digest': sha256(Buffer.alloc(0))}, body: Buffer.alloc(0)}
      if (m[2] === 't' || m[2] === image.manifestDigest) {
        return {status: 200, headers: {...head, 'content-type': image.mediaType, 'docker-content-digest': image.manifestDigest}, body: image.manifestBytes}
      }
      return {status: 404, headers: {...head, 'content-type': 'application/json'}, body: Buffer.from('{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}')}
    }
    m = /^\/v2\/(.+)\/blobs\/(sha256:[a-f0-9]{64})$/.exec(p)
    if (m) {
      const bytes = m[1] === 'r' ? blobs.get(m[2]) : undefined
      if (!bytes) return {status: 404, headers: {...head, 'content-type': 'application/json'}, body: Buffer.from('{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown"}]}')}
      return {status: 200, headers: {...head, 'content-type': 'application/octet-stream', 'docker-content-digest': m[2]}, body: bytes}
    }
    if (/\/blobs\/uploads\/?$/.test(p) && req.method === 'POST') {
      return {status: 202, headers: {...head, location: `${p.replace(/\/$/, '')}/${g.hex(8)}`}, body: Buffer.alloc(0)}
    }
    if (/\/blobs\/uploads\//.test(p)) {
      if (req.method === 'PUT') return {status: 201, headers: {...head, 'docker-content-digest': u.searchParams.get('digest') ?? ''}, body: Buffer.alloc(0)}
      return {status: 202, headers: {...head, location: p, range: '0-0'}, body: Buffer.alloc(0)}
    }
    if (/\/tags\/list$/.test(p)) return {status: 200, headers: {...head, 'content-type': 'application/json'}, body: Buffer.from(JSON.stringify({name: 'r', tags: ['t', 'u']}))}
    return {status: 404, headers: head, body: Buffer.alloc(0)}
  }

  const hostile = (base: ReturnType<typeof honest>): {status: number; headers: Record<string, string>; kind: BodyKind; body: Buffer} => {
    // either a wholly random answer, or the honest one with some of its parts spoilt
    const status = g.chance(0.5) ? g.pick(statuses) : base.status
    const headers: Record<string, string> = g.chance(0.5) ? {...base.headers} : {}
    if (g.chance(0.4)) headers.location = g.pick(locations())
    if (g.chance(0.3)) headers.link = g.pick(links())
    if (g.chance(0.3)) headers['www-authenticate'] = g.pick(challenges())
    if (g.chance(0.3)) headers['content-length'] = g.pick(lengths)
    if (g.chance(0.3)) headers['docker-content-digest'] = g.pick(digests())
    if (g.chance(0.3)) headers['content-type'] = g.pick(types)
    if (g.chance(0.3)) headers['docker-distribution-api-version'] = 'registry/2.0'
    const kind = g.pick(kinds)
    return {status, headers, kind, body: base.body}
  }

  return (req: http.IncomingMessage, res: http.ServerResponse) => {
    const base = honest(req)
    const socket = req.socket
    if (!g.chance(hostility)) {
      res.writeHead(base.status, {...base.headers, 'content-length': String(base.body.length)})
      res.end(req.method === 'HEAD' ? undefined : base.body)
      return
    }
    const h = hostile(base)
    // written by hand: node's server would not send a wrong Content-Length or an endless body
    const body = bodyOf(g, h.kind, base.body)
    const lines = [`HTTP/1.1 ${h.status} X`, 'connection: close']
    for (const [k, v] of Object.entries(h.headers)) if (k !== 'content-length' || h.kind === 'truncated' || h.kind === 'oversized' || g.chance(0.5)) lines.push(`${k}: ${v}`)
    if (!('content-length' in h.headers) || h.kind === 'truncated') {
      // truncated: say more than is sent; endless: no length at all
      if (h.kind === 'truncated') lines.push(`content-length: ${body.length + 1 + g.int(100_000)}`)
      else if (h.kind !== 'endless') lines.push(`content-length: ${body.length}`)
    }
    socket.write(`${lines.join('\r\n')}\r\n\r\n`)
    if (req.method === 'HEAD') {
      socket.end()
      return
    }
    if (h.kind === 'endless') {
      const chunk = Buffer.alloc(64 * 1024, 0x61)
      let sent = 0
      const pump = () => {
        // endless for every reader with a bound (a manifest's 4 MiB, a list's 16 MiB, a blob's
        // known size); 64 MiB here so that `blob` of a digest whose size nobody told, which
        // streams to stdout until the body ends (as cat and crane do), still ends in its bound
        while (!socket.destroyed && sent < 64 * 1024 * 1024) {
          sent += chunk.length
          if (!socket.write(chunk)) return void socket.once('drain', pump)
        }
        socket.destroy()
      }
      socket.on('error', () => {})
      pump()
      return
    }
    socket.end(body)
  }
}

function bodyOf(g: Gen, kind: BodyKind, honest: Buffer): Buffer {
  switch (kind) {
    case 'empty': return Buffer.alloc(0)
    case 'garbage': return Buffer.from(Array.from({length: 1 + g.int(300)}, () => g.int(256)))
    case 'json': return Buffer.from(g.pick(['null', '[]', '{}', '{"tags":5}', '{"schemaVersion":2}', '{"errors":5}', '"x"', '{"token":""}', '{"manifests":[{}]}']))
    case 'envelope': return Buffer.from(JSON.stringify({errors: [{code: g.pick(['DENIED', 'UNAUTHORIZED', 'NAME_UNKNOWN', 'DIGEST_INVALID', 'TOOMANYREQUESTS', 'X']), message: 'hostile'}]}))
    case 'html': return Buffer.from('<html><body>login</body></html>')
    case 'truncated': return honest.subarray(0, g.int(honest.length + 1))
    case 'oversized': return Buffer.concat([honest, Buffer.alloc(5 * 1024 * 1024 + g.int(1024), 0x20)])
    default: return honest
  }
}

interface Case {
  name: string
  args: (host: string, out: string) => string[]
  /** the path that must not exist unless the run succeeded */
  output?: (out: string) => string
}

const cases: Case[] = [
  {name: 'manifest', args: (h) => ['manifest', `${h}/r:t`]},
  {name: 'digest', args: (h) => ['digest', `${h}/r:t`]},
  {name: 'ls', args: (h) => ['ls', `${h}/r`]},
  {name: 'pull', args: (h, out) => ['pull', `${h}/r:t`, path.join(out, 'image.tar'), '--progress', 'none'], output: (out) => path.join(out, 'image.tar')},
  {name: 'copy', args: (h) => ['copy', `${h}/r:t`, `${h}/dst:t`, '--progress', 'none']},
  {name: 'blob', args: (h) => ['blob', `${h}/r@BLOB`]},
]

describe('hostile registry fuzz (issue 12)', () => {
  let work: TmpDir
  let image: BuiltImage
  before(async () => {
    work = await tmpDir('hostile-fuzz')
    image = await buildImage({layers: 2, seed: 'hostile', mediaTypes: 'oci'})
  })
  after(() => work?.remove())

  it(`${iterations} seeded runs of each of ${cases.map((c) => c.name).join(', ')} end within ${boundMs / 1000} s in a documented exit code, one line, no stack, no partial output`, async () => {
    const runs: Array<{c: Case; i: number}> = []
    for (let i = 0; i < iterations; i++) for (const c of cases) if (!only || only === `${c.name}:${i}`) runs.push({c, i})
    const failures: string[] = []
    const one = async ({c, i}: {c: Case; i: number}) => {
      const g = new Gen(prng(seed * 31 + i * 7 + cases.indexOf(c)))
      const hostility = g.pick([0.1, 0.25, 0.5, 0.9])
      const closedPort = await freePort()
      let server: HostileServer | undefined
      const handler = hostileRegistry(g, {image}, hostility, () => server?.url ?? '', closedPort)
      server = await startHostileServer((req, res) => handler(req, res))
      const out = path.join(work.path, `${c.name}-${i}`)
      fs.mkdirSync(out, {recursive: true})
      const blob = g.pick([...image.blobs.keys()])
      const args = c.args(server.host, out).map((a) => a.replace('BLOB', blob))
      const started = Date.now()
      try {
        const r = await runCli(args, {env: {OCITOOL_RETRIES: '1', OCITOOL_RETRY_BASE_MS: '5'}, timeoutMs: boundMs})
        const where = `${c.name}:${i} (OCITOOL_HOSTILE_SEED=${seed} OCITOOL_HOSTILE_ONLY=${c.name}:${i}, hostility ${hostility}, ${server.seen.length} requests)`
        const lines = r.stderr.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('Warning: '))
        const problems: string[] = []
        if (r.code === 124) problems.push(`not finished within ${boundMs / 1000} s`)
        else if (!documented.has(r.code)) problems.push(`exit ${r.code}`)
        if (/^\s+at |TypeError|ReferenceError|Unhandled|uncaught/im.test(r.stderr)) problems.push('a stack trace or crash')
        if (r.code !== 0 && r.code !== 124 && (lines.length !== 1 || !lines[0].startsWith('Error: '))) problems.push(`${lines.length} lines on stderr`)
        if (r.code !== 0 && c.output && fs.existsSync(c.output(out))) problems.push(`${path.basename(c.output(out))} left behind`)
        if (process.env.OCITOOL_HOSTILE_VERBOSE) console.log(`${c.name}:${i} exit ${r.code} in ${Date.now() - started} ms, ${server.seen.length} requests: ${lines[0] ?? ''}`)
        if (problems.length > 0) failures.push(`${where}: ${problems.join(', ')}\n  stderr: ${r.stderr.slice(0, 600).replaceAll('\n', '\n  ')}`)
      } finally {
        await server.close()
      }
    }
    // two at a time: the machine is shared
    for (let k = 0; k < runs.length; k += 2) await Promise.all(runs.slice(k, k + 2).map(one))
    assert.deepEqual(failures, [], failures.join('\n'))
  })
})
