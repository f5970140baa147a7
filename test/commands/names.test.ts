// Store names as skopeo and podman write them (issue 16): `oci:DIR:REF` with colons in REF,
// `push` of every store name, `-` for stdin/stdout wherever a file is taken. Files are written
// by skopeo and podman (software nobody here wrote); digests are compared everywhere.
import assert from 'node:assert/strict'
import {existsSync} from 'node:fs'
import {mkdir, readFile} from 'node:fs/promises'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {repoRoot, runCli} from '../support/cli.js'
import {type PushedFixture, pushFixture, sha256, skopeo, writeImageDir} from '../support/fixtures.js'
import {run} from '../support/exec.js'
import {type Podman, ctrMissing, podmanMissing, startContainerd, startPodman} from '../support/podman.js'
import {type RunningRegistry, startRegistry} from '../support/registry.js'
import {type TmpDir, tmpDir} from '../support/tmp.js'

async function rawDigest(reg: RunningRegistry, ref: string): Promise<string> {
  const r = await skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/${ref}`])
  assert.equal(r.code, 0, r.stderr)
  return sha256(r.stdoutBytes)
}

async function configDigest(reg: RunningRegistry, ref: string): Promise<string> {
  const r = await skopeo(['inspect', '--raw', '--tls-verify=false', `docker://${reg.host}/${ref}`])
  assert.equal(r.code, 0, r.stderr)
  return JSON.parse(r.stdout).config.digest
}

describe('store names (issue 16)', () => {
  let reg: RunningRegistry
  let tmp: TmpDir
  let img: PushedFixture
  before(async () => {
    reg = await startRegistry({flavour: 'plain'})
    tmp = await tmpDir('names')
    img = await pushFixture(reg, 'names/app:v1', 'oci', 'names-app')
  })
  after(async () => {
    await reg?.stop()
    await tmp?.remove()
  })

  it('oci:DIR:REF splits at the first colon: the reference may hold colons (as skopeo)', async () => {
    const r = await runCli(['copy', `${reg.host}/names/app:v1`, 'oci:lay:myapp:1'], {cwd: tmp.path})
    assert.equal(r.code, 0, r.stderr)
    assert.ok(existsSync(join(tmp.path, 'lay', 'index.json')), 'directory lay')
    assert.ok(!existsSync(join(tmp.path, 'lay:myapp')), 'no directory lay:myapp')
    const index = JSON.parse(await readFile(join(tmp.path, 'lay', 'index.json'), 'utf8'))
    assert.equal(index.manifests[0].annotations['org.opencontainers.image.ref.name'], 'myapp:1')
    // skopeo reads the same name
    const s = await skopeo(['inspect', '--raw', `oci:${join(tmp.path, 'lay')}:myapp:1`])
    assert.equal(s.code, 0, s.stderr)
    assert.equal(sha256(s.stdoutBytes), img.manifestDigest)
    // an oci-archive keeps the whole REF too
    const arch = await runCli(['copy', `${reg.host}/names/app:v1`, 'oci-archive:a.tar:localhost/app:1'], {cwd: tmp.path})
    assert.equal(arch.code, 0, arch.stderr)
    const archIndex = JSON.parse((await run('tar', ['-xOf', join(tmp.path, 'a.tar'), 'index.json'])).stdout)
    assert.equal(archIndex.manifests[0].annotations['org.opencontainers.image.ref.name'], 'localhost/app:1')
    // a colon in the path is written \:
    const c = await runCli(['copy', `${reg.host}/names/app:v1`, 'oci:my\\:dir:2'], {cwd: tmp.path})
    assert.equal(c.code, 0, c.stderr)
    assert.ok(existsSync(join(tmp.path, 'my:dir', 'index.json')))
    assert.equal(c.stdout.trim(), `oci:my\\:dir@${img.manifestDigest}`)
  })

  it('oci:DIR:localhost/base:2 selects that image in a layout skopeo wrote', async () => {
    const two = join(tmp.path, 'two')
    for (const [ref, name] of [['names/app:v1', 'localhost/base:2'], ['names/app:v1', 'localhost/other:1']]) {
      const s = await skopeo(['copy', '--quiet', '--tls-verify=false', `docker://${reg.host}/${ref}`, `oci:${two}:${name}`])
      assert.equal(s.code, 0, s.stderr)
    }
    const d = await runCli(['digest', `oci:${two}:localhost/base:2`])
    assert.equal(d.code, 0, d.stderr)
    assert.equal(d.stdout.trim(), img.manifestDigest)
    const c = await runCli(['copy', `oci:${two}:localhost/base:2`, `${reg.host}/names/base:2`])
    assert.equal(c.code, 0, c.stderr)
    assert.equal(await rawDigest(reg, 'names/base:2'), img.manifestDigest)
    const missing = await runCli(['digest', `oci:${two}:localhost/base:3`])
    assert.equal(missing.code, 3, missing.stderr)
    assert.match(missing.stderr, /no image named "localhost\/base:3"/)
  })

  describe('files podman wrote', {skip: podmanMissing}, () => {
    let podman: Podman
    let config1: string
    let config2: string
    before(async () => {
      podman = await startPodman()
      const a = await writeImageDir(join(tmp.path, 'pa'), {layers: 2, seed: 'names-podman-a', mediaTypes: 'oci'})
      const b = await writeImageDir(join(tmp.path, 'pb'), {layers: 1, seed: 'names-podman-b', mediaTypes: 'docker'})
      config1 = a.configDigest
      config2 = b.configDigest
      await podman(['pull', '-q', `dir:${join(tmp.path, 'pa')}`])
      await podman(['pull', '-q', `dir:${join(tmp.path, 'pb')}`])
      await podman(['tag', config1.slice(7), 'localhost/app:1'])
      await podman(['tag', config2.slice(7), 'localhost/b:2'])
      await podman(['save', '--format', 'oci-archive', '-o', join(tmp.path, 'podman-save.tar'), 'localhost/app:1'])
      await podman(['save', '-m', '-o', join(tmp.path, 'multi.tar'), 'localhost/app:1', 'localhost/b:2'])
    })
    after(async () => {
      await podman?.storage.remove()
    })

    it('oci-archive:FILE:localhost/app:1 reads what podman save --format oci-archive wrote', async () => {
      const file = join(tmp.path, 'podman-save.tar')
      const c = await runCli(['copy', `oci-archive:${file}:localhost/app:1`, `${reg.host}/names/podman:1`])
      assert.equal(c.code, 0, c.stderr)
      assert.equal(await configDigest(reg, 'names/podman:1'), config1)
      const index = JSON.parse((await run('tar', ['-xOf', file, 'index.json'])).stdout)
      assert.equal(await rawDigest(reg, 'names/podman:1'), index.manifests[0].digest)
    })

    it('push takes docker-archive:FILE:REF, oci-archive:FILE:REF and dir:DIR; digest --tarball takes what its error suggests', async () => {
      const multi = join(tmp.path, 'multi.tar')
      const p1 = await runCli(['push', `docker-archive:${multi}:localhost/b:2`, `${reg.host}/names/pushed:b`])
      assert.equal(p1.code, 0, p1.stderr)
      assert.equal(await configDigest(reg, 'names/pushed:b'), config2)
      const p2 = await runCli(['push', `oci-archive:${join(tmp.path, 'podman-save.tar')}:localhost/app:1`, `${reg.host}/names/pushed:a`])
      assert.equal(p2.code, 0, p2.stderr)
      assert.equal(await configDigest(reg, 'names/pushed:a'), config1)
      const p3 = await runCli(['push', `dir:${join(tmp.path, 'pa')}`, `${reg.host}/names/pushed:dir`])
      assert.equal(p3.code, 0, p3.stderr)
      assert.equal(await configDigest(reg, 'names/pushed:dir'), config1)
      // digest --tarball of a file holding two images: the error names the form to use, and it works
      const d1 = await runCli(['digest', '--tarball', multi])
      assert.equal(d1.code, 2, d1.stderr)
      assert.match(d1.stderr, /name one \(docker-archive:FILE:REF/)
      const d2 = await runCli(['digest', '--tarball', `docker-archive:${multi}:localhost/b:2`])
      assert.equal(d2.code, 0, d2.stderr)
      assert.equal(d2.stdout.trim(), await rawDigest(reg, 'names/pushed:b'))
    })
  })

  it('- is stdin or stdout: blob pull -o -, flatten --filesystem -, push -, validate --tarball -, digest --tarball -', async () => {
    const cfg = img.images[0].configDigest
    const b = await runCli(['blob', 'pull', '-o', '-', `${reg.host}/names/app`, cfg], {cwd: tmp.path})
    assert.equal(b.code, 0, b.stderr)
    assert.equal(sha256(b.stdoutBytes), cfg)
    assert.ok(!existsSync(join(tmp.path, '-')), 'no file named -')

    const tar = join(tmp.path, 'app.tar')
    assert.equal((await runCli(['pull', `${reg.host}/names/app:v1`, tar])).code, 0)
    const bytes = await readFile(tar)
    const f = await runCli(['flatten', '--tarball', tar, '--filesystem', '-'], {cwd: tmp.path})
    assert.equal(f.code, 0, f.stderr)
    assert.ok(!existsSync(join(tmp.path, '-')), 'no file named -')
    await mkdir(join(tmp.path, 'fs'))
    const list = await run('tar', ['-t'], {input: f.stdoutBytes})
    assert.equal(list.code, 0, list.stderr)
    assert.ok(list.stdout.length > 0)

    const p = await runCli(['push', '-', `${reg.host}/names/stdin:1`], {input: bytes})
    assert.equal(p.code, 0, p.stderr)
    assert.equal(p.stdout.trim(), `${reg.host}/names/stdin@${img.manifestDigest}`)
    const v = await runCli(['validate', '--tarball', '-'], {input: bytes})
    assert.equal(v.code, 0, v.stderr)
    const d = await runCli(['digest', '--tarball', '-'], {input: bytes})
    assert.equal(d.code, 0, d.stderr)
    assert.equal(d.stdout.trim(), img.manifestDigest)
  })

  it('global flags before the command, -h on every command, an unknown command exits 2 with "did you mean"', async () => {
    const v = await runCli(['-v', 'ls', `${reg.host}/names/app`])
    assert.equal(v.code, 0, v.stderr)
    assert.match(v.stdout, /^v1$/m)
    assert.match(v.stderr, /--> GET http:\/\/127\.0\.0\.1:\d+\/v2\/names\/app\/tags\/list/)
    const i = await runCli(['--insecure', 'manifest', `${reg.host}/names/app:v1`])
    assert.equal(i.code, 0, i.stderr)
    assert.equal(sha256(i.stdoutBytes), img.manifestDigest)
    const j = await runCli(['--json', '-v', 'digest', `${reg.host}/names/app:v1`])
    assert.equal(j.code, 0, j.stderr)
    assert.equal(JSON.parse(j.stdout).digest, img.manifestDigest)

    const unknown = await runCli(['lss', `${reg.host}/names/app`])
    assert.equal(unknown.code, 2)
    assert.equal(unknown.stderr, 'Error: unknown command "lss" (did you mean "ls"? see: ocitool help)\n')
    const sub = await runCli(['index', 'filtr'])
    assert.equal(sub.code, 2)
    assert.match(sub.stderr, /^Error: unknown command "index filtr" \(did you mean "index filter"/)

    const manifest = JSON.parse(await readFile(join(repoRoot, 'oclif.manifest.json'), 'utf8'))
    const ids = Object.keys(manifest.commands).filter((id) => !manifest.commands[id].hidden)
    assert.ok(ids.length > 20)
    const failures: string[] = []
    for (let k = 0; k < ids.length; k += 6) {
      await Promise.all(ids.slice(k, k + 6).map(async (id) => {
        const h = await runCli([...id.split(':'), '-h'])
        if (h.code !== 0 || !h.stdout.includes('USAGE')) failures.push(`${id}: ${h.code} ${h.stderr.trim()}`)
      }))
    }
    assert.deepEqual(failures, [])
  })

  it('docker://REF is accepted by every command taking an image', async () => {
    const ref = `docker://${reg.host}/names/app:v1`
    const m = await runCli(['manifest', ref])
    assert.equal(m.code, 0, m.stderr)
    assert.equal(sha256(m.stdoutBytes), img.manifestDigest)
    const c = await runCli(['config', ref])
    assert.equal(c.code, 0, c.stderr)
    assert.equal(sha256(c.stdoutBytes), img.images[0].configDigest)
    const l = await runCli(['ls', `docker://${reg.host}/names/app`])
    assert.equal(l.code, 0, l.stderr)
    assert.match(l.stdout, /^v1$/m)
    const t = await runCli(['tag', ref, 'v1-docker'])
    assert.equal(t.code, 0, t.stderr)
    assert.equal(await rawDigest(reg, 'names/app:v1-docker'), img.manifestDigest)
    const v = await runCli(['validate', ref])
    assert.equal(v.code, 0, v.stderr)
  })

  describe('copy -a into local stores, --annotate-ref for podman load and ctr import', () => {
    let v2: PushedFixture
    before(async () => {
      v2 = await pushFixture(reg, 'names/tags:v2', 'oci', 'names-tags-v2')
      for (const t of ['v1', 'v1b']) {
        const s = await skopeo(['copy', '--quiet', '--tls-verify=false', '--preserve-digests', `docker://${reg.host}/names/app:v1`, `docker://${reg.host}/names/tags:${t}`])
        assert.equal(s.code, 0, s.stderr)
      }
    })

    it('copy -a keeps every tag\'s name in oci:, oci-archive: and docker-archive:', async () => {
      const want = {v1: img.manifestDigest, v1b: img.manifestDigest, v2: v2.manifestDigest}
      const lay = join(tmp.path, 'all-tags')
      const o = await runCli(['copy', '-a', `${reg.host}/names/tags`, `oci:${lay}`])
      assert.equal(o.code, 0, o.stderr)
      const index = JSON.parse(await readFile(join(lay, 'index.json'), 'utf8'))
      const names = Object.fromEntries(index.manifests.map((d: {digest: string; annotations: Record<string, string>}) => [d.annotations['org.opencontainers.image.ref.name'], d.digest]))
      assert.deepEqual(names, want)
      const arch = join(tmp.path, 'all-tags-oci.tar')
      assert.equal((await runCli(['copy', '-a', `${reg.host}/names/tags`, `oci-archive:${arch}`])).code, 0)
      const dock = join(tmp.path, 'all-tags-docker.tar')
      const d = await runCli(['copy', '-a', `${reg.host}/names/tags`, `docker-archive:${dock}`])
      assert.equal(d.code, 0, d.stderr)
      for (const [tag, digest] of Object.entries(want)) {
        const s = await skopeo(['inspect', '--raw', `oci-archive:${arch}:${tag}`])
        assert.equal(s.code, 0, s.stderr)
        assert.equal(sha256(s.stdoutBytes), digest)
        const c = await skopeo(['inspect', '--config', '--raw', `docker-archive:${dock}:${reg.host}/names/tags:${tag}`])
        assert.equal(c.code, 0, c.stderr)
        assert.equal(sha256(c.stdoutBytes), digest === img.manifestDigest ? img.images[0].configDigest : v2.images[0].configDigest)
      }
    })

    it('copy --annotate-ref to an oci-archive: podman load names the image by its reference', {skip: podmanMissing}, async () => {
      const file = join(tmp.path, 'annotated.tar')
      const c = await runCli(['copy', `${reg.host}/names/tags:v2`, `oci-archive:${file}`, '--annotate-ref'])
      assert.equal(c.code, 0, c.stderr)
      const index = JSON.parse((await run('tar', ['-xOf', file, 'index.json'])).stdout)
      assert.equal(index.manifests[0].annotations['org.opencontainers.image.ref.name'], `${reg.host}/names/tags:v2`)
      const podman = await startPodman()
      try {
        await podman(['load', '-q', '-i', file])
        const images = (await podman(['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}'])).stdout
        assert.match(images, new RegExp(`^${reg.host}/names/tags:v2 ${v2.images[0].configDigest.slice(7, 19)}`, 'm'))
      } finally {
        await podman.storage.remove()
      }
    })

    it('copy --annotate-ref to an oci-archive: ctr import names the image by its reference', {skip: ctrMissing}, async () => {
      const file = join(tmp.path, 'annotated-ctr.tar')
      const c = await runCli(['copy', `${reg.host}/names/tags:v2`, `oci-archive:${file}`, '--annotate-ref'])
      assert.equal(c.code, 0, c.stderr)
      const containerd = await startContainerd()
      try {
        await containerd.ctr(['images', 'import', file])
        const ls = (await containerd.ctr(['images', 'ls'])).stdout
        assert.match(ls, new RegExp(`^${reg.host}/names/tags:v2\\s+\\S+\\s+${v2.manifestDigest}`, 'm'))
      } finally {
        await containerd.stop()
      }
    })
  })
})
