// ocitool on images buildah built (software nobody here wrote): `buildah from scratch`, `copy`,
// `commit` to an `oci:` layout and a `docker-archive:`; ocitool pushes them with the digests
// skopeo pushes, and what ocitool appends and flattens reads back in skopeo and buildah with
// the layers, diff_ids and file bytes expected. Buildah runs rootful, vfs storage in a temp
// dir (test/support/podman.ts); npm test installs it.
import assert from 'node:assert/strict'
import {readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {gunzipSync} from 'node:zlib'
import {runCli} from '../support/cli.js'
import {sha256, skopeo} from '../support/fixtures.js'
import {layerTar} from '../support/layer-tar.js'
import {buildahMissing, buildScratchImage, scratchFiles, startBuildah, type Buildah} from '../support/podman.js'
import {startRegistry, type RunningRegistry} from '../support/registry.js'
import {tmpDir, type TmpDir} from '../support/tmp.js'

async function ok(args: string[]): Promise<string> {
  const r = await runCli(args)
  assert.equal(r.code, 0, `ocitool ${args.join(' ')}: ${r.stderr}`)
  return r.stdout
}

async function skopeoOk(args: string[]): Promise<Buffer> {
  const r = await skopeo(args)
  assert.equal(r.code, 0, `skopeo ${args.join(' ')}: ${r.stderr}`)
  return r.stdoutBytes
}

/** rawOf returns a registry manifest as skopeo reads it: its digest and parsed document. */
async function rawOf(ref: string): Promise<{digest: string; doc: {config: {digest: string}; layers: {digest: string; mediaType: string}[]}}> {
  const bytes = await skopeoOk(['inspect', '--raw', '--tls-verify=false', `docker://${ref}`])
  return {digest: sha256(bytes), doc: JSON.parse(bytes.toString('utf8'))}
}

async function configOf(ref: string): Promise<{config: {Env?: string[]}; rootfs: {diff_ids: string[]}}> {
  return JSON.parse((await skopeoOk(['inspect', '--config', '--raw', '--tls-verify=false', `docker://${ref}`])).toString('utf8'))
}

describe('buildah interop', {skip: buildahMissing}, () => {
  let reg: RunningRegistry
  let tmp: TmpDir
  let buildah: Buildah
  let imageId: string
  let layout: string
  let archive: string
  let layoutDigest: string

  before(async () => {
    reg = await startRegistry({flavour: 'plain'})
    tmp = await tmpDir('buildah-interop')
    buildah = await startBuildah()
    layout = join(tmp.path, 'layout')
    archive = join(tmp.path, 'app.tar')
    imageId = await buildScratchImage(buildah, join(tmp.path, 'ctx'), 'localhost/app:1', [`oci:${layout}:app:1`, `docker-archive:${archive}:localhost/app:1`])
    const index = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8'))
    assert.equal(index.manifests[0].annotations['org.opencontainers.image.ref.name'], 'app:1')
    layoutDigest = index.manifests[0].digest
  })
  after(async () => {
    await reg?.stop()
    await buildah?.storage.remove()
    await tmp?.remove()
  })

  it('push of buildah\'s oci: layout keeps the digest skopeo copy --preserve-digests pushes', async () => {
    assert.equal(await ok(['digest', `oci:${layout}:app:1`]), `${layoutDigest}\n`)
    assert.equal(await ok(['push', `oci:${layout}:app:1`, `${reg.host}/buildah/oci:1`]), `${reg.host}/buildah/oci@${layoutDigest}\n`)
    const file = join(tmp.path, 'skopeo-oci-digest')
    await skopeoOk(['copy', '--quiet', '--preserve-digests', '--dest-tls-verify=false', '--digestfile', file, `oci:${layout}:app:1`, `docker://${reg.host}/buildah/skopeo-oci:1`])
    assert.equal((await readFile(file, 'utf8')).trim(), layoutDigest)
    const pushed = await rawOf(`${reg.host}/buildah/oci:1`)
    assert.equal(pushed.digest, layoutDigest)
    assert.equal(pushed.doc.config.digest, `sha256:${imageId}`)
  })

  it('push of buildah\'s docker-archive: the config and diff_ids skopeo pushes, layers gzip-compressed and verified', async () => {
    const out = await ok(['push', `docker-archive:${archive}:localhost/app:1`, `${reg.host}/buildah/docker:1`])
    const digest = out.trim().slice(out.indexOf('@') + 1)
    assert.equal(out, `${reg.host}/buildah/docker@${digest}\n`)
    assert.equal(await ok(['digest', '--tarball', `docker-archive:${archive}:localhost/app:1`]), `${digest}\n`)
    await skopeoOk(['copy', '--quiet', '--dest-tls-verify=false', `docker-archive:${archive}:localhost/app:1`, `docker://${reg.host}/buildah/skopeo-docker:1`])
    const ours = await rawOf(`${reg.host}/buildah/docker:1`)
    const theirs = await rawOf(`${reg.host}/buildah/skopeo-docker:1`)
    assert.equal(ours.digest, digest)
    assert.equal(ours.doc.config.digest, `sha256:${imageId}`)
    assert.equal(theirs.doc.config.digest, `sha256:${imageId}`)
    assert.deepEqual(ours.doc.layers.map((l) => l.mediaType), theirs.doc.layers.map((l) => l.mediaType))
    const {rootfs} = await configOf(`${reg.host}/buildah/docker:1`)
    const layer = (await runCli(['blob', `${reg.host}/buildah/docker@${ours.doc.layers[0].digest}`])).stdoutBytes
    assert.equal(sha256(gunzipSync(layer)), rootfs.diff_ids[0])
  })

  it('append and flatten of a buildah image: skopeo sees the layers and diff_ids, buildah mounts the files', async () => {
    await ok(['push', `oci:${layout}:app:1`, `${reg.host}/buildah/base:1`])
    const base = await rawOf(`${reg.host}/buildah/base:1`)
    const baseConfig = await configOf(`${reg.host}/buildah/base:1`)
    const tar = await layerTar([{name: 'etc/', type: 'directory'}, {name: 'etc/motd', body: 'appended by ocitool\n'}])
    await writeFile(join(tmp.path, 'layer.tar'), tar)
    const appended = (await ok(['append', '-b', `${reg.host}/buildah/base:1`, '-f', join(tmp.path, 'layer.tar'), '-t', `${reg.host}/buildah/app:appended`])).trim()
    const a = await rawOf(`${reg.host}/buildah/app:appended`)
    assert.equal(appended, `${reg.host}/buildah/app@${a.digest}`)
    assert.equal(a.doc.layers[0].digest, base.doc.layers[0].digest, 'the base layer is kept as it is')
    assert.equal(a.doc.layers.length, 2)
    const aConfig = await configOf(`${reg.host}/buildah/app:appended`)
    assert.deepEqual(aConfig.rootfs.diff_ids, [...baseConfig.rootfs.diff_ids, sha256(tar)])
    assert.ok(aConfig.config.Env?.includes('GREETING=hello'))

    const flat = (await ok(['flatten', `${reg.host}/buildah/app:appended`, '-t', `${reg.host}/buildah/app:flat`])).trim()
    const f = await rawOf(`${reg.host}/buildah/app:flat`)
    assert.equal(flat, `${reg.host}/buildah/app@${f.digest}`)
    assert.equal(f.doc.layers.length, 1)

    await buildah(['pull', '--quiet', '--tls-verify=false', `docker://${reg.host}/buildah/app:flat`])
    const container = (await buildah(['from', '--quiet', `${reg.host}/buildah/app:flat`])).stdout.trim()
    try {
      const root = (await buildah(['mount', container])).stdout.trim()
      for (const [file, bytes] of Object.entries(scratchFiles)) assert.deepEqual(await readFile(join(root, file)), bytes, file)
      assert.equal(await readFile(join(root, 'etc/motd'), 'utf8'), 'appended by ocitool\n')
    } finally {
      await buildah(['rm', container])
    }
  })
})
