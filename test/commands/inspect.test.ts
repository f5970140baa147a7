// inspect against the real distribution registry and skopeo's own `inspect` of the same images
// (registry, oci:, dir:), with --platform, --raw, --config, --format and the bad inputs.
import assert from 'node:assert/strict'
import * as path from 'node:path'
import {after, before, describe, it} from 'node:test'
import {runCli} from '../support/cli.js'
import {type PushedFixture, pushFixture, skopeo} from '../support/fixtures.js'
import {type RunningRegistry, startRegistry} from '../support/registry.js'
import {tmpDir, type TmpDir} from '../support/tmp.js'

describe('inspect', () => {
  let reg: RunningRegistry
  let work: TmpDir
  let img: PushedFixture
  let idx: PushedFixture

  before(async () => {
    ;[reg, work] = await Promise.all([startRegistry({flavour: 'plain'}), tmpDir('inspect')])
    img = await pushFixture(reg, 'app/img:v1', 'docker', 'inspect-img')
    idx = await pushFixture(reg, 'app/idx:v1', 'index', 'inspect-idx')
    const tag = await runCli(['tag', `${reg.host}/app/img:v1`, 'v2'])
    assert.equal(tag.code, 0, tag.stderr)
  })
  after(async () => {
    await reg?.stop()
    await work?.remove()
  })

  async function both(loc: string, skopeoLoc: string, extra: string[] = [], skopeoExtra: string[] = []): Promise<{ours: Record<string, unknown>; theirs: Record<string, unknown>}> {
    const r = await runCli(['inspect', loc, ...extra])
    assert.equal(r.code, 0, r.stderr)
    const s = await skopeo(['inspect', '--tls-verify=false', ...skopeoExtra, skopeoLoc])
    assert.equal(s.code, 0, s.stderr)
    return {ours: JSON.parse(r.stdout), theirs: JSON.parse(s.stdout)}
  }

  /** every field skopeo prints is ours too, equal; LayersData (newer skopeo) matches Layers */
  function sameAsSkopeo(ours: Record<string, unknown>, theirs: Record<string, unknown>): void {
    for (const [k, v] of Object.entries(theirs)) {
      const mine = k === 'RepoTags' ? [...(ours[k] as string[])].sort() : ours[k]
      assert.deepEqual(mine, k === 'RepoTags' ? [...(v as string[])].sort() : v, `field ${k}`)
    }
    const layers = ours.Layers as string[]
    assert.deepEqual((ours.LayersData as Array<{Digest: string}>).map((l) => l.Digest), layers)
  }

  it('a registry image: the same document as skopeo inspect, tags included', async () => {
    const {ours, theirs} = await both(`${reg.host}/app/img:v1`, `docker://${reg.host}/app/img:v1`)
    sameAsSkopeo(ours, theirs)
    assert.equal(ours.Digest, img.manifestDigest)
    assert.deepEqual([...(ours.RepoTags as string[])].sort(), ['v1', 'v2'])
    assert.equal(ours.Name, `${reg.host}/app/img`)
    assert.equal(ours.Created, '2000-01-01T00:00:00Z')
    assert.deepEqual(ours.Labels, {'org.ocitool.fixture': 'inspect-img'})
    assert.deepEqual(ours.Layers, img.images[0].layerDigests)
    const noTags = await runCli(['inspect', '--no-tags', `docker://${reg.host}/app/img:v1`])
    assert.equal(noTags.code, 0, noTags.stderr)
    assert.deepEqual(JSON.parse(noTags.stdout).RepoTags, [])
  })

  it('an index: the index digest, the linux/amd64 image or --platform', async () => {
    const {ours, theirs} = await both(`${reg.host}/app/idx:v1`, `docker://${reg.host}/app/idx:v1`)
    sameAsSkopeo(ours, theirs)
    assert.equal(ours.Digest, idx.manifestDigest)
    assert.deepEqual(ours.Layers, idx.images[0].layerDigests)
    const arm = await both(`${reg.host}/app/idx:v1`, `docker://${reg.host}/app/idx:v1`, ['--platform', 'linux/arm64/v8'], ['--override-arch', 'arm64', '--override-variant', 'v8'])
    sameAsSkopeo(arm.ours, arm.theirs)
    assert.equal(arm.ours.Architecture, 'arm64')
    assert.deepEqual(arm.ours.Layers, idx.images[1].layerDigests)
  })

  it('oci: and dir: stores, as skopeo sees them', async () => {
    const oci = path.join(work.path, 'layout')
    const dir = path.join(work.path, 'dir')
    for (const dst of [`oci:${oci}:t1`, `dir:${dir}`]) {
      const c = await skopeo(['copy', '-q', '--src-tls-verify=false', `docker://${reg.host}/app/img:v1`, dst])
      assert.equal(c.code, 0, c.stderr)
      const {ours, theirs} = await both(dst, dst)
      sameAsSkopeo(ours, theirs)
      assert.equal(ours.Name, undefined)
      // skopeo converts to OCI media types when writing oci:, so only dir: keeps the digest
      if (dst.startsWith('dir:')) assert.equal(ours.Digest, img.manifestDigest)
    }
  })

  it('--raw, --config and --config --raw print the stored bytes', async () => {
    const raw = await runCli(['inspect', '--raw', `${reg.host}/app/idx:v1`])
    assert.equal(raw.code, 0, raw.stderr)
    assert.ok(raw.stdoutBytes.equals(idx.manifestBytes))
    const cfgRaw = await runCli(['inspect', '--config', '--raw', `${reg.host}/app/img:v1`])
    assert.ok(cfgRaw.stdoutBytes.equals(img.images[0].configBytes))
    const cfg = await runCli(['inspect', '--config', `${reg.host}/app/idx:v1`, '--platform', 'linux/arm/v7'])
    assert.equal(cfg.code, 0, cfg.stderr)
    assert.deepEqual(JSON.parse(cfg.stdout), JSON.parse(idx.images[2].configBytes.toString()))
  })

  it('--format renders Go templates as skopeo does', async () => {
    const t = '{{.Digest}} {{.Env}} {{.Labels}} {{.Labels.nope}} {{index .Labels "org.ocitool.fixture"}} {{.Architecture}}/{{.Os}} {{len .Layers}}'
    const r = await runCli(['inspect', '--format', t, `${reg.host}/app/img:v1`])
    assert.equal(r.code, 0, r.stderr)
    const s = await skopeo(['inspect', '--tls-verify=false', '--format', t, `docker://${reg.host}/app/img:v1`])
    assert.equal(s.code, 0, s.stderr)
    assert.equal(r.stdout.trim(), s.stdout.trim())
    // skopeo 1.9 has no json function; newer ones (and podman) print JSON
    const json = await runCli(['inspect', '--format', '{{json .Env}}|{{json .Labels}}', `${reg.host}/app/img:v1`])
    assert.equal(json.stdout, `${JSON.stringify(['PATH=/usr/local/bin:/usr/bin:/bin', 'FIXTURE_SEED=inspect-img'])}|{"org.ocitool.fixture":"inspect-img"}\n`)
    const range = await runCli(['inspect', '-f', '{{range .Layers}}{{.}},{{end}}', `${reg.host}/app/img:v1`])
    assert.equal(range.stdout, `${img.images[0].layerDigests.join(',')},\n`)
  })

  it('bad input: exit codes and one line', async () => {
    const cases: Array<[string[], number, RegExp]> = [
      [['inspect', `${reg.host}/app/img:nope`], 3, /manifest .*nope/],
      [['inspect', `${reg.host}/App/Bad:v1`], 2, /Error: .*invalid/i],
      [['inspect', '--format', '{{.Nope}}', `${reg.host}/app/img:v1`], 2, /can't evaluate field Nope/],
      [['inspect', `oci:${path.join(work.path, 'missing')}`], 3, /Error: /],
    ]
    for (const [args, code, msg] of cases) {
      const r = await runCli(args)
      assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`)
      assert.match(r.stderr, msg)
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
    }
  })
})
