// copy between two basic-auth distribution registries with different users: skopeo's
// --src-creds/--dest-creds and --src-authfile/--dest-authfile, and the per-registry settings
// file (registries.json), each credential going only to its own registry.
import assert from 'node:assert/strict'
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import {after, before, describe, it} from 'node:test'
import {runCli} from '../support/cli.js'
import {type PushedFixture, pushFixture, skopeo, skopeoRegistryArgs} from '../support/fixtures.js'
import {type RunningRegistry, startRegistry} from '../support/registry.js'
import {tmpDir, type TmpDir} from '../support/tmp.js'

describe('copy with per-side credentials', () => {
  let a: RunningRegistry
  let b: RunningRegistry
  let work: TmpDir
  let img: PushedFixture
  const alice = 'alice:alice-secret-pw'
  const bob = 'bob:bob-secret-pw'

  before(async () => {
    ;[a, b, work] = await Promise.all([
      startRegistry({flavour: 'basic', users: {alice: 'alice-secret-pw'}}),
      startRegistry({flavour: 'basic', users: {bob: 'bob-secret-pw'}}),
      tmpDir('copy-creds'),
    ])
    img = await pushFixture(a, 'app/img:v1', 'oci', 'copy-creds')
  })
  after(async () => {
    await a?.stop()
    await b?.stop()
    await work?.remove()
  })

  async function digestOnB(repoTag: string): Promise<string> {
    const r = await skopeo(['inspect', '--raw', ...skopeoRegistryArgs(b, ''), `docker://${b.host}/${repoTag}`])
    assert.equal(r.code, 0, r.stderr)
    return `sha256:${(await import('node:crypto')).createHash('sha256').update(r.stdoutBytes).digest('hex')}`
  }

  const authFile = async (name: string, host: string, userPass: string) => {
    const file = path.join(work.path, name)
    await fs.writeFile(file, JSON.stringify({auths: {[host]: {auth: Buffer.from(userPass).toString('base64')}}}))
    return file
  }

  it('--src-creds and --dest-creds: each registry gets its own user', async () => {
    const r = await runCli(['copy', `${a.host}/app/img:v1`, `${b.host}/mirror/img:v1`, '--src-creds', alice, '--dest-creds', bob])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(await digestOnB('mirror/img:v1'), img.manifestDigest)
  })

  it('--src-authfile and --dest-authfile', async () => {
    const fa = await authFile('a.json', a.host, alice)
    const fb = await authFile('b.json', b.host, bob)
    const r = await runCli(['copy', `${a.host}/app/img:v1`, `${b.host}/mirror/img:v2`, '--src-authfile', fa, '--dest-authfile', fb])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(await digestOnB('mirror/img:v2'), img.manifestDigest)
  })

  it('registries.json: per-registry credentials for every command', async () => {
    const config = path.join(work.path, 'xdg')
    await fs.mkdir(path.join(config, 'ocitool'), {recursive: true})
    const fb = await authFile('b2.json', b.host, bob)
    await fs.writeFile(path.join(config, 'ocitool', 'registries.json'), JSON.stringify({registries: {[a.host]: {username: 'alice', password: 'alice-secret-pw'}, [`http://${b.host}`]: {authfile: fb}}}))
    const env = {XDG_CONFIG_HOME: config}
    const r = await runCli(['copy', `${a.host}/app/img:v1`, `${b.host}/mirror/img:v3`], {env})
    assert.equal(r.code, 0, r.stderr)
    assert.equal(await digestOnB('mirror/img:v3'), img.manifestDigest)
    const d = await runCli(['digest', `${a.host}/app/img:v1`], {env})
    assert.equal(d.stdout.trim(), img.manifestDigest)
  })

  it('wrong or missing credentials: exit 4; bad flags: exit 2', async () => {
    const none = await runCli(['copy', `${a.host}/app/img:v1`, `${b.host}/mirror/img:x`])
    assert.equal(none.code, 4, none.stderr)
    // bob's password is only for b: a refuses it
    const swapped = await runCli(['copy', `${a.host}/app/img:v1`, `${b.host}/mirror/img:x`, '--src-creds', bob, '--dest-creds', bob])
    assert.equal(swapped.code, 4, swapped.stderr)
    assert.doesNotMatch(swapped.stderr, /secret-pw/)
    const srcOnly = await runCli(['copy', `${a.host}/app/img:v1`, `${b.host}/mirror/img:x`, '--src-creds', alice])
    assert.equal(srcOnly.code, 4, srcOnly.stderr)
    const cases: Array<[string[], RegExp]> = [
      [['copy', `${a.host}/app/img:v1`, `${b.host}/m:x`, '--src-creds', 'alice'], /USERNAME:PASSWORD/],
      [['copy', `oci:${work.path}/none`, `${b.host}/m:x`, '--src-creds', alice], /not a registry/],
      [['copy', `${a.host}/app/img:v1`, `${b.host}/m:x`, '--src-creds', alice, '--src-authfile', 'f'], /cannot also be provided|exclusive|--src-authfile/],
      [['copy', `${a.host}/app/img:v1`, `${a.host}/m:x`, '--src-creds', alice, '--dest-creds', bob], /both on/],
    ]
    for (const [args, msg] of cases) {
      const r = await runCli(args)
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`)
      assert.match(r.stderr, msg)
    }
  })
})
