// A blob whose length is not the one its descriptor says (issue 12, item 8): the registry is
// right about its own bytes, so no resumed download can help. `pull` and `copy` say both sizes
// in one line and exit 6 after one GET of the blob, writing nothing.
import assert from 'node:assert/strict'
import * as fsp from 'node:fs/promises'
import * as path from 'node:path'
import {after, before, describe, it} from 'node:test'

import {parseReference} from '../../src/lib/name/reference.js'
import {Session} from '../../src/lib/remote/session.js'
import {runCli} from '../support/cli.js'
import {MediaTypes, seededBytes, sha256} from '../support/fixtures.js'
import {type FaultProxy, startProxy} from '../support/proxy.js'
import {type RunningRegistry, startRegistry} from '../support/registry.js'
import {type TmpDir, tmpDir} from '../support/tmp.js'

const LAYER = seededBytes('blob-size', 1000)

/** pushLying pushes a one-layer image whose manifest says the layer has `claimed` bytes */
async function pushLying(reg: RunningRegistry, repoTag: string, claimed: number): Promise<void> {
  const config = Buffer.from(JSON.stringify({architecture: 'amd64', os: 'linux', rootfs: {type: 'layers', diff_ids: [sha256(LAYER)]}}))
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaTypes.ociManifest,
      config: {mediaType: MediaTypes.ociConfig, size: config.length, digest: sha256(config)},
      layers: [{mediaType: MediaTypes.ociLayerGzip, size: claimed, digest: sha256(LAYER)}],
    }),
  )
  const ref = parseReference(`${reg.host}/${repoTag}`)
  const s = new Session({})
  try {
    const repo = s.repository(ref)
    for (const b of [config, LAYER]) await repo.uploadBlob(sha256(b), b.length, b)
    await repo.putManifest(ref.tag!, manifest, MediaTypes.ociManifest)
  } finally {
    s.close()
  }
}

describe('faults: a blob of another size than its descriptor says', () => {
  let a: RunningRegistry
  let b: RunningRegistry
  let proxy: FaultProxy
  let tmp: TmpDir
  before(async () => {
    ;[a, b, tmp] = await Promise.all([startRegistry({flavour: 'plain'}), startRegistry({flavour: 'plain'}), tmpDir('blob-size')])
    await pushLying(a, 'lie/longer:v1', 1500)
    await pushLying(a, 'lie/shorter:v1', 600)
    proxy = await startProxy({upstream: a.url})
  })
  after(async () => {
    await proxy?.stop()
    await a?.stop()
    await b?.stop()
    await tmp?.remove()
  })

  for (const [repo, claimed] of [['lie/longer', 1500], ['lie/shorter', 600]] as const) {
    it(`${repo}: pull and copy say "expected ${claimed} bytes" and the real 1000, exit 6, one GET, nothing written`, async () => {
      const out = path.join(tmp.path, repo.replace('/', '-'))
      await fsp.mkdir(out)
      for (const args of [
        ['pull', `${proxy.host}/${repo}:v1`, path.join(out, 'layout'), '--format', 'oci'],
        ['copy', `${proxy.host}/${repo}:v1`, `${b.host}/${repo}:v1`],
      ]) {
        proxy.clearRequests()
        const r = await runCli(args, {env: {OCITOOL_RETRY_BASE_MS: '10'}})
        assert.equal(r.code, 6, `${args[0]}: ${r.stderr}`)
        const lines = r.stderr.split('\n').filter((l) => l !== '')
        assert.equal(lines.length, 1, r.stderr)
        assert.match(lines[0], new RegExp(`expected ${claimed} bytes.*1000`))
        const gets = proxy.requests().filter((q) => q.method === 'GET' && q.path.includes(`/blobs/${sha256(LAYER)}`))
        assert.equal(gets.length, 1, `${args[0]}: the blob was fetched ${gets.length} times`)
      }
      assert.deepEqual(await fsp.readdir(out), [])
      const tag = await fetch(`${b.url}/v2/${repo}/manifests/v1`, {method: 'HEAD', headers: {accept: MediaTypes.ociManifest}})
      assert.equal(tag.status, 404, 'no tag written on the destination')
    })
  }
})
