// ocitool and containerd (software nobody here wrote): `ctr images import` takes the docker and
// OCI archives ocitool writes, `ctr images pull` what ocitool pushed, and ocitool reads what
// `ctr images export` and `ctr images push` wrote, digests equal throughout. A private
// containerd runs on its own socket, state and root in a temp dir, stopped by its pid
// (test/support/podman.ts); the machine's containerd, if any, is never touched.
import assert from 'node:assert/strict'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {runCli} from '../support/cli.js'
import {pushFixture, type PushedFixture} from '../support/fixtures.js'
import {ctrMissing, startContainerd, type Containerd} from '../support/podman.js'
import {startRegistry, type RunningRegistry} from '../support/registry.js'
import {tmpDir, type TmpDir} from '../support/tmp.js'

async function ok(args: string[]): Promise<string> {
  const r = await runCli(args)
  assert.equal(r.code, 0, `ocitool ${args.join(' ')}: ${r.stderr}`)
  return r.stdout
}

/** images lists `ctr images ls`: name → digest. */
async function images(containerd: Containerd): Promise<Map<string, string>> {
  const lines = (await containerd.ctr(['images', 'ls'])).stdout.trim().split('\n').slice(1)
  return new Map(lines.map((l) => l.split(/\s+/)).map((f) => [f[0], f[2]]))
}

describe('containerd interop', {skip: ctrMissing}, () => {
  let reg: RunningRegistry
  let tmp: TmpDir
  let containerd: Containerd
  let app: PushedFixture
  let index: PushedFixture

  before(async () => {
    reg = await startRegistry({flavour: 'plain'})
    tmp = await tmpDir('containerd-interop')
    containerd = await startContainerd()
    app = await pushFixture(reg, 'ctr/app:1', 'docker', 'ctr-app')
    index = await pushFixture(reg, 'ctr/index:1', 'index', 'ctr-index')
  })
  after(async () => {
    await containerd?.stop()
    await reg?.stop()
    await tmp?.remove()
  })

  it('ctr images import takes ocitool\'s docker-archive and oci-archive (an index), unpacked, digests kept', async () => {
    const docker = join(tmp.path, 'app-docker.tar')
    const oci = join(tmp.path, 'index-oci.tar')
    assert.equal(await ok(['copy', `${reg.host}/ctr/app:1`, `docker-archive:${docker}:localhost/app:1`]), `docker-archive:${docker}@${app.manifestDigest}\n`)
    assert.equal(await ok(['copy', `${reg.host}/ctr/index:1`, `oci-archive:${oci}:localhost/index:1`]), `oci-archive:${oci}@${index.manifestDigest}\n`)
    await containerd.ctr(['images', 'import', docker])
    await containerd.ctr(['images', 'import', '--all-platforms', oci])
    const ls = await images(containerd)
    assert.equal(ls.get('localhost/index:1'), index.manifestDigest)
    // from a docker archive containerd writes its own manifest: same config, same layer blobs
    const manifest = JSON.parse((await containerd.ctr(['content', 'get', ls.get('localhost/app:1')!])).stdout)
    assert.equal(manifest.config.digest, app.images[0].configDigest)
    assert.deepEqual(manifest.layers.map((l: {digest: string}) => l.digest), app.images[0].layerDigests)
    const check = (await containerd.ctr(['images', 'check'])).stdout
    for (const name of ['localhost/app:1', 'localhost/index:1']) assert.match(check, new RegExp(`^${name}\\s.*\\scomplete \\(\\d+/\\d+\\)\\s`, 'm'), check)
  })

  it('ctr pulls what ocitool pushed; ocitool reads ctr images export and ctr images push', async () => {
    const oci = join(tmp.path, 'index-oci.tar')
    assert.equal(await ok(['push', `oci-archive:${oci}:localhost/index:1`, `${reg.host}/ctr/pushed:1`]), `${reg.host}/ctr/pushed@${index.manifestDigest}\n`)
    await containerd.ctr(['images', 'pull', '--plain-http', '--all-platforms', `${reg.host}/ctr/pushed:1`])
    const ls = await images(containerd)
    assert.equal(ls.get(`${reg.host}/ctr/pushed:1`), index.manifestDigest)
    const appDigest = ls.get('localhost/app:1')!

    // an export of two images: each picked by the full name containerd gives it
    const exported = join(tmp.path, 'export.tar')
    await containerd.ctr(['images', 'export', '--all-platforms', exported, `${reg.host}/ctr/pushed:1`, 'localhost/app:1'])
    assert.equal(await ok(['digest', `oci-archive:${exported}:${reg.host}/ctr/pushed:1`]), `${index.manifestDigest}\n`)
    assert.equal(await ok(['copy', `oci-archive:${exported}:localhost/app:1`, `${reg.host}/ctr/exported:1`]), `${reg.host}/ctr/exported@${appDigest}\n`)
    await ok(['validate', `${reg.host}/ctr/exported:1`])
    const platform = index.images[1].platform
    const arm = await ok(['digest', '--platform', `${platform.os}/${platform.architecture}/${platform.variant}`, `oci-archive:${exported}:${reg.host}/ctr/pushed:1`])
    assert.equal(arm, `${index.images[1].manifestDigest}\n`)

    await containerd.ctr(['images', 'push', '--plain-http', `${reg.host}/ctr/by-ctr:1`, 'localhost/app:1'])
    assert.equal(await ok(['digest', `${reg.host}/ctr/by-ctr:1`]), `${appDigest}\n`)
    assert.equal(await ok(['config', `${reg.host}/ctr/by-ctr:1`]), app.images[0].configBytes.toString('utf8'))
  })
})
