// The read commands against the real distribution registry (plain HTTP flavour): manifest,
// digest, config, ls, catalog, blob, tag, delete, version. Fixtures are pushed with skopeo,
// and what ocitool prints is compared with what was built and with `skopeo inspect --raw`.
import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'
import {runCli} from '../support/cli.js'
import {type PushedFixture, pushFixture, sha256, skopeo, skopeoRegistryArgs} from '../support/fixtures.js'
import {type RunningRegistry, startRegistry} from '../support/registry.js'

describe('read commands (plain registry)', () => {
  let reg: RunningRegistry
  let oci: PushedFixture
  let docker: PushedFixture
  let index: PushedFixture

  before(async () => {
    reg = await startRegistry({flavour: 'plain'})
    ;[oci, docker, index] = await Promise.all([
      pushFixture(reg, 'fix/oci:v1', 'oci', 'read-oci'),
      pushFixture(reg, 'fix/docker:v1', 'docker', 'read-docker'),
      pushFixture(reg, 'fix/index:v1', 'index', 'read-index'),
    ])
  })
  after(() => reg?.stop())

  it('manifest prints the exact bytes skopeo sees', async () => {
    const r = await runCli(['manifest', `${reg.host}/fix/oci:v1`])
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(r.stdoutBytes, oci.manifestBytes)
    const raw = await skopeo(['inspect', '--raw', ...skopeoRegistryArgs(reg, ''), `docker://${reg.host}/fix/oci:v1`])
    assert.equal(sha256(r.stdoutBytes), sha256(Buffer.from(raw.stdout)))
  })

  it('manifest of a docker schema2 image keeps its bytes', async () => {
    const r = await runCli(['manifest', `${reg.host}/fix/docker@${docker.manifestDigest}`])
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(r.stdoutBytes, docker.manifestBytes)
    assert.equal(JSON.parse(r.stdout).mediaType, 'application/vnd.docker.distribution.manifest.v2+json')
  })

  it('manifest --platform picks the child of an index', async () => {
    const arm = index.images.find((i) => i.platform.architecture === 'arm64')!
    const r = await runCli(['manifest', `${reg.host}/fix/index:v1`, '--platform', 'linux/arm64'])
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(r.stdoutBytes, arm.manifestBytes)
    const whole = await runCli(['manifest', `${reg.host}/fix/index:v1`])
    assert.deepEqual(whole.stdoutBytes, index.manifestBytes)
  })

  it('manifest --platform that matches nothing exits 3 naming what the index has', async () => {
    const r = await runCli(['manifest', `${reg.host}/fix/index:v1`, '--platform', 'windows/amd64'])
    assert.equal(r.code, 3)
    assert.match(r.stderr, /no manifest for platform windows\/amd64 \(the index has: linux\/amd64, linux\/arm64\/v8, linux\/arm\/v7\)/)
  })

  it('digest prints the digest (plain, --full-ref, --json, --platform)', async () => {
    const ref = `${reg.host}/fix/oci:v1`
    const plain = await runCli(['digest', ref])
    assert.equal(plain.code, 0, plain.stderr)
    assert.equal(plain.stdout, `${oci.manifestDigest}\n`)
    const full = await runCli(['digest', ref, '--full-ref'])
    assert.equal(full.stdout, `${reg.host}/fix/oci@${oci.manifestDigest}\n`)
    const json = JSON.parse((await runCli(['digest', ref, '--json'])).stdout)
    assert.equal(json.digest, oci.manifestDigest)
    assert.equal(json.size, oci.manifestBytes.length)
    assert.equal(json.mediaType, 'application/vnd.oci.image.manifest.v1+json')
    const armv7 = index.images.find((i) => i.platform.variant === 'v7')!
    const plat = await runCli(['digest', `${reg.host}/fix/index:v1`, '--platform', 'linux/arm/v7'])
    assert.equal(plat.stdout, `${armv7.manifestDigest}\n`)
    const byDigest = await runCli(['digest', `${reg.host}/fix/index@${index.manifestDigest}`])
    assert.equal(byDigest.stdout, `${index.manifestDigest}\n`)
  })

  it('a loopback registry on plain HTTP is found by its HTTP answer, without trying HTTPS', async () => {
    const r = await runCli(['digest', `${reg.host}/fix/oci:v1`, '--verbose'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, `${oci.manifestDigest}\n`)
    const sent = r.stderr.split('\n').filter((l) => l.startsWith('--> '))
    assert.deepEqual(sent, [`--> GET http://${reg.host}/v2/`, `--> HEAD http://${reg.host}/v2/fix/oci/manifests/v1`])
  })

  it('config prints the config blob; an index defaults to linux/amd64', async () => {
    const r = await runCli(['config', `${reg.host}/fix/docker:v1`])
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(r.stdoutBytes, docker.images[0].configBytes)
    const amd = index.images.find((i) => i.platform.architecture === 'amd64')!
    const fromIndex = await runCli(['config', `${reg.host}/fix/index:v1`])
    assert.deepEqual(fromIndex.stdoutBytes, amd.configBytes)
    const arm = index.images.find((i) => i.platform.architecture === 'arm64')!
    const armCfg = await runCli(['config', `${reg.host}/fix/index:v1`, '--platform', 'linux/arm64/v8'])
    assert.deepEqual(armCfg.stdoutBytes, arm.configBytes)
  })

  it('blob streams a layer, verified', async () => {
    const layer = oci.images[0].layerDigests[0]
    const r = await runCli(['blob', `${reg.host}/fix/oci@${layer}`])
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(r.stdoutBytes, oci.images[0].blobs.get(layer))
    const noDigest = await runCli(['blob', `${reg.host}/fix/oci:v1`])
    assert.equal(noDigest.code, 2)
    assert.match(noDigest.stderr, /name the blob by digest/)
  })

  it('tag adds a tag without moving layers; ls lists tags (-O, --full-ref, --json)', async () => {
    const t = await runCli(['tag', `${reg.host}/fix/oci:v1`, 'v2'])
    assert.equal(t.code, 0, t.stderr)
    assert.equal(t.stdout, `${reg.host}/fix/oci@${oci.manifestDigest}\n`)
    const hex = oci.manifestDigest.slice('sha256:'.length)
    assert.equal((await runCli(['tag', `${reg.host}/fix/oci:v1`, `sha256-${hex}`])).code, 0)
    const raw = await skopeo(['inspect', '--raw', ...skopeoRegistryArgs(reg, ''), `docker://${reg.host}/fix/oci:v2`])
    assert.equal(sha256(Buffer.from(raw.stdout)), oci.manifestDigest)
    const blobPuts = reg.requests().filter((q) => q.path.includes('/blobs/') && q.method !== 'GET' && q.method !== 'HEAD' && q.userAgent.startsWith('ocitool'))
    assert.deepEqual(blobPuts, [], 'tag moved no blob')

    const ls = await runCli(['ls', `${reg.host}/fix/oci`])
    assert.equal(ls.code, 0, ls.stderr)
    assert.deepEqual(ls.stdout.trim().split('\n').sort(), [`sha256-${hex}`, 'v1', 'v2'])
    const omit = await runCli(['ls', `${reg.host}/fix/oci`, '-O', '--full-ref'])
    assert.deepEqual(omit.stdout.trim().split('\n').sort(), [`${reg.host}/fix/oci:v1`, `${reg.host}/fix/oci:v2`])
    const json = JSON.parse((await runCli(['ls', `${reg.host}/fix/oci`, '--json'])).stdout)
    assert.deepEqual([...json.tags].sort(), [`sha256-${hex}`, 'v1', 'v2'])
  })

  it('catalog lists repositories (--full-ref)', async () => {
    const r = await runCli(['catalog', reg.host])
    assert.equal(r.code, 0, r.stderr)
    for (const repo of ['fix/docker', 'fix/index', 'fix/oci']) assert.ok(r.stdout.split('\n').includes(repo), r.stdout)
    const full = await runCli(['catalog', reg.host, '--full-ref'])
    assert.ok(full.stdout.split('\n').includes(`${reg.host}/fix/oci`))
  })

  it('delete resolves a tag to its digest and says so; the manifest is gone', async () => {
    await pushFixture(reg, 'fix/gone:v1', 'oci', 'read-gone')
    const d = await runCli(['delete', `${reg.host}/fix/gone:v1`])
    assert.equal(d.code, 0, d.stderr)
    assert.match(d.stderr, /tag v1 resolved to sha256:[a-f0-9]{64}/)
    assert.match(d.stdout, new RegExp(`^${reg.host}/fix/gone@sha256:[a-f0-9]{64}\\n$`))
    const again = await runCli(['manifest', `${reg.host}/fix/gone:v1`])
    assert.equal(again.code, 3)
    assert.match(again.stderr, /^Error: manifest .*fix\/gone:v1: not found \(MANIFEST_UNKNOWN/)
  })

  it('version and --version', async () => {
    const v = await runCli(['version'])
    assert.equal(v.code, 0)
    assert.match(v.stdout, /^\d+\.\d+\.\d+\n$/)
    const json = JSON.parse((await runCli(['version', '--json'])).stdout)
    assert.equal(json.version, v.stdout.trim())
    const flag = await runCli(['--version'])
    assert.match(flag.stdout, /^ocitool\/\d+\.\d+\.\d+ /)
  })
})
