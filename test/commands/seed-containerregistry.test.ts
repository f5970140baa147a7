// Seed 001 (google/containerregistry's tools): each tool's usage line, run through bash with
// `ocitool pull|push|digest|flatten` for puller.par, pusher.par, digester.par and flatten.par and
// the tools' own flag names, against the real registry: the puller's "fast" directory, the
// pusher reading it back (--config/--digest/--layer/--manifest, --tarball as base or alone),
// the digester's --output-digest, the importer's formats, --client-config-dir for credentials.
import assert from 'node:assert/strict'
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import {after, before, describe, it} from 'node:test'
import {runCli} from '../support/cli.js'
import {makeLayerTar, pushFixture, sha256, type PushedFixture} from '../support/fixtures.js'
import {type RunningRegistry, startRegistry} from '../support/registry.js'
import {sh} from '../support/shell.js'
import {tmpDir, type TmpDir} from '../support/tmp.js'

describe('seed 001 containerregistry tools', () => {
  let reg: RunningRegistry
  let basic: RunningRegistry
  let work: TmpDir
  let app: PushedFixture
  let multi: PushedFixture
  let fast: string
  const cmd = (line: string) => sh(line, {cwd: work.path})
  before(async () => {
    ;[reg, basic, work] = await Promise.all([startRegistry({flavour: 'plain'}), startRegistry({flavour: 'basic'}), tmpDir('seed-cr')])
    ;[app, multi] = await Promise.all([pushFixture(reg, 'app:v1', 'docker', 'cr-app'), pushFixture(reg, 'multi:v1', 'index', 'cr-multi')])
    await pushFixture(basic, 'private:v1', 'docker', 'cr-app')
    fast = path.join(work.path, 'fast')
  })
  after(async () => {
    await Promise.all([reg?.stop(), basic?.stop(), work?.remove()])
  })

  it('puller.par --name NAME --directory DIRECTORY: the fast directory, verified', async () => {
    const r = await cmd(`ocitool pull --name ${reg.host}/app:v1 --directory fast`)
    assert.equal(r.code, 0, r.stderr)
    const im = app.images[0]
    const read = (f: string) => fs.readFile(path.join(fast, f))
    assert.equal((await read('digest')).toString(), app.manifestDigest)
    assert.ok((await read('manifest.json')).equals(app.manifestBytes))
    assert.equal(sha256(await read('config.json')), im.configDigest)
    for (const [i, d] of im.layerDigests.entries()) {
      const n = String(i).padStart(3, '0')
      assert.equal(sha256(await read(`${n}.tar.gz`)), d)
      assert.equal((await read(`${n}.sha256`)).toString(), d.slice(7))
    }
    assert.deepEqual((await fs.readdir(fast)).sort(), ['000.sha256', '000.tar.gz', '001.sha256', '001.tar.gz', 'config.json', 'digest', 'manifest.json'])
  })

  it('puller.par --os OS --architecture ARCHITECTURE --variant VARIANT: one platform of a manifest list', async () => {
    const r = await cmd(`ocitool pull --name ${reg.host}/multi:v1 --directory arm --os linux --architecture arm64 --variant v8`)
    assert.equal(r.code, 0, r.stderr)
    assert.equal(await fs.readFile(path.join(work.path, 'arm', 'digest'), 'utf8'), multi.images[1].manifestDigest)
    const def = await cmd(`ocitool pull --name ${reg.host}/multi:v1 --directory amd`)
    assert.equal(def.code, 0, def.stderr)
    assert.equal(await fs.readFile(path.join(work.path, 'amd', 'digest'), 'utf8'), multi.images[0].manifestDigest, 'linux/amd64 by default')
  })

  it('puller.par --os OS --os-version OS_VERSION --os-features … --architecture … --features …: the entry with all of them', async () => {
    const [a, b] = multi.images
    const index = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        {mediaType: a.mediaType, digest: a.manifestDigest, size: a.manifestBytes.length, platform: {os: 'linux', architecture: 'amd64', 'os.version': '1.0'}},
        {mediaType: b.mediaType, digest: b.manifestDigest, size: b.manifestBytes.length, platform: {os: 'linux', architecture: 'amd64', 'os.version': '2.0', 'os.features': ['f1'], features: ['sse4']}},
      ],
    })
    const put = await fetch(`${reg.url}/v2/multi/manifests/versions`, {method: 'PUT', body: index, headers: {'content-type': 'application/vnd.oci.image.index.v1+json'}})
    assert.equal(put.status, 201, await put.text())
    const two = await cmd(`ocitool pull --name ${reg.host}/multi:versions --directory v2 --os linux --os-version 2.0 --os-features f1 --architecture amd64 --features sse4`)
    assert.equal(two.code, 0, two.stderr)
    assert.equal(await fs.readFile(path.join(work.path, 'v2', 'digest'), 'utf8'), b.manifestDigest)
    const one = await cmd(`ocitool pull --name ${reg.host}/multi:versions --directory v1 --os linux --os-version 1.0 --architecture amd64`)
    assert.equal(one.code, 0, one.stderr)
    assert.equal(await fs.readFile(path.join(work.path, 'v1', 'digest'), 'utf8'), a.manifestDigest)
    const none = await cmd(`ocitool pull --name ${reg.host}/multi:versions --directory v3 --os linux --os-version 1.0 --os-features f1 --architecture amd64`)
    assert.equal(none.code, 3, none.stderr)
    await assert.rejects(fs.stat(path.join(work.path, 'v3', 'digest')), 'nothing written')
  })

  it('--client-config-dir CLIENT_CONFIG_DIR: credentials from that config.json (puller and pusher)', async () => {
    const none = await cmd(`ocitool pull --name ${basic.host}/private:v1 --directory private`)
    assert.equal(none.code, 4, none.stderr)
    await fs.mkdir(path.join(work.path, 'cfg'))
    const auth = Buffer.from(`alice:${basic.users.alice}`).toString('base64')
    await fs.writeFile(path.join(work.path, 'cfg', 'config.json'), JSON.stringify({auths: {[basic.host]: {auth}}}))
    const r = await cmd(`ocitool pull --name ${basic.host}/private:v1 --directory private --client-config-dir cfg`)
    assert.equal(r.code, 0, r.stderr)
    assert.equal(await fs.readFile(path.join(work.path, 'private', 'digest'), 'utf8'), app.manifestDigest)
    const p = await cmd(`ocitool push --name ${basic.host}/private:copy --config private/config.json --manifest private/manifest.json --layer private/000.tar.gz --layer private/001.tar.gz --client-config-dir cfg`)
    assert.equal(p.code, 0, p.stderr)
    assert.equal(p.stdout, `${basic.host}/private@${app.manifestDigest}\n`)
  })

  it('pusher.par --name NAME --config CONFIG --manifest MANIFEST --digest DIGEST --layer LAYER: the puller\'s files pushed back, same digest', async () => {
    const layers = '--digest fast/000.sha256 --layer fast/000.tar.gz --digest fast/001.sha256 --layer fast/001.tar.gz'
    const r = await cmd(`ocitool push --name ${reg.host}/pushed:exact --config fast/config.json --manifest fast/manifest.json ${layers}`)
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, `${reg.host}/pushed@${app.manifestDigest}\n`)
    const built = await cmd(`ocitool push --name ${reg.host}/pushed:built --config fast/config.json ${layers}`)
    assert.equal(built.code, 0, built.stderr)
    const m = JSON.parse((await runCli(['manifest', `${reg.host}/pushed:built`])).stdout) as {layers: Array<{digest: string}>; config: {digest: string}}
    assert.deepEqual(m.layers.map((l) => l.digest), app.images[0].layerDigests)
    assert.equal(m.config.digest, app.images[0].configDigest)
    const oci = await cmd(`ocitool push --name ${reg.host}/pushed:oci --config fast/config.json ${layers} --oci`)
    assert.equal(oci.code, 0, oci.stderr)
    assert.equal(JSON.parse((await runCli(['manifest', `${reg.host}/pushed:oci`])).stdout).mediaType, 'application/vnd.oci.image.manifest.v1+json')
    // a --digest file that does not name its --layer: exit 6, nothing pushed
    const bad = await cmd(`ocitool push --name ${reg.host}/pushed:bad --config fast/config.json --digest fast/001.sha256 --layer fast/000.tar.gz`)
    assert.equal(bad.code, 6, bad.stderr)
    assert.equal((await runCli(['digest', `${reg.host}/pushed:bad`])).code, 3)
  })

  it('pusher.par --tarball TARBALL: alone the image, with --config the base of the --layer files; --stamp-info-file in --name', async () => {
    const pulled = await cmd(`ocitool pull ${reg.host}/app:v1 base.tar`)
    assert.equal(pulled.code, 0, pulled.stderr)
    const alone = await cmd(`ocitool push --name ${reg.host}/fromtar:v1 --tarball base.tar`)
    assert.equal(alone.code, 0, alone.stderr)
    assert.equal(alone.stdout, `${reg.host}/fromtar@${app.manifestDigest}\n`)
    // the base's layers, then one more: the config lists all their diff_ids
    const extra = await makeLayerTar('cr-extra')
    await fs.writeFile(path.join(work.path, 'extra.tar'), extra)
    const config = JSON.parse(app.images[0].configBytes.toString()) as {rootfs: {diff_ids: string[]}}
    config.rootfs.diff_ids.push(sha256(extra))
    await fs.writeFile(path.join(work.path, 'config2.json'), JSON.stringify(config))
    const r = await cmd(`ocitool push --name ${reg.host}/layered:v2 --tarball base.tar --config config2.json --layer extra.tar`)
    assert.equal(r.code, 0, r.stderr)
    const m = JSON.parse((await runCli(['manifest', `${reg.host}/layered:v2`])).stdout) as {layers: Array<{digest: string}>}
    assert.deepEqual(m.layers.slice(0, 2).map((l) => l.digest), app.images[0].layerDigests)
    assert.equal(m.layers.length, 3)
    const v = await runCli(['validate', '--remote', `${reg.host}/layered:v2`])
    assert.equal(v.code, 0, v.stderr)
    // --stamp-info-file STAMP_INFO_FILE: {KEY} in --name from the stamp file's "KEY value" lines
    await fs.writeFile(path.join(work.path, 'stable-status.txt'), 'BUILD_USER fred\nBUILD_TAG v9\n')
    const stamped = await cmd(`ocitool push --name ${reg.host}/{BUILD_USER}/app:{BUILD_TAG} --tarball base.tar --stamp-info-file stable-status.txt`)
    assert.equal(stamped.code, 0, stamped.stderr)
    assert.equal(stamped.stdout, `${reg.host}/fred/app@${app.manifestDigest}\n`)
    assert.equal((await runCli(['digest', `${reg.host}/fred/app:v9`])).stdout, `${app.manifestDigest}\n`)
  })

  it('digester.par --output-digest OUTPUT_DIGEST with --config/--manifest/--digest/--layer [--oci], or --tarball', async () => {
    const layers = '--digest fast/000.sha256 --layer fast/000.tar.gz --digest fast/001.sha256 --layer fast/001.tar.gz'
    const r = await cmd(`ocitool digest --config fast/config.json --manifest fast/manifest.json ${layers} --output-digest d1`)
    assert.equal(r.code, 0, r.stderr)
    assert.equal(await fs.readFile(path.join(work.path, 'd1'), 'utf8'), app.manifestDigest)
    // without --manifest: the digest of the manifest push would build from the same files
    const oci = await cmd(`ocitool digest --config fast/config.json ${layers} --oci --output-digest d2`)
    assert.equal(oci.code, 0, oci.stderr)
    const pushed = await cmd(`ocitool push --name ${reg.host}/digested:oci --config fast/config.json ${layers} --oci`)
    assert.equal(pushed.stdout.trim().split('@')[1], await fs.readFile(path.join(work.path, 'd2'), 'utf8'))
    const tar = await cmd('ocitool digest --tarball base.tar --output-digest d3')
    assert.equal(tar.code, 0, tar.stderr)
    assert.equal(await fs.readFile(path.join(work.path, 'd3'), 'utf8'), app.manifestDigest)
  })

  it('appender.par --src-image SRC_IMAGE --tarball TARBALL --dst-image DST_IMAGE [--stderrthreshold STDERRTHRESHOLD]', async () => {
    const tar = await makeLayerTar('cr-appended')
    await fs.writeFile(path.join(work.path, 'appended.tar'), tar)
    const r = await cmd(`ocitool append --src-image ${reg.host}/app:v1 --tarball appended.tar --dst-image ${reg.host}/app:appended --stderrthreshold INFO`)
    assert.equal(r.code, 0, r.stderr)
    const m = JSON.parse((await runCli(['manifest', `${reg.host}/app:appended`])).stdout) as {layers: Array<{digest: string}>}
    assert.deepEqual(m.layers.slice(0, -1).map((l) => l.digest), app.images[0].layerDigests, 'the base layers, unchanged')
    const c = JSON.parse((await runCli(['config', `${reg.host}/app:appended`])).stdout) as {rootfs: {diff_ids: string[]}}
    assert.deepEqual(c.rootfs.diff_ids, [...app.images[0].diffIds, sha256(tar)], 'then the tarball')
    assert.equal(r.stdout.trim().split('@')[1], (await runCli(['digest', `${reg.host}/app:appended`])).stdout.trim())
    const bad = await cmd(`ocitool append --src-image ${reg.host}/app:v1 --tarball appended.tar --dst-image ${reg.host}/app:x --stderrthreshold LOUD`)
    assert.equal(bad.code, 2, bad.stderr)
    assert.equal((await runCli(['digest', `${reg.host}/app:x`])).code, 3, 'nothing pushed')
  })

  it('$ bazel run @containerregistry//:{puller,pusher,importer,flatten,appender,digester}.par -- --help: each usage line\'s flags are in the help', async () => {
    const tools: Array<[string, string[]]> = [
      ['pull', ['--name', '--directory', '--os', '--os-version', '--os-features', '--architecture', '--variant', '--features', '--client-config-dir', '--stderrthreshold']],
      ['push', ['--name', '--tarball', '--config', '--manifest', '--digest', '--layer', '--stamp-info-file', '--oci', '--client-config-dir', '--stderrthreshold']],
      ['pull', ['--tarball', '--format', '--directory']],
      ['flatten', ['--tarball', '--config', '--digest', '--layer', '--uncompressed_layer', '--diff_id', '--filesystem', '--metadata', '--stderrthreshold']],
      ['append', ['--src-image', '--tarball', '--dst-image', '--stderrthreshold']],
      ['digest', ['--tarball', '--output-digest', '--config', '--manifest', '--digest', '--layer', '--oci', '--stderrthreshold']],
    ]
    for (const [command, names] of tools) {
      const r = await cmd(`ocitool ${command} --help`)
      assert.equal(r.code, 0, r.stderr)
      for (const n of names) assert.match(r.stdout, new RegExp(`${n}\\b`), `${command} --help names ${n}`)
    }
    // and every tool takes --stderrthreshold as its usage line shows
    const d = await cmd('ocitool digest --tarball base.tar --output-digest d4 --stderrthreshold ERROR')
    assert.equal(d.code, 0, d.stderr)
    assert.equal(await fs.readFile(path.join(work.path, 'd4'), 'utf8'), app.manifestDigest)
  })

  it('importer.par --tarball TARBALL --format {tar,tar.gz} --directory DIRECTORY', async () => {
    const gz = await cmd('ocitool pull --tarball base.tar --format tar.gz --directory imported')
    assert.equal(gz.code, 0, gz.stderr)
    for (const f of ['config.json', 'digest', 'manifest.json', '000.tar.gz', '000.sha256', '001.tar.gz', '001.sha256']) {
      assert.ok((await fs.readFile(path.join(work.path, 'imported', f))).equals(await fs.readFile(path.join(fast, f))), `${f} as the puller wrote it`)
    }
    const tar = await cmd('ocitool pull --tarball base.tar --format tar --directory plain')
    assert.equal(tar.code, 0, tar.stderr)
    for (const [i, diffId] of app.images[0].diffIds.entries()) {
      const n = String(i).padStart(3, '0')
      assert.equal(sha256(await fs.readFile(path.join(work.path, 'plain', `${n}.tar`))), diffId)
      assert.equal(await fs.readFile(path.join(work.path, 'plain', `${n}.sha256`), 'utf8'), diffId.slice(7))
    }
    const bad = await cmd('ocitool pull --tarball base.tar --format oci --directory x')
    assert.equal(bad.code, 2, bad.stderr)
  })

  it('flatten.par --tarball TARBALL --filesystem FILESYSTEM --metadata METADATA', async () => {
    const r = await cmd('ocitool flatten --tarball base.tar --filesystem fs.tar --metadata meta.json')
    assert.equal(r.code, 0, r.stderr)
    const list = await cmd('tar tf fs.tar')
    assert.equal(list.code, 0, list.stderr)
    assert.ok(list.stdout.trim().length > 0)
    const meta = JSON.parse(await fs.readFile(path.join(work.path, 'meta.json'), 'utf8')) as {rootfs?: unknown}
    assert.ok(meta.rootfs, 'the metadata is the image config')
  })

  it('flatten.par --config CONFIG --digest DIGEST --layer LAYER --uncompressed_layer UNCOMPRESSED_LAYER --diff_id DIFF_ID --filesystem … --metadata …', async () => {
    const r = await cmd('ocitool flatten --config fast/config.json --digest fast/000.sha256 --layer fast/000.tar.gz --uncompressed_layer plain/001.tar --diff_id plain/001.sha256 --filesystem fs2.tar --metadata meta2.json')
    assert.equal(r.code, 0, r.stderr)
    assert.ok((await fs.readFile(path.join(work.path, 'fs2.tar'))).equals(await fs.readFile(path.join(work.path, 'fs.tar'))), 'the same filesystem as from the tarball')
    assert.ok((await fs.readFile(path.join(work.path, 'meta2.json'))).equals(app.images[0].configBytes))
    const bad = await cmd('ocitool flatten --config fast/config.json --uncompressed_layer plain/001.tar --diff_id plain/000.sha256 --filesystem fs3.tar')
    assert.equal(bad.code, 6, bad.stderr)
    await assert.rejects(fs.stat(path.join(work.path, 'fs3.tar')), 'nothing written')
  })
})
