// Issue 12, items 1 and 6: `ocitool registry serve` never deletes what it did not create
// (a --disk directory is a marked store, or new, or refused), and one client cannot hold it
// down (header, request and idle timeouts, a connection bound that evicts idle sockets,
// expiry of abandoned uploads). Each case runs the built CLI with short configured limits.

import assert from 'node:assert/strict'
import * as fs from 'node:fs'
import * as path from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'
import {after, describe, it} from 'node:test'
import {runCli} from '../support/cli.js'
import {sha256, writeImageDir} from '../support/fixtures.js'
import {hold, isOpen, serveCli, type HeldSocket} from '../support/serve-cli.js'
import {tmpDir, type TmpDir} from '../support/tmp.js'

const work: TmpDir[] = []
async function scratch(prefix: string): Promise<string> {
  const d = await tmpDir(prefix)
  work.push(d)
  return d.path
}
after(async () => {
  for (const d of work) await d.remove()
})

const MARKER = 'ocitool-registry.json'

async function pushBlob(url: string, repo: string, bytes: Buffer): Promise<string> {
  const digest = sha256(bytes)
  const r = await fetch(`${url}/v2/${repo}/blobs/uploads/?digest=${digest}`, {method: 'POST', body: bytes})
  assert.equal(r.status, 201, `push ${repo}: ${await r.text()}`)
  return digest
}

/** openUpload starts a session, sends one chunk, and returns its absolute URL. */
async function openUpload(url: string, repo: string, chunk: string): Promise<string> {
  const r = await fetch(`${url}/v2/${repo}/blobs/uploads/`, {method: 'POST'})
  assert.equal(r.status, 202)
  const loc = new URL(r.headers.get('location')!, url).toString()
  const p = await fetch(loc, {method: 'PATCH', body: chunk})
  assert.equal(p.status, 202, await p.text())
  return new URL(p.headers.get('location')!, url).toString()
}

const uploadFiles = (disk: string) => fs.readdirSync(path.join(disk, 'uploads')).filter((n) => n.startsWith('upload-')).sort()

describe('registry serve --disk: a store of its own, or refused (issue 12 item 1)', () => {
  it('refuses a non-empty directory that is not its store: exit 2, one line, nothing touched', {timeout: 45_000}, async () => {
    const base = await scratch('serve-refuse')
    const d = path.join(base, 'd')
    fs.mkdirSync(path.join(d, 'uploads'), {recursive: true})
    fs.writeFileSync(path.join(d, 'uploads', 'notes.txt'), 'important\n')
    const r = await runCli(['registry', 'serve', '--address', '127.0.0.1:0', '--disk', d], {timeoutMs: 20_000})
    assert.equal(r.code, 2, r.stderr)
    assert.equal(r.stdout, '')
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
    assert.match(r.stderr, /^Error: registry storage .*\bd is not empty and is not a registry store/)
    assert.equal(fs.readFileSync(path.join(d, 'uploads', 'notes.txt'), 'utf8'), 'important\n')
    assert.deepEqual(fs.readdirSync(d), ['uploads'], 'no blobs/, repositories/ or marker created')

    const file = path.join(base, 'plain.txt')
    fs.writeFileSync(file, 'x')
    const f = await runCli(['registry', 'serve', '--address', '127.0.0.1:0', '--disk', file], {timeoutMs: 20_000})
    assert.equal(f.code, 2, f.stderr)
    assert.match(f.stderr, /^Error: registry storage .*plain\.txt is not a directory/)
    assert.equal(fs.readFileSync(file, 'utf8'), 'x')
  })

  it('makes a new store of a missing directory, keeps its data across restarts, and deletes only its own scratch files', {timeout: 45_000}, async () => {
    const d = path.join(await scratch('serve-store'), 'new', 'store')
    const first = await serveCli(['--disk', d, '--quiet'])
    assert.ok(fs.existsSync(path.join(d, MARKER)), 'the store is marked')
    const blob = Buffer.from('kept across restarts')
    const digest = await pushBlob(first.url, 'keep/app', blob)
    await openUpload(first.url, 'keep/app', 'abandoned by a crash')
    assert.equal(uploadFiles(d).length, 1)
    first.child.kill('SIGKILL') // a crash: the session's file stays behind
    await first.exit
    fs.writeFileSync(path.join(d, 'uploads', 'notes.txt'), 'important\n')
    fs.writeFileSync(path.join(d, 'uploads', 'upload-mine'), 'not a server name\n')

    const second = await serveCli(['--disk', d, '--quiet'])
    assert.deepEqual(uploadFiles(d), ['upload-mine'], "the crashed run's upload file is removed, nothing else")
    const got = await fetch(`${second.url}/v2/keep/app/blobs/${digest}`)
    assert.equal(got.status, 200)
    assert.ok(Buffer.from(await got.arrayBuffer()).equals(blob))
    await openUpload(second.url, 'keep/app', 'unfinished at shutdown')
    assert.equal(await second.stop(), 0)
    assert.deepEqual(fs.readdirSync(path.join(d, 'uploads')).sort(), ['notes.txt', 'upload-mine'])
    assert.equal(fs.readFileSync(path.join(d, 'uploads', 'notes.txt'), 'utf8'), 'important\n')
  })

  it('reopens a store of an earlier version (blobs/ and repositories/ only) and marks it', {timeout: 45_000}, async () => {
    const d = await scratch('serve-legacy')
    fs.mkdirSync(path.join(d, 'blobs'))
    fs.mkdirSync(path.join(d, 'repositories'))
    const s = await serveCli(['--disk', d, '--quiet'])
    try {
      assert.ok(fs.existsSync(path.join(d, MARKER)))
      assert.equal((await fetch(`${s.url}/v2/`)).status, 200)
    } finally {
      assert.equal(await s.stop(), 0)
    }
  })
})

describe('registry serve cannot be held down (issue 12 item 6)', () => {
  it('300 idle sockets do not stop a push and pull by the CLI: at --max-connections, idle ones are evicted', {timeout: 45_000}, async () => {
    const s = await serveCli(['--quiet', '--max-connections', '100', '--header-timeout', '120', '--idle-timeout', '120'])
    const held: HeldSocket[] = []
    try {
      for (let i = 0; i < 300; i++) held.push(await hold(s.port))
      const src = await scratch('serve-hoard-src')
      const image = await writeImageDir(src, {layers: 2, seed: 'serve-hoard', mediaTypes: 'oci'})
      const push = await runCli(['copy', `dir:${src}`, `${s.host}/hoard/app:v1`], {timeoutMs: 30_000})
      assert.equal(push.code, 0, push.stderr)
      const digest = await runCli(['digest', `${s.host}/hoard/app:v1`], {timeoutMs: 30_000})
      assert.equal(digest.stdout.trim(), image.manifestDigest, digest.stderr)
      const layer = image.layerDigests[0]
      const pulled = await runCli(['blob', `${s.host}/hoard/app@${layer}`], {timeoutMs: 30_000})
      assert.equal(pulled.code, 0, pulled.stderr)
      assert.ok(pulled.stdoutBytes.equals(image.blobs.get(layer)!), 'blob bytes')
      await sleep(200)
      const open = held.filter(isOpen).length
      assert.ok(open <= 100, `${open} of the 300 idle sockets still open`)
    } finally {
      for (const h of held) h.socket.destroy()
      await s.stop()
    }
  })

  it('closes silent, slow-header, kept-alive and slow-body connections after the configured timeouts, serving others meanwhile', {timeout: 45_000}, async () => {
    const s = await serveCli(['--quiet', '--header-timeout', '1', '--idle-timeout', '1.5', '--request-timeout', '2.5'])
    try {
      const silent = await Promise.all(Array.from({length: 30}, () => hold(s.port)))
      const partial = await hold(s.port, 'GET /v2/ HTTP/1.1\r\n')
      const loris = await hold(s.port, 'GET /v2/ HTTP/1.1\r\nHost: x\r\n')
      const drip = setInterval(() => loris.socket.write('X-Slow: 1\r\n'), 150)
      const keptAlive = await hold(s.port, 'GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n')
      let answered = ''
      keptAlive.socket.on('data', (b: Buffer) => (answered += b.toString()))
      const session = await fetch(`${s.url}/v2/slow/app/blobs/uploads/`, {method: 'POST'})
      const sessionUrl = new URL(session.headers.get('location')!, s.url)
      const slowBody = await hold(s.port, `PATCH ${sessionUrl.pathname}${sessionUrl.search} HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n`)
      const bodyDrip = setInterval(() => slowBody.socket.write('a'), 150)
      let slowAnswer = ''
      slowBody.socket.on('data', (b: Buffer) => (slowAnswer += b.toString()))
      try {
        await sleep(600)
        assert.equal((await fetch(`${s.url}/v2/`)).status, 200, 'others are served meanwhile')
        const closedAt = await Promise.all([...silent.map((h) => h.closed), partial.closed, loris.closed])
        for (const ms of closedAt) assert.ok(ms >= 800 && ms < 8000, `a connection without complete headers closed after ${ms} ms (header timeout 1 s)`)
        const kept = await keptAlive.closed
        assert.match(answered, /^HTTP\/1\.1 200 /)
        assert.ok(kept >= 1200 && kept < 8000, `an idle kept-alive connection closed after ${kept} ms (idle timeout 1.5 s)`)
        const slow = await slowBody.closed
        assert.ok(slow >= 2000 && slow < 10_000, `a trickled body closed after ${slow} ms (request timeout 2.5 s)`)
        assert.doesNotMatch(slowAnswer, /^HTTP\/1\.1 2/, 'the trickled chunk is not accepted')
        const progress = await fetch(sessionUrl, {method: 'GET'})
        assert.equal(progress.status, 204, 'the session stays usable')
        assert.equal(progress.headers.get('range'), '0-0', 'with none of the trickled bytes')
      } finally {
        clearInterval(drip)
        clearInterval(bodyDrip)
      }
      assert.equal((await fetch(`${s.url}/v2/`)).status, 200)
    } finally {
      await s.stop()
    }
  })

  it('expires abandoned uploads with their files, keeps used ones, and bounds open sessions (429)', {timeout: 45_000}, async () => {
    const d = await scratch('serve-expiry')
    const s = await serveCli(['--disk', d, '--upload-expiry', '1', '--max-uploads', '4'])
    try {
      const abandoned = await openUpload(s.url, 'exp/app', 'abandoned')
      const used = await openUpload(s.url, 'exp/app', 'part one;')
      assert.equal(uploadFiles(d).length, 2)
      let sent = 'part one;'
      for (let i = 0; i < 12; i++) {
        await sleep(200)
        const p = await fetch(used, {method: 'PATCH', body: `${i};`})
        assert.equal(p.status, 202, `a used session stays open (${i})`)
        sent += `${i};`
      }
      assert.equal((await fetch(abandoned)).status, 404, 'the abandoned session expired')
      assert.equal(uploadFiles(d).length, 1, 'and its file is gone')
      const put = await fetch(`${used}${used.includes('?') ? '&' : '?'}digest=${sha256(sent)}`, {method: 'PUT'})
      assert.equal(put.status, 201, await put.text())
      assert.match(s.stderr(), /upload \S+ of exp\/app expired/)

      for (let i = 0; i < 4; i++) assert.equal((await fetch(`${s.url}/v2/exp/app/blobs/uploads/`, {method: 'POST'})).status, 202)
      const over = await fetch(`${s.url}/v2/exp/app/blobs/uploads/`, {method: 'POST'})
      assert.equal(over.status, 429)
      assert.equal(((await over.json()) as {errors: {code: string}[]}).errors[0].code, 'TOOMANYREQUESTS')
      await sleep(2000)
      assert.deepEqual(uploadFiles(d), [], 'every abandoned file is removed')
      assert.equal((await fetch(`${s.url}/v2/exp/app/blobs/uploads/`, {method: 'POST'})).status, 202, 'room again after expiry')
    } finally {
      await s.stop()
    }
  })
})
