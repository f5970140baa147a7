// The transfer engine's scheduling: how many blobs move at once (small ones share a job, a sink's
// own limit is kept), that the upload may start before the source answers, and that a failure
// stops new work and aborts the sink. Source and sink are in-memory implementations of the
// store interfaces; the registry-backed ones are covered by the command and integration tests.
import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import {Readable} from 'node:stream'
import {describe, it} from 'node:test'
import type {Descriptor} from '../../../src/lib/oci/types.js'
import type {ManifestBytes, Root, Sink, Source} from '../../../src/lib/stores/types.js'
import type {Plan} from '../../../src/lib/transfer/plan.js'
import {transfer} from '../../../src/lib/transfer/engine.js'

const digest = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`

function blobs(count: number, size: number, seed: string): Map<string, Buffer> {
  const m = new Map<string, Buffer>()
  for (let i = 0; i < count; i++) {
    const b = Buffer.alloc(size, `${seed}-${i}-`)
    m.set(digest(b), b)
  }
  return m
}

class MemorySource implements Source {
  readonly description = 'memory'
  /** digests whose blob() has answered */
  readonly answered = new Set<string>()
  constructor(
    readonly data: Map<string, Buffer>,
    private readonly delayMs = 5,
  ) {}
  async roots(): Promise<Root[]> {
    return []
  }
  async manifest(): Promise<ManifestBytes> {
    throw new Error('no manifests')
  }
  async blob(desc: Descriptor): Promise<Readable> {
    await new Promise((r) => setTimeout(r, this.delayMs))
    this.answered.add(desc.digest)
    const b = this.data.get(desc.digest)
    if (!b) throw Object.assign(new Error(`no blob ${desc.digest}`), {code: 'ENOENT'})
    return Readable.from([b])
  }
  async close(): Promise<void> {}
}

class MemorySink implements Sink {
  readonly description = 'memory sink'
  readonly stored = new Map<string, Buffer>()
  running = 0
  peak = 0
  /** putBlob calls that began while the source had not answered yet */
  startedEarly = 0
  aborted = false
  committed = false
  source: MemorySource | undefined
  constructor(readonly blobConcurrency?: number) {}
  async hasBlob(desc: Descriptor): Promise<boolean> {
    return this.stored.has(desc.digest)
  }
  async putBlob(desc: Descriptor, data: Readable): Promise<void> {
    this.running++
    this.peak = Math.max(this.peak, this.running)
    if (this.source && !this.source.answered.has(desc.digest)) this.startedEarly++
    try {
      const parts: Buffer[] = []
      for await (const c of data) parts.push(c as Buffer)
      await new Promise((r) => setTimeout(r, 5))
      this.stored.set(desc.digest, Buffer.concat(parts))
    } finally {
      this.running--
    }
  }
  async putManifest(): Promise<void> {}
  async commit(): Promise<void> {
    this.committed = true
  }
  async abort(): Promise<void> {
    this.aborted = true
  }
}

function planOf(data: Map<string, Buffer>): Plan {
  const list = [...data].map(([d, b]) => ({mediaType: 'application/octet-stream', digest: d, size: b.length}))
  return {roots: [], manifests: [], blobs: list, skippedForeign: [], totalBytes: list.reduce((n, d) => n + d.size, 0)}
}

describe('transfer engine scheduling', () => {
  it('small blobs move up to 4 × jobs at once, each once and verified', async () => {
    const data = blobs(24, 1000, 'small')
    const sink = new MemorySink()
    const r = await transfer(new MemorySource(data), sink, planOf(data), {jobs: 2})
    assert.equal(r.copied, 24)
    assert.equal(sink.peak, 8)
    for (const [d, b] of data) assert.deepEqual(sink.stored.get(d), b)
    assert.ok(sink.committed)
  })

  it('large blobs move `jobs` at once', async () => {
    const data = blobs(6, 1024 * 1024 + 1, 'large')
    const sink = new MemorySink()
    await transfer(new MemorySource(data), sink, planOf(data), {jobs: 2})
    assert.equal(sink.peak, 2)
    assert.equal(sink.stored.size, 6)
  })

  it("a sink's own limit holds for small blobs too", async () => {
    const data = blobs(10, 100, 'one')
    const sink = new MemorySink(1)
    await transfer(new MemorySource(data), sink, planOf(data), {jobs: 4})
    assert.equal(sink.peak, 1)
    assert.equal(sink.stored.size, 10)
  })

  it('the sink starts on a blob while the source is still answering', async () => {
    const data = blobs(3, 100, 'early')
    const sink = new MemorySink()
    const source = new MemorySource(data, 20)
    sink.source = source
    await transfer(source, sink, planOf(data), {jobs: 1})
    assert.equal(sink.startedEarly, 3)
    assert.equal(sink.stored.size, 3)
  })

  it('a blob the source cannot give fails the transfer, stops new work and aborts the sink', async () => {
    const data = blobs(12, 100, 'fail')
    const plan = planOf(data)
    plan.blobs.splice(2, 0, {mediaType: 'application/octet-stream', digest: `sha256:${'0'.repeat(64)}`, size: 5})
    const sink = new MemorySink()
    await assert.rejects(transfer(new MemorySource(data), sink, plan, {jobs: 1, blobRetries: 0}), /no blob sha256:0{64}/)
    assert.ok(sink.aborted)
    assert.ok(!sink.committed)
    assert.ok(sink.stored.size < 12, `stopped early: ${sink.stored.size} stored`)
  })

  it('bytes that do not match the digest fail with exit 6 and nothing is stored for them', async () => {
    const data = blobs(1, 100, 'bad')
    const [d] = [...data.keys()]
    const source = new MemorySource(new Map([[d, Buffer.alloc(100, 'other')]]))
    const sink = new MemorySink()
    await assert.rejects(transfer(source, sink, planOf(data), {jobs: 1}), (e: Error & {exitCode?: number}) => e.exitCode === 6 && /digest mismatch/.test(e.message))
    assert.equal(sink.stored.size, 0)
    assert.ok(sink.aborted)
  })
})
