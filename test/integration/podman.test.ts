// ocitool and podman (software nobody here wrote) read each other's images through the real
// distribution registry and through `ocitool registry serve`: podman's `--digestfile` is the
// digest ocitool reads, podman pulls what ocitool pushes with the digest, image ID and layers
// ocitool names, and the files inside are byte for byte the ones packed. Podman runs rootful,
// vfs storage in temp dirs (test/support/podman.ts); npm test installs it.
import assert from 'node:assert/strict'
import {readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {runCli} from '../support/cli.js'
import {sha256, skopeo, writeOciLayout, type BuiltIndex} from '../support/fixtures.js'
import {layerTar} from '../support/layer-tar.js'
import {buildScratchImage, podmanMissing, startBuildah, startPodman, type Buildah, type Podman} from '../support/podman.js'
import {startRegistry, type RunningRegistry} from '../support/registry.js'
import {serveCli, type ServingCli} from '../support/serve-cli.js'
import {tmpDir, type TmpDir} from '../support/tmp.js'

interface PodmanImage {
  Id: string
  Digest: string
  RepoDigests: string[]
  RootFS: {Layers: string[]}
  Architecture: string
}

async function inspectImage(podman: Podman, name: string): Promise<PodmanImage> {
  return (JSON.parse((await podman(['image', 'inspect', name])).stdout) as PodmanImage[])[0]
}

async function ok(args: string[]): Promise<Buffer> {
  const r = await runCli(args)
  assert.equal(r.code, 0, `ocitool ${args.join(' ')}: ${r.stderr}`)
  return r.stdoutBytes
}

/** podmanPush pushes `name` to `dest` (a docker:// reference) and returns podman's --digestfile. */
async function podmanPush(podman: Podman, tmp: TmpDir, name: string, dest: string, format: string): Promise<string> {
  const file = join(tmp.path, `digest-${format}-${Math.random().toString(36).slice(2)}`)
  await podman(['push', '--quiet', '--tls-verify=false', '--format', format, '--digestfile', file, name, `docker://${dest}`])
  const digest = (await readFile(file, 'utf8')).trim()
  assert.match(digest, /^sha256:[0-9a-f]{64}$/)
  return digest
}

describe('podman interop', {skip: podmanMissing}, () => {
  let reg: RunningRegistry
  let tmp: TmpDir
  let podman: Podman
  let buildah: Buildah
  let imageId: string

  before(async () => {
    reg = await startRegistry({flavour: 'plain'})
    tmp = await tmpDir('podman-interop')
    podman = await startPodman()
    // buildah builds into podman's storage, as `podman build` would
    buildah = await startBuildah(podman.storage)
    imageId = await buildScratchImage(buildah, join(tmp.path, 'ctx'), 'localhost/app:1')
    assert.equal((await inspectImage(podman, 'localhost/app:1')).Id, imageId)
  })
  after(async () => {
    await reg?.stop()
    await podman?.storage.remove()
    await tmp?.remove()
  })

  it('podman push (oci and v2s2) to the distribution registry: ocitool reads the digest podman wrote', async () => {
    for (const format of ['oci', 'v2s2']) {
      const ref = `${reg.host}/podman/app:${format}`
      const digest = await podmanPush(podman, tmp, 'localhost/app:1', ref, format)
      assert.equal(sha256(await ok(['manifest', ref])), digest, format)
      assert.equal(sha256(await ok(['config', ref])), `sha256:${imageId}`, format)
      if (format === 'oci') continue
      assert.equal((await ok(['digest', ref])).toString(), `${digest}\n`)
      await ok(['validate', ref])
      // and ocitool moves it on without changing a byte
      assert.equal((await ok(['copy', ref, `${reg.host}/podman/copied:1`])).toString(), `${reg.host}/podman/copied@${digest}\n`)
    }
  })

  it('ocitool append and copy push; podman pull and image inspect agree on digest, ID, layers and file bytes', async () => {
    const tar = await layerTar([{name: 'etc/', type: 'directory'}, {name: 'etc/motd', body: 'pushed by ocitool\n'}, {name: 'etc/link', type: 'symlink', linkname: 'motd'}])
    await writeFile(join(tmp.path, 'layer.tar'), tar)
    const out = (await ok(['append', '-f', join(tmp.path, 'layer.tar'), '-t', `${reg.host}/podman/ocitool:1`])).toString().trim()
    const digest = out.slice(out.indexOf('@') + 1)
    assert.equal(out, `${reg.host}/podman/ocitool@${digest}`)
    const configDigest = sha256(await ok(['config', `${reg.host}/podman/ocitool:1`]))

    const index = await writeOciLayout(join(tmp.path, 'index-layout'), {seed: 'podman-index', tag: 'multi'})
    assert.equal((await ok(['copy', `oci:${join(tmp.path, 'index-layout')}:multi`, `${reg.host}/podman/index:1`])).toString(), `${reg.host}/podman/index@${index.manifestDigest}\n`)

    const puller = await startPodman()
    try {
      await puller(['pull', '--quiet', '--tls-verify=false', `${reg.host}/podman/ocitool:1`])
      const img = await inspectImage(puller, `${reg.host}/podman/ocitool:1`)
      assert.equal(img.Digest, digest)
      assert.equal(`sha256:${img.Id}`, configDigest)
      assert.deepEqual(img.RootFS.Layers, [sha256(tar)])
      const mount = (await puller(['image', 'mount', `${reg.host}/podman/ocitool:1`])).stdout.trim()
      try {
        assert.equal(await readFile(join(mount, 'etc/motd'), 'utf8'), 'pushed by ocitool\n')
      } finally {
        await puller(['image', 'unmount', `${reg.host}/podman/ocitool:1`])
      }
      await checkIndexPull(puller, `${reg.host}/podman/index:1`, index)
    } finally {
      await puller.storage.remove()
    }
  })

  it('ocitool registry serve: podman pushes (an image, a manifest list) and pulls, skopeo and ocitool copy to the distribution registry, digests kept', async () => {
    const serve: ServingCli = await serveCli([])
    try {
      const pushed: Record<string, string> = {}
      for (const format of ['oci', 'v2s2']) {
        const ref = `${serve.host}/podman/app:${format}`
        pushed[format] = await podmanPush(podman, tmp, 'localhost/app:1', ref, format)
        assert.equal((await ok(['digest', ref])).toString(), `${pushed[format]}\n`)
        const raw = await skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${ref}`])
        assert.equal(raw.code, 0, raw.stderr)
        assert.equal(sha256(raw.stdoutBytes), pushed[format])
      }
      const puller = await startPodman()
      try {
        for (const format of ['oci', 'v2s2']) {
          const ref = `${serve.host}/podman/app:${format}`
          await puller(['pull', '--quiet', '--tls-verify=false', ref])
          const img = await inspectImage(puller, ref)
          assert.equal(img.Id, imageId)
          assert.ok(img.RepoDigests.includes(`${serve.host}/podman/app@${pushed[format]}`), `${format}: ${img.RepoDigests}`)
        }
      } finally {
        await puller.storage.remove()
      }
      const copied = join(tmp.path, 'skopeo-digest')
      const s = await skopeo(['copy', '--quiet', '--preserve-digests', '--src-tls-verify=false', '--dest-tls-verify=false', '--digestfile', copied,
        `docker://${serve.host}/podman/app:v2s2`, `docker://${reg.host}/podman/from-serve:1`])
      assert.equal(s.code, 0, s.stderr)
      assert.equal((await readFile(copied, 'utf8')).trim(), pushed.v2s2)
      assert.equal((await ok(['digest', `${reg.host}/podman/from-serve:1`])).toString(), `${pushed.v2s2}\n`)

      // a two-platform list: podman manifest push --all
      await podman(['manifest', 'create', 'localhost/app:list'])
      for (const arch of ['amd64', 'arm64']) {
        const container = (await buildah(['from', '--quiet', '--arch', arch, 'scratch'])).stdout.trim()
        await buildah(['config', '--arch', arch, '--env', `ARCH=${arch}`, container])
        await buildah(['commit', '--quiet', '--rm', '--timestamp', '0', container, `localhost/app:${arch}`])
        await podman(['manifest', 'add', 'localhost/app:list', `containers-storage:localhost/app:${arch}`])
      }
      const listFile = join(tmp.path, 'list-digest')
      await podman(['manifest', 'push', '--quiet', '--all', '--tls-verify=false', '--digestfile', listFile, 'localhost/app:list', `docker://${serve.host}/podman/list:1`])
      const list = (await readFile(listFile, 'utf8')).trim()
      const index = JSON.parse((await ok(['manifest', `${serve.host}/podman/list:1`])).toString())
      assert.deepEqual(index.manifests.map((m: {platform: {architecture: string}}) => m.platform.architecture), ['amd64', 'arm64'])
      await ok(['validate', `${serve.host}/podman/list:1`])
      assert.equal((await ok(['copy', `${serve.host}/podman/list:1`, `${reg.host}/podman/list:1`])).toString(), `${reg.host}/podman/list@${list}\n`)
    } finally {
      assert.equal(await serve.stop(), 0)
    }
  })
})

/** checkIndexPull: podman picks each platform of an index ocitool pushed, with that image's config. */
async function checkIndexPull(puller: Podman, ref: string, index: BuiltIndex): Promise<void> {
  for (const im of index.images.slice(0, 2)) {
    const {architecture, variant} = im.platform
    await puller(['pull', '--quiet', '--tls-verify=false', '--arch', architecture, ...(variant ? ['--variant', variant] : []), ref])
    const img = await inspectImage(puller, ref)
    assert.equal(`sha256:${img.Id}`, im.configDigest, architecture)
    assert.equal(img.Architecture, architecture)
    assert.deepEqual(img.RootFS.Layers, im.diffIds)
    assert.ok(img.RepoDigests.some((d) => d.endsWith(`@${index.manifestDigest}`) || d.endsWith(`@${im.manifestDigest}`)), `${img.RepoDigests}`)
  }
}
