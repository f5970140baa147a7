// artifact push/pull (oras-style) against the real distribution registry: the manifest as oras
// writes it, files back byte for byte, and hostile or corrupt artifacts leaving nothing behind.
import assert from 'node:assert/strict'
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import {after, before, describe, it} from 'node:test'
import {runCli} from '../support/cli.js'
import {sha256} from '../support/fixtures.js'
import {startProxy} from '../support/proxy.js'
import {type RunningRegistry, startRegistry} from '../support/registry.js'
import {tmpDir, type TmpDir} from '../support/tmp.js'

describe('artifact push and pull', () => {
  let reg: RunningRegistry
  let work: TmpDir
  let a: string
  let b: string

  before(async () => {
    ;[reg, work] = await Promise.all([startRegistry({flavour: 'plain'}), tmpDir('artifact')])
    a = path.join(work.path, 'notes.txt')
    b = path.join(work.path, 'data.bin')
    await fs.writeFile(a, 'some notes\n')
    await fs.writeFile(b, Buffer.alloc(70_000, 7))
  })
  after(async () => {
    await reg?.stop()
    await work?.remove()
  })

  async function putManifest(tag: string, layers: object[]): Promise<void> {
    const doc = {schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', artifactType: 'application/vnd.example.t', config: {mediaType: 'application/vnd.oci.empty.v1+json', digest: sha256('{}'), size: 2, data: 'e30='}, layers}
    const r = await runCli(['manifest', 'put', `${reg.host}/art/files:${tag}`, '-'], {input: JSON.stringify(doc)})
    assert.equal(r.code, 0, r.stderr)
  }

  it('push: an oras-style manifest (titles, empty config, artifactType, no subject); pull writes the files back', async () => {
    const r = await runCli(['artifact', 'push', `${reg.host}/art/files:v1`, a, `${b}:application/octet-stream`, '--artifact-type', 'application/vnd.example.t', '-a', 'k=v'])
    assert.equal(r.code, 0, r.stderr)
    const digest = r.stdout.trim().split('@')[1]
    const m = await runCli(['manifest', `${reg.host}/art/files:v1`])
    assert.equal(sha256(m.stdoutBytes), digest)
    const doc = JSON.parse(m.stdout)
    assert.equal(doc.artifactType, 'application/vnd.example.t')
    assert.equal(doc.subject, undefined)
    assert.deepEqual(doc.config, {mediaType: 'application/vnd.oci.empty.v1+json', digest: sha256('{}'), size: 2, data: 'e30='})
    assert.deepEqual(doc.annotations, {k: 'v'})
    assert.deepEqual(doc.layers.map((l: {mediaType: string; annotations: Record<string, string>}) => [l.mediaType, l.annotations['org.opencontainers.image.title']]), [
      ['application/vnd.oci.image.layer.v1.tar', 'notes.txt'],
      ['application/octet-stream', 'data.bin'],
    ])
    const out = path.join(work.path, 'out')
    const p = await runCli(['artifact', 'pull', `${reg.host}/art/files:v1`, '-o', out, '--json'])
    assert.equal(p.code, 0, p.stderr)
    assert.deepEqual(JSON.parse(p.stdout).files.map((f: {title: string}) => f.title), ['notes.txt', 'data.bin'])
    assert.deepEqual(await fs.readFile(path.join(out, 'notes.txt')), await fs.readFile(a))
    assert.deepEqual(await fs.readFile(path.join(out, 'data.bin')), await fs.readFile(b))
    assert.deepEqual((await fs.readdir(out)).sort(), ['data.bin', 'notes.txt'])
  })

  it('pull refuses titles that leave the directory, before writing anything', async () => {
    const push = await runCli(['artifact', 'push', `${reg.host}/art/files:blobs`, a, b])
    assert.equal(push.code, 0, push.stderr)
    const blobA = {mediaType: 'text/plain', digest: sha256(await fs.readFile(a)), size: (await fs.stat(a)).size}
    for (const [tag, title] of [['up', '../evil.txt'], ['abs', '/tmp/evil.txt'], ['deep', 'x/../../evil.txt'], ['dot', '.']] as const) {
      await putManifest(tag, [{...blobA, annotations: {'org.opencontainers.image.title': 'fine.txt'}}, {...blobA, annotations: {'org.opencontainers.image.title': title}}])
      const out = path.join(work.path, `hostile-${tag}`)
      const r = await runCli(['artifact', 'pull', `${reg.host}/art/files:${tag}`, '-o', out])
      assert.equal(r.code, 6, `${title}: ${r.stderr}`)
      assert.match(r.stderr, /outside/)
      await assert.rejects(fs.readdir(out), 'nothing written')
    }
    await assert.rejects(fs.stat(path.join(work.path, 'evil.txt')))
  })

  it('pull of a corrupt blob: exit 6 and no file at all', async () => {
    const proxy = await startProxy({upstream: reg.url})
    try {
      const digestB = sha256(await fs.readFile(b))
      proxy.addFault({match: {method: 'GET', path: `/blobs/${digestB}`}, action: {kind: 'corrupt'}})
      const out = path.join(work.path, 'corrupt')
      await fs.mkdir(out)
      const r = await runCli(['artifact', 'pull', `${proxy.host}/art/files:v1`, '-o', out])
      assert.equal(r.code, 6, r.stderr)
      assert.deepEqual(await fs.readdir(out), [])
    } finally {
      await proxy.stop()
    }
  })

  it('bad input', async () => {
    const cases: Array<[string[], number, RegExp]> = [
      [['artifact', 'push', `${reg.host}/art/files:x`, path.join(work.path, 'missing')], 3, /no such file/],
      [['artifact', 'push', `${reg.host}/art/files:x`, a, '--artifact-type', 'plainword'], 2, /not a media type/],
      [['artifact', 'push', `${reg.host}/art/files:x`], 2, /Missing 1 required arg/i],
      [['artifact', 'push', `${reg.host}/art/files:x`, a, a], 2, /titles must differ/],
      [['artifact', 'pull', `${reg.host}/art/files:nope`, '-o', work.path], 3, /nope/],
    ]
    for (const [args, code, msg] of cases) {
      const r = await runCli(args)
      assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`)
      assert.match(r.stderr, msg)
    }
  })
})
