// gcr gc keeps what referrers need: the (untagged) subject of a tagged referrer, and untagged
// referrers (signatures, SBOMs) of a tagged image. Only true garbage is listed.
import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import * as path from 'node:path'
import {after, before, describe, it} from 'node:test'
import {parseReference} from '../../../src/lib/name/reference.js'
import {Session} from '../../../src/lib/remote/session.js'
import {repoRoot, runCli} from '../../../test/support/cli.js'
import {type PushedFixture, pushFixture} from '../../../test/support/fixtures.js'
import {type RunningRegistry, startRegistry} from '../../../test/support/registry.js'
import {linkPlugins, pluginEnv} from '../../../test/support/plugins.js'
import {type TmpDir, tmpDir} from '../../../test/support/tmp.js'
import {type FakeGcr, startFakeGcr} from './support/gcr-server.js'

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`

/** pushes an artifact whose subject is `subject`, under `tag` or by digest only */
async function pushReferrer(reg: RunningRegistry, subject: PushedFixture, tag: string | undefined, kind: string): Promise<string> {
  const empty = Buffer.from('{}')
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      artifactType: kind,
      config: {mediaType: 'application/vnd.oci.empty.v1+json', size: 2, digest: sha(empty)},
      layers: [{mediaType: 'application/vnd.oci.empty.v1+json', size: 2, digest: sha(empty)}],
      subject: {mediaType: subject.mediaType, size: subject.manifestBytes.length, digest: subject.manifestDigest},
    }),
  )
  const s = new Session({})
  try {
    const repo = s.repository(parseReference(`${reg.host}/ref/app:x`))
    await repo.uploadBlob(sha(empty), 2, empty)
    return await repo.putManifest(tag ?? sha(manifest), manifest, 'application/vnd.oci.image.manifest.v1+json')
  } finally {
    s.close()
  }
}

describe('plugins/gcr gc and referrers', () => {
  let registry: RunningRegistry
  let gcr: FakeGcr
  let tmp: TmpDir
  let env: Record<string, string>
  let garbage: PushedFixture
  before(async () => {
    tmp = await tmpDir('gcr-gc-referrers')
    registry = await startRegistry({flavour: 'plain'})
    // S loses its tag but is the subject of a tagged signature; T is tagged and has an untagged SBOM
    const s = await pushFixture(registry, 'ref/app:a', 'oci', 'subject-s')
    const t = await pushFixture(registry, 'ref/app:a', 'oci', 'tagged-t')
    await pushReferrer(registry, s, 'sig', 'application/x-signature')
    await pushReferrer(registry, t, undefined, 'application/x-sbom')
    // control: an image that lost its tag and nothing refers to
    garbage = await pushFixture(registry, 'ref/app:b', 'oci', 'garbage')
    await pushFixture(registry, 'ref/app:b', 'oci', 'replacement')
    gcr = await startFakeGcr(registry)
    env = pluginEnv(tmp.path)
    await linkPlugins(env, 'gcr')
  })
  after(async () => {
    await gcr?.stop()
    await registry?.stop()
    await tmp?.remove()
  })

  it('lists only the image nothing needs', async () => {
    const r = await runCli(['gcr', 'gc', `${gcr.host}/ref/app`], {env})
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, `${gcr.host}/ref/app@${garbage.manifestDigest}\n`)
  })
})
