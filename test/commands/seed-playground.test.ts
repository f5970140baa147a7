// Seed 003 (the OCI playground's crane): copy, attach with a plain-word artifact type, the
// attached manifest through `| jq`, and `refs IMAGE | jq` printing the referrers index as JSON,
// run as written through bash with `ocitool` for `cmd/crane/crane`, against the real registry
// (no referrers API: the sha256-<hex> fallback tag). ghcr.io is a second local registry.
import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'
import {pushFixture, sha256, type PushedFixture} from '../support/fixtures.js'
import {type RunningRegistry, startRegistry} from '../support/registry.js'
import {sh} from '../support/shell.js'
import {tmpDir, type TmpDir} from '../support/tmp.js'

describe('seed 003 OCI playground attach/refs', () => {
  let ghcr: RunningRegistry
  let reg: RunningRegistry
  let work: TmpDir
  let zot: PushedFixture
  let local: string
  let attached: string
  before(async () => {
    ;[ghcr, reg, work] = await Promise.all([startRegistry({flavour: 'plain'}), startRegistry({flavour: 'plain'}), tmpDir('seed-playground')])
    zot = await pushFixture(ghcr, 'project-zot/zot-linux-amd64:v1.4.1-rc1', 'docker', 'zot')
    // the seed's localhost:8080 is this registry's port on localhost
    local = `localhost:${reg.host.split(':')[1]}`
  })
  after(async () => {
    await Promise.all([ghcr?.stop(), reg?.stop(), work?.remove()])
  })

  it('$ ocitool copy ghcr.io/project-zot/zot-linux-amd64:v1.4.1-rc1 localhost:8080/project-zot/zot-linux-amd64:v1.4.1-rc1', async () => {
    const r = await sh(`ocitool copy \\\n  ${ghcr.host}/project-zot/zot-linux-amd64:v1.4.1-rc1 \\\n  ${local}/project-zot/zot-linux-amd64:v1.4.1-rc1`, {cwd: work.path})
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, `${local}/project-zot/zot-linux-amd64@${zot.manifestDigest}\n`)
  })

  it('$ echo "hello world" > hello.txt; ocitool attach hello.txt text/plain misc IMAGE', async () => {
    const e = await sh('echo "hello world" > hello.txt', {cwd: work.path})
    assert.equal(e.code, 0, e.stderr)
    const r = await sh(`ocitool attach \\\n  hello.txt \\\n  text/plain \\\n  misc \\\n  ${local}/project-zot/zot-linux-amd64:v1.4.1-rc1`, {cwd: work.path})
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stderr, /^Warning: artifact type "misc" is not a media type/m)
    assert.match(r.stdout, new RegExp(`^${local}/project-zot/zot-linux-amd64@sha256:[0-9a-f]{64}\\n$`))
    attached = r.stdout.trim().split('@')[1]
  })

  it('$ ocitool manifest localhost:8080/project-zot/zot-linux-amd64@sha256:… | jq', async () => {
    const r = await sh(`ocitool manifest \\\n  ${local}/project-zot/zot-linux-amd64@${attached} | jq`, {cwd: work.path})
    assert.equal(r.code, 0, r.stderr)
    const m = JSON.parse(r.stdout) as {artifactType: string; layers: Array<{mediaType: string; digest: string; size: number}>; subject: {digest: string}}
    assert.equal(m.artifactType, 'misc')
    assert.equal(m.subject.digest, zot.manifestDigest)
    assert.equal(m.layers.length, 1)
    assert.equal(m.layers[0].mediaType, 'text/plain')
    assert.equal(m.layers[0].digest, sha256('hello world\n'))
    assert.equal(m.layers[0].size, 12)
    const raw = await sh(`ocitool manifest ${local}/project-zot/zot-linux-amd64@${attached}`, {cwd: work.path})
    assert.equal(sha256(raw.stdoutBytes), attached, 'the manifest printed is the one stored')
  })

  it('$ ocitool refs localhost:8080/project-zot/zot-linux-amd64:v1.4.1-rc1 | jq', async () => {
    const r = await sh(`ocitool refs \\\n  ${local}/project-zot/zot-linux-amd64:v1.4.1-rc1 | jq`, {cwd: work.path})
    assert.equal(r.code, 0, r.stderr)
    const index = JSON.parse(r.stdout) as {schemaVersion: number; mediaType: string; manifests: Array<{digest: string; artifactType: string}>}
    assert.equal(index.schemaVersion, 2)
    assert.equal(index.mediaType, 'application/vnd.oci.image.index.v1+json')
    assert.deepEqual(index.manifests.map((d) => [d.digest, d.artifactType]), [[attached, 'misc']])
    const table = await sh(`ocitool refs ${local}/project-zot/zot-linux-amd64:v1.4.1-rc1 --format table`, {cwd: work.path})
    assert.match(table.stdout, new RegExp(`^DIGEST.*\\n${attached}\\s+misc\\s+\\d+`))
  })

  it('bad input: an artifact type with a space is refused (exit 2, one line)', async () => {
    const r = await sh(`ocitool attach hello.txt text/plain 'not a type' ${local}/project-zot/zot-linux-amd64:v1.4.1-rc1`, {cwd: work.path})
    assert.equal(r.code, 2, r.stderr)
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
  })
})
