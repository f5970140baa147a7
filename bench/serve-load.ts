// Load on the embedded registry (issue 12): CLIENTS concurrent clients push random blobs into
// `ocitool registry serve` (monolithic, and chunked POST/PATCH/PUT) and read back their own
// and each other's, for SECONDS, while one hostile client holds IDLE silent sockets (opening
// a new one whenever the server closes one). Every blob read back must match its digest, the
// server's RSS (from /proc) must stay under MAX_RSS_MB, and every client must keep making
// progress. Not part of `npm test`: `npm run bench -- serve-load`.
//
// Env: SERVE_LOAD_SECONDS (20), SERVE_LOAD_CLIENTS (200), SERVE_LOAD_IDLE (500),
// SERVE_LOAD_MAX_CONNECTIONS (600, the server's --max-connections), SERVE_LOAD_MAX_BLOB
// (262144 bytes), SERVE_LOAD_MAX_RSS_MB (512).
import * as crypto from 'node:crypto'
import * as fs from 'node:fs'
import * as http from 'node:http'
import {setTimeout as sleep} from 'node:timers/promises'
import {hold, type HeldSocket, serveCli} from '../test/support/serve-cli.js'
import {tmpDir} from '../test/support/tmp.js'
import {table} from './lib.js'

const env = (name: string, dflt: number) => Number(process.env[`SERVE_LOAD_${name}`] ?? dflt)
const SECONDS = env('SECONDS', 20)
const CLIENTS = env('CLIENTS', 200)
const IDLE = env('IDLE', 500)
const MAX_CONNECTIONS = env('MAX_CONNECTIONS', 600)
const MAX_BLOB = env('MAX_BLOB', 262_144)
const MAX_RSS_MB = env('MAX_RSS_MB', 512)

const sha256 = (b: Buffer) => `sha256:${crypto.createHash('sha256').update(b).digest('hex')}`

interface Reply {
  status: number
  headers: http.IncomingHttpHeaders
  body: Buffer
}

/** Tally is what every client adds to. */
const tally = {pushes: 0, chunked: 0, pulls: 0, crossPulls: 0, bytesUp: 0, bytesDown: 0, mismatches: 0, retries: 0, failures: 0, latencies: [] as number[]}
const failures: string[] = []
const pushed: string[] = [] // digests any client may read back (all in repo load/shared)

function request(agent: http.Agent, base: string, path: string, method: string, body?: Buffer, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(new URL(path, base), {method, agent, headers: body === undefined ? headers : {...headers, 'Content-Length': String(body.length)}}, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('error', reject)
      res.on('end', () => resolve({status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks)}))
    })
    req.setTimeout(30_000, () => req.destroy(new Error('no answer in 30 s')))
    req.on('error', reject)
    req.end(body)
  })
}

/** StatusError is a wrong answer (never retried), as against a dropped connection. */
class StatusError extends Error {}

/** retrying runs an idempotent step again when the connection drops (a kept-alive socket the server closed meanwhile). */
async function retrying<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn()
    } catch (e) {
      if (e instanceof StatusError || attempt >= 3) throw e
      tally.retries++
    }
  }
}

async function expect(what: string, fn: () => Promise<Reply>, status: number): Promise<Reply> {
  const r = await retrying(fn)
  if (r.status !== status) throw new StatusError(`${what}: ${r.status} ${r.body.toString().slice(0, 200)}`)
  return r
}

async function push(agent: http.Agent, base: string, repo: string, blob: Buffer, chunked: boolean): Promise<string> {
  const digest = sha256(blob)
  if (!chunked) {
    await expect('monolithic push', () => request(agent, base, `/v2/${repo}/blobs/uploads/?digest=${digest}`, 'POST', blob), 201)
    return digest
  }
  // a dropped PATCH may or may not have landed: a retry starts a fresh session
  await retrying(async () => {
    const open = await request(agent, base, `/v2/${repo}/blobs/uploads/`, 'POST')
    if (open.status !== 202) throw new StatusError(`open upload: ${open.status}`)
    const half = Math.floor(blob.length / 2)
    const patch = await request(agent, base, open.headers.location!, 'PATCH', blob.subarray(0, half), {'Content-Range': `0-${Math.max(half - 1, 0)}`})
    if (patch.status !== 202) throw new StatusError(`patch: ${patch.status}`)
    const loc = patch.headers.location!
    const sep = loc.includes('?') ? '&' : '?'
    const put = await request(agent, base, `${loc}${sep}digest=${digest}`, 'PUT', blob.subarray(half), {'Content-Range': `${half}-${blob.length - 1}`})
    if (put.status !== 201) throw new StatusError(`put: ${put.status} ${put.body.toString().slice(0, 200)}`)
  })
  tally.chunked++
  return digest
}

async function pull(agent: http.Agent, base: string, repo: string, digest: string): Promise<void> {
  const r = await expect(`pull ${digest}`, () => request(agent, base, `/v2/${repo}/blobs/${digest}`, 'GET'), 200)
  tally.bytesDown += r.body.length
  if (sha256(r.body) !== digest) {
    tally.mismatches++
    failures.push(`blob ${digest} read back as ${sha256(r.body)}`)
  }
}

async function client(i: number, base: string, until: number): Promise<number> {
  const agent = new http.Agent({keepAlive: true, maxSockets: 1})
  const rng = crypto.createHash('sha256').update(`client-${i}`).digest().readUInt32BE(0)
  let ops = 0
  try {
    for (let n = 0; Date.now() < until; n++) {
      const started = Date.now()
      try {
        const blob = crypto.randomBytes(2 + ((rng + n * 7919) % (MAX_BLOB - 1)))
        const chunked = (i + n) % 4 === 0
        const repo = (i + n) % 3 === 0 ? 'load/shared' : `load/c${i}`
        const digest = await push(agent, base, repo, blob, chunked)
        tally.pushes++
        tally.bytesUp += blob.length
        await pull(agent, base, repo, digest)
        tally.pulls++
        if (repo === 'load/shared') pushed.push(digest)
        if (pushed.length > 0 && n % 2 === 1) {
          await pull(agent, base, 'load/shared', pushed[(rng + n) % pushed.length])
          tally.crossPulls++
        }
        ops++
        tally.latencies.push(Date.now() - started)
      } catch (e) {
        tally.failures++
        if (failures.length < 10) failures.push(`client ${i}: ${(e as Error).message}`)
      }
    }
  } finally {
    agent.destroy()
  }
  return ops
}

/** hoard keeps `count` silent sockets open until `until`, opening a new one for each the server closes. */
async function hoard(port: number, count: number, until: number): Promise<{opened: number; closedByServer: number; openNow: () => number}> {
  const live = new Set<HeldSocket>()
  const stats = {opened: 0, closedByServer: 0, openNow: () => live.size}
  let stopped = false
  const open = async (): Promise<void> => {
    if (stopped || Date.now() >= until) return
    try {
      const h = await hold(port)
      stats.opened++
      live.add(h)
      void h.closed.then(async () => {
        live.delete(h)
        if (stopped) return
        stats.closedByServer++
        await sleep(20) // a hostile client, but not a busy loop on a shared machine
        await open()
      })
    } catch {
      await sleep(50)
      await open()
    }
  }
  for (let i = 0; i < count; i++) await open()
  setTimeout(() => {
    stopped = true
    for (const h of live) h.socket.destroy()
  }, Math.max(until - Date.now(), 0)).unref()
  return stats
}

function rssKiB(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m === null ? 0 : Number(m[1])
}

const disk = await tmpDir('serve-load')
const server = await serveCli(['--quiet', '--disk', `${disk.path}/store`, '--max-connections', String(MAX_CONNECTIONS)])
const pid = server.child.pid!
try {
  const rssStart = rssKiB(pid, 'VmRSS')
  let rssPeak = rssStart
  const until = Date.now() + SECONDS * 1000
  const hoarder = await hoard(server.port, IDLE, until)
  const heldAtStart = hoarder.openNow()
  const held: number[] = []
  const sampler = setInterval(() => {
    rssPeak = Math.max(rssPeak, rssKiB(pid, 'VmRSS'))
    if (Date.now() < until) held.push(hoarder.openNow())
  }, 200)
  const ops = await Promise.all(Array.from({length: CLIENTS}, (_, i) => client(i, server.url, until)))
  clearInterval(sampler)
  const heldSorted = [...held].sort((a, b) => a - b)
  const rssEnd = rssKiB(pid, 'VmRSS')
  const hwm = rssKiB(pid, 'VmHWM')
  await sleep(100)
  const lat = [...tally.latencies].sort((a, b) => a - b)
  const pct = (p: number) => (lat.length === 0 ? 0 : lat[Math.min(lat.length - 1, Math.floor(p * lat.length))])
  const stalled = ops.filter((n) => n === 0).length
  const mb = (k: number) => (k / 1024).toFixed(0)
  const ok = tally.mismatches === 0 && tally.failures === 0 && stalled === 0 && hwm / 1024 < MAX_RSS_MB
  console.log(`serve-load: ${CLIENTS} clients for ${SECONDS} s, ${IDLE} idle sockets held by one client, --max-connections ${MAX_CONNECTIONS}, blobs 2 B..${MAX_BLOB} B\n`)
  console.log(table([
    {measure: 'blobs pushed (chunked)', value: `${tally.pushes} (${tally.chunked})`},
    {measure: 'blobs read back (own + others\')', value: `${tally.pulls + tally.crossPulls} (${tally.pulls} + ${tally.crossPulls})`},
    {measure: 'MiB up / down', value: `${(tally.bytesUp / 2 ** 20).toFixed(1)} / ${(tally.bytesDown / 2 ** 20).toFixed(1)}`},
    {measure: 'digest mismatches', value: tally.mismatches},
    {measure: 'failed rounds (after retries)', value: tally.failures},
    {measure: 'retried requests (dropped connections)', value: tally.retries},
    {measure: 'clients with no completed round', value: stalled},
    {measure: 'rounds per client min / median / max', value: `${Math.min(...ops)} / ${[...ops].sort((a, b) => a - b)[Math.floor(ops.length / 2)]} / ${Math.max(...ops)}`},
    {measure: 'round latency p50 / p99 / max ms', value: `${pct(0.5)} / ${pct(0.99)} / ${lat.at(-1) ?? 0}`},
    {measure: 'idle sockets held at start; during the run min / median', value: `${heldAtStart}; ${heldSorted[0] ?? 0} / ${heldSorted[Math.floor(heldSorted.length / 2)] ?? 0}`},
    {measure: 'idle sockets closed by the server', value: hoarder.closedByServer},
    {measure: 'server RSS MiB start / end / peak (VmHWM)', value: `${mb(rssStart)} / ${mb(rssEnd)} / ${mb(Math.max(hwm, rssPeak))}`},
    {measure: 'result', value: ok ? 'ok' : `FAILED (RSS bound ${MAX_RSS_MB} MiB)`},
  ]))
  if (failures.length > 0) console.log(`\nfirst failures:\n  ${failures.join('\n  ')}`)
  if (!ok) process.exitCode = 1
} finally {
  await server.stop()
  await disk.remove()
}
