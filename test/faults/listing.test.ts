// Listings against a registry whose `Link: rel="next"` never ends (issue 12, item 4): `ls` and
// `catalog` print names as pages arrive (nothing is collected), stop after --max-pages (default
// 1000) with one line and exit 5, and refuse a next link that repeats. A small hostile server on
// loopback plays the registry.
import assert from 'node:assert/strict'
import * as http from 'node:http'
import type {AddressInfo} from 'node:net'
import {after, before, describe, it} from 'node:test'

import {runCli} from '../support/cli.js'

interface Hostile {
  host: string
  pages(): number
  stop(): Promise<void>
}

/**
 * startHostile answers `/v2/` as a registry and every listing page with `perPage` names and a
 * next link that is new each time (`?last=` counts up), or, for repository `loop`, goes back
 * to page 2 after page 3. Page `stallAt` (repository `stall`) is never answered.
 */
async function startHostile(perPage: number, stallAt = 6): Promise<Hostile> {
  let served = 0
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x')
    if (url.pathname === '/v2/') {
      res.writeHead(200, {'docker-distribution-api-version': 'registry/2.0', 'content-type': 'application/json'})
      res.end('{}')
      return
    }
    const page = Number(url.searchParams.get('last') ?? '0')
    const m = /^\/v2\/(.+)\/tags\/list$/.exec(url.pathname)
    const repo = m?.[1] ?? ''
    if (!m && url.pathname !== '/v2/_catalog') {
      res.writeHead(404).end()
      return
    }
    if (repo === 'stall' && page === stallAt) return // never answered
    served++
    const names = Array.from({length: perPage}, (_, i) => `p${page}-n${i}`)
    const next = repo === 'loop' && page === 3 ? 2 : page + 1
    const link = `<${url.pathname}?n=1000&last=${next}>; rel="next"`
    res.writeHead(200, {'content-type': 'application/json', link})
    res.end(JSON.stringify(m ? {name: repo, tags: names} : {repositories: names}))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  return {
    host: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    pages: () => served,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

function assertOneLine(stderr: string, pattern: RegExp): void {
  const lines = stderr.split('\n').filter((l) => l !== '')
  assert.equal(lines.length, 1, `expected one line, got:\n${stderr}`)
  assert.match(lines[0], /^Error: /)
  assert.doesNotMatch(stderr, /\n\s+at /)
  assert.match(lines[0], pattern)
}

describe('faults: listings that never end', () => {
  let wide: Hostile
  let narrow: Hostile
  before(async () => {
    ;[wide, narrow] = await Promise.all([startHostile(200), startHostile(1)])
  })
  after(async () => {
    await wide?.stop()
    await narrow?.stop()
  })

  it('ls --max-pages 30 prints the 30 pages, then stops in one line with exit 5', async () => {
    const r = await runCli(['ls', `${wide.host}/app`, '--max-pages', '30'], {timeoutMs: 30_000})
    assert.equal(r.code, 5, r.stderr)
    assertOneLine(r.stderr, /tags of 127\.0\.0\.1:\d+\/app: .*after 30 pages.*--max-pages/)
    const lines = r.stdout.split('\n').filter((l) => l !== '')
    assert.equal(lines.length, 30 * 200)
    assert.equal(lines[0], 'p0-n0')
    assert.equal(lines.at(-1), 'p29-n199')
  })

  it('ls without --max-pages stops after 1000 pages instead of running forever', async () => {
    const before = narrow.pages()
    const r = await runCli(['ls', `${narrow.host}/app`], {timeoutMs: 45_000})
    assert.equal(r.code, 5, r.stderr)
    assertOneLine(r.stderr, /after 1000 pages/)
    assert.equal(narrow.pages() - before, 1000)
    assert.equal(r.stdout.split('\n').filter((l) => l !== '').length, 1000)
  })

  it('ls prints the tags of each page as it arrives (a listing stalled on page 6 has shown pages 0-5)', async () => {
    const r = await runCli(['ls', `${wide.host}/stall`], {timeoutMs: 4000})
    assert.equal(r.code, 124, 'killed while waiting for page 6')
    const lines = r.stdout.split('\n').filter((l) => l !== '')
    assert.equal(lines.length, 6 * 200)
    assert.equal(lines.at(-1), 'p5-n199')
  })

  it('catalog --max-pages 10 stops in one line with exit 5; --json too', async () => {
    const r = await runCli(['catalog', wide.host, '--max-pages', '10'], {timeoutMs: 30_000})
    assert.equal(r.code, 5, r.stderr)
    assertOneLine(r.stderr, /catalog of 127\.0\.0\.1:\d+: .*after 10 pages/)
    assert.equal(r.stdout.split('\n').filter((l) => l !== '').length, 10 * 200)
    const j = await runCli(['catalog', wide.host, '--max-pages', '3', '--json'], {timeoutMs: 30_000})
    assert.equal(j.code, 5, j.stderr)
  })

  it('a next link that repeats is refused at once', async () => {
    const before = wide.pages()
    const r = await runCli(['ls', `${wide.host}/loop`], {timeoutMs: 30_000})
    assert.equal(r.code, 5, r.stderr)
    assertOneLine(r.stderr, /pages loop/)
    assert.equal(wide.pages() - before, 4, 'pages 0, 1, 2 and 3')
  })
})
