// Per-request and per-byte CPU of the HTTP layer (src/lib/remote/transport/http.ts, on node:http)
// against undici (the Node.js project's own client), on loopback, the server in another process
// so that only the client's CPU is counted. undici is not a dependency: the undici rows appear
// when it can be imported (`npm install --no-save undici@6`), else a note says so.
// Measured under contention (issue 14), undici 6.29.1 against HttpClient: per small GET 82-479 µs
// against 205-444 (warm undici wins, cold it does not), per MiB of body 1.5-4.0 ms against
// 1.4-4.2; but loading undici alone costs ~150 ms CPU (require, no compile cache), more than
// it saves on the ~100 requests of a typical run, against a 150 ms startup target: node:http stays.
import {fork} from 'node:child_process'
import {fileURLToPath} from 'node:url'
import {HttpClient} from '../src/lib/remote/transport/http.js'
import {table} from './lib.js'

const N = Number(process.env.BENCH_REQUESTS ?? 3000)
const BIG = 24
const CONCURRENCY = 8

if (process.argv[2] === 'serve') {
  const http = await import('node:http')
  const small = Buffer.from(JSON.stringify({schemaVersion: 2, layers: Array.from({length: 5}, (_, i) => ({digest: `sha256:${String(i).repeat(64)}`, size: 1234}))}))
  const big = Buffer.alloc(8 << 20, 7)
  const s = http.createServer((req, res) => {
    const body = req.url === '/big' ? big : small
    res.writeHead(200, {'content-length': body.length, 'docker-content-digest': `sha256:${'a'.repeat(64)}`})
    res.end(body)
  })
  s.keepAliveTimeout = 60_000
  s.listen(0, '127.0.0.1', () => process.send!((s.address() as {port: number}).port))
} else {
  const server = fork(fileURLToPath(import.meta.url), ['serve'], {execArgv: ['--import', 'tsx']})
  const port = await new Promise<number>((resolve) => server.once('message', (m) => resolve(Number(m))))
  const base = `http://127.0.0.1:${port}`
  const cpu = () => {
    const u = process.cpuUsage()
    return (u.user + u.system) / 1e6
  }
  const drain = async (s: AsyncIterable<unknown>) => {
    for await (const _ of s);
  }
  const par = async (n: number, fn: () => Promise<void>) => {
    let i = 0
    await Promise.all(Array.from({length: CONCURRENCY}, async () => {
      while (i < n) {
        i++
        await fn()
      }
    }))
  }
  const measure = async (get: (path: string) => Promise<void>) => {
    await par(200, () => get('/small'))
    let c0 = cpu()
    await par(N, () => get('/small'))
    const perRequest = ((cpu() - c0) / N) * 1e6
    c0 = cpu()
    await par(BIG, () => get('/big'))
    return {perRequest, perMiB: ((cpu() - c0) / (BIG * 8)) * 1000}
  }
  const rows: Array<Record<string, string>> = []
  try {
    for (let round = 0; round < 3; round++) {
      const c = new HttpClient({})
      const ours = await measure(async (path) => drain((await c.send({method: 'GET', url: base + path})).body))
      c.close()
      rows.push({client: `HttpClient (node:http), round ${round + 1}`, 'µs CPU per small GET': ours.perRequest.toFixed(0), 'ms CPU per MiB of body': ours.perMiB.toFixed(2)})
      let undici: {Pool: new (url: string, o: object) => {request: (o: object) => Promise<{body: AsyncIterable<unknown>}>; close: () => Promise<void>}} | undefined
      try {
        undici = (await import('undici' as string)) as typeof undici
      } catch {
        undici = undefined
      }
      if (!undici) continue
      const pool = new undici.Pool(base, {connections: 32})
      const theirs = await measure(async (path) => drain((await pool.request({method: 'GET', path})).body))
      await pool.close()
      rows.push({client: `undici Pool, round ${round + 1}`, 'µs CPU per small GET': theirs.perRequest.toFixed(0), 'ms CPU per MiB of body': theirs.perMiB.toFixed(2)})
    }
    console.log(`http client bench: ${N} small GETs and ${BIG} × 8 MiB bodies, ${CONCURRENCY} at a time, node ${process.version}\n`)
    console.log(table(rows))
    if (!rows.some((r) => r.client.startsWith('undici'))) console.log('\nundici: not installed (npm install --no-save undici@6 adds its rows)')
  } finally {
    server.kill()
  }
}
