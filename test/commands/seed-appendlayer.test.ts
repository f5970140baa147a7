// Seed 000 (malthe/appendlayer): every command line of its README, run as written through bash
// with `ocitool` in place of `appendlayer`, against the real registry: the layer piped in from
// tar lands on top of the base (its diff_id is the piped tar's digest), in the same repository,
// another repository, and on another host; with REFRESH_TOKEN, ACCESS_TOKEN or DOCKER_CONFIG.
// The token registry speaks Azure Container Registry's OAuth2 endpoints (test/support/token-server.ts:
// `/oauth2/token`, `/oauth2/exchange`), as appendlayer expects. `az` cannot run here (it needs
// Azure), so a stand-in on PATH answers the seed's two `az` lines with what az would print: an
// identity provider's access token, and an ACR refresh token got by exchanging one.
import assert from 'node:assert/strict'
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import {after, before, describe, it} from 'node:test'
import {runCli} from '../support/cli.js'
import {pushFixture, sha256, type PushedFixture} from '../support/fixtures.js'
import {type RunningRegistry, startRegistry} from '../support/registry.js'
import {ocitoolBin, sh} from '../support/shell.js'
import {tmpDir, type TmpDir} from '../support/tmp.js'

interface Doc {
  layers: Array<{digest: string}>
}

describe('seed 000 appendlayer', () => {
  let reg: RunningRegistry
  let other: RunningRegistry
  let tok: RunningRegistry
  let work: TmpDir
  let base: PushedFixture
  let layerDigest: string
  let azPath: string
  /** aad/acr: what the `az` stand-in prints for the seed's two az command lines */
  const az = async (what: 'aad' | 'acr', value: string) => fs.writeFile(path.join(work.path, 'az-bin', what), value)
  before(async () => {
    ;[reg, other, tok, work] = await Promise.all([
      startRegistry({flavour: 'plain'}),
      startRegistry({flavour: 'plain'}),
      startRegistry({flavour: 'token', acr: true}),
      tmpDir('seed-appendlayer'),
    ])
    base = await pushFixture(reg, 'app:old', 'docker', 'seed-append')
    await pushFixture(tok, 'app:old', 'docker', 'seed-append')
    // $ echo "Hello world" > test.txt
    const echo = await sh('echo "Hello world" > test.txt', {cwd: work.path})
    assert.equal(echo.code, 0, echo.stderr)
    const tar = await sh('tar cf - test.txt', {cwd: work.path})
    layerDigest = sha256(tar.stdoutBytes)
    const bin = path.join(work.path, 'az-bin')
    await fs.mkdir(bin)
    await fs.writeFile(path.join(bin, 'az'), `#!/bin/sh
case "$*" in
  "account get-access-token --query accessToken --output tsv") cat "${bin}/aad" ;;
  "acr login -t --name ${tok.host} --expose-token --output tsv --query accessToken") cat "${bin}/acr" ;;
  *) echo "az stand-in: unexpected arguments: $*" >&2; exit 2 ;;
esac
`, {mode: 0o755})
    azPath = `${bin}:${await ocitoolBin()}:${process.env.PATH ?? '/usr/bin:/bin'}`
  })
  after(async () => {
    await Promise.all([reg?.stop(), other?.stop(), tok?.stop(), work?.remove()])
  })

  /** appended checks that IMAGE is the base plus one layer whose diff_id is the piped tar's. */
  async function appended(image: string, env: Record<string, string> = {}): Promise<void> {
    if (image.startsWith(`${tok.host}/`)) env = {OCITOOL_USERNAME: 'alice', OCITOOL_PASSWORD: tok.users.alice, ...env}
    const m = await runCli(['manifest', image], {env})
    assert.equal(m.code, 0, m.stderr)
    const doc = JSON.parse(m.stdout) as Doc
    assert.deepEqual(doc.layers.slice(0, -1).map((l) => l.digest), base.images[0].layerDigests)
    const c = await runCli(['config', image], {env})
    const diffIds = (JSON.parse(c.stdout) as {rootfs: {diff_ids: string[]}}).rootfs.diff_ids
    assert.equal(diffIds.length, base.images[0].layerDigests.length + 1)
    assert.equal(diffIds.at(-1), layerDigest, 'the appended layer is the tar read from stdin')
  }

  it('$ tar cvf - test.txt | ocitool append <host> <repository> <old-tag> <new-tag>', async () => {
    const r = await sh(`tar cvf - test.txt | ocitool append ${reg.host} app old new`, {cwd: work.path})
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stderr, /^test\.txt$/m, 'tar v lists the file on stderr')
    assert.match(r.stdout, new RegExp(`^${reg.host}/app@sha256:[0-9a-f]{64}\\n$`))
    await appended(`${reg.host}/app:new`)
    const d = await runCli(['digest', `${reg.host}/app:new`])
    assert.equal(r.stdout.trim().split('@')[1], d.stdout.trim())
  })

  it('$ tar cvf - test.txt | ocitool append <host> <old-repository>:<old-tag> <new-repository>:<new-tag>', async () => {
    const r = await sh(`tar cvf - test.txt | ocitool append ${reg.host} app:old other/app:v2`, {cwd: work.path})
    assert.equal(r.code, 0, r.stderr)
    await appended(`${reg.host}/other/app:v2`)
  })

  it('$ tar cvf - test.txt | ocitool append <old-host>/<old-repository>:<old-tag> <new-host>/<new-repository>:<new-tag>', async () => {
    const r = await sh(`tar cvf - test.txt | ocitool append ${reg.host}/app:old ${other.host}/moved:v3`, {cwd: work.path})
    assert.equal(r.code, 0, r.stderr)
    await appended(`${other.host}/moved:v3`)
    const v = await runCli(['validate', '--remote', `${other.host}/moved:v3`])
    assert.equal(v.code, 0, `every base blob was copied to the other host: ${v.stderr}`)
  })

  it('the flag form stays: append -b BASE -f - -t TAG', async () => {
    const r = await sh(`tar cf - test.txt | ocitool append -b ${reg.host}/app:old -f - -t ${reg.host}/app:flags`, {cwd: work.path})
    assert.equal(r.code, 0, r.stderr)
    await appended(`${reg.host}/app:flags`)
  })

  it('bad positional input: five words, or words mixed with --base, exit 2 with one line', async () => {
    for (const line of [`ocitool append ${reg.host} a b c d`, `ocitool append ${reg.host}/app:old ${reg.host}/app:x -b ${reg.host}/app:old`]) {
      const r = await sh(`${line} < /dev/null`, {cwd: work.path})
      assert.equal(r.code, 2, r.stderr)
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
    }
  })

  it('$ export REFRESH_TOKEN=$(az acr login -t --name <registry-name>.azurecr.io --expose-token …) then the pipe', async () => {
    // what `az acr login --expose-token` prints: an ACR refresh token, got by exchanging an AAD token
    const res = await fetch(new URL('/oauth2/exchange', tok.tokenServer!.url), {
      method: 'POST',
      headers: {'content-type': 'application/x-www-form-urlencoded'},
      body: new URLSearchParams({grant_type: 'access_token', service: tok.tokenServer!.service, access_token: tok.tokenServer!.aadToken('alice')}),
    })
    assert.equal(res.status, 200)
    await az('acr', ((await res.json()) as {refresh_token: string}).refresh_token)
    const mark = tok.tokenServer!.requests().length
    const r = await sh(`export REFRESH_TOKEN=$( \\
      az acr login -t --name ${tok.host} \\
      --expose-token --output tsv --query accessToken)
tar cvf - test.txt | ocitool append ${tok.host} app old refreshed`, {cwd: work.path, env: {PATH: azPath}})
    assert.equal(r.code, 0, r.stderr)
    const used = tok.tokenServer!.requests().slice(mark)
    assert.deepEqual(used.map((u) => [u.method, u.path, u.grantType, u.user, u.scopes.join(' ')]), [
      ['POST', '/oauth2/token', 'refresh_token', 'alice', 'repository:app:pull'],
      ['POST', '/oauth2/token', 'refresh_token', 'alice', 'repository:app:pull,push'],
    ])
    await appended(`${tok.host}/app:refreshed`)
  })

  it('$ export ACCESS_TOKEN=$(az account get-access-token …) then the pipe: exchanged at /oauth2/exchange, then /oauth2/token', async () => {
    await az('aad', tok.tokenServer!.aadToken('alice'))
    const mark = tok.tokenServer!.requests().length
    const r = await sh(`export ACCESS_TOKEN=$( \\
       az account get-access-token --query accessToken --output tsv)
tar cvf - test.txt | ocitool append ${tok.host} app old accessed`, {cwd: work.path, env: {PATH: azPath}})
    assert.equal(r.code, 0, r.stderr)
    const used = tok.tokenServer!.requests().slice(mark)
    // once exchanged, the refresh token serves every token request (pull while the base is read, then pull+push)
    assert.deepEqual(used.map((u) => [u.method, u.path, u.grantType, u.service, u.user, u.scopes.join(' ')]), [
      ['POST', '/oauth2/exchange', 'access_token', tok.tokenServer!.service, 'alice', ''],
      ['POST', '/oauth2/token', 'refresh_token', tok.tokenServer!.service, 'alice', 'repository:app:pull'],
      ['POST', '/oauth2/token', 'refresh_token', tok.tokenServer!.service, 'alice', 'repository:app:pull,push'],
    ])
    await appended(`${tok.host}/app:accessed`)
    // across hosts: the token registry's access token is not offered anywhere it is not asked for
    const across = await sh(`tar cf - test.txt | ocitool append ${tok.host}/app:old ${reg.host}/from-acr:v1`, {cwd: work.path, env: {PATH: azPath, ACCESS_TOKEN: tok.tokenServer!.aadToken('alice')}})
    assert.equal(across.code, 0, across.stderr)
    await appended(`${reg.host}/from-acr:v1`)
  })

  it('ACCESS_TOKEN the exchange refuses (unknown, or for a user without push): exit 4, one line, nothing pushed', async () => {
    await az('aad', 'aad.not-issued-by-this-server')
    const r = await sh(`export ACCESS_TOKEN=$(az account get-access-token --query accessToken --output tsv)
tar cf - test.txt | ocitool append ${tok.host} app old refused`, {cwd: work.path, env: {PATH: azPath}})
    assert.equal(r.code, 4, r.stderr)
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
    assert.match(r.stderr, /^Error: .*unauthorized.*token server 127\.0\.0\.1:\d+/i)
    const bob = await sh(`tar cf - test.txt | ocitool append ${tok.host} app old by-bob`, {cwd: work.path, env: {ACCESS_TOKEN: tok.tokenServer!.aadToken('bob')}})
    assert.equal(bob.code, 4, bob.stderr)
    const ls = await runCli(['ls', `${tok.host}/app`], {env: {OCITOOL_USERNAME: 'alice', OCITOOL_PASSWORD: tok.users.alice}})
    assert.deepEqual(ls.stdout.split('\n').filter((t) => t === 'refused' || t === 'by-bob'), [])
  })

  it('DOCKER_CONFIG credentials; no credential at all is exit 4', async () => {
    const dir = path.join(work.path, 'docker-config')
    await fs.mkdir(dir, {recursive: true})
    const auth = Buffer.from(`alice:${tok.users.alice}`).toString('base64')
    await fs.writeFile(path.join(dir, 'config.json'), JSON.stringify({auths: {[tok.host]: {auth}}}))
    const d = await sh(`tar cvf - test.txt | ocitool append ${tok.host} app old configured`, {cwd: work.path, env: {DOCKER_CONFIG: dir}})
    assert.equal(d.code, 0, d.stderr)
    await appended(`${tok.host}/app:configured`)
    const none = await sh(`tar cf - test.txt | ocitool append ${tok.host} app old anonymous`, {cwd: work.path})
    assert.equal(none.code, 4, `no credential: exit 4 (${none.stderr})`)
  })
})
