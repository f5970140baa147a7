// Seed 000 (malthe/appendlayer): every command line of its README, run as written through bash
// with `ocitool` in place of `appendlayer`, against the real registry: the layer piped in from
// tar lands on top of the base (its diff_id is the piped tar's digest), in the same repository,
// another repository, and on another host; with REFRESH_TOKEN, ACCESS_TOKEN or DOCKER_CONFIG.
import assert from 'node:assert/strict'
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import {after, before, describe, it} from 'node:test'
import {runCli} from '../support/cli.js'
import {pushFixture, sha256, type PushedFixture} from '../support/fixtures.js'
import {type RunningRegistry, startRegistry} from '../support/registry.js'
import {sh} from '../support/shell.js'
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
  before(async () => {
    ;[reg, other, tok, work] = await Promise.all([
      startRegistry({flavour: 'plain'}),
      startRegistry({flavour: 'plain'}),
      startRegistry({flavour: 'token'}),
      tmpDir('seed-appendlayer'),
    ])
    base = await pushFixture(reg, 'app:old', 'docker', 'seed-append')
    await pushFixture(tok, 'app:old', 'docker', 'seed-append')
    // $ echo "Hello world" > test.txt
    const echo = await sh('echo "Hello world" > test.txt', {cwd: work.path})
    assert.equal(echo.code, 0, echo.stderr)
    const tar = await sh('tar cf - test.txt', {cwd: work.path})
    layerDigest = sha256(tar.stdoutBytes)
  })
  after(async () => {
    await Promise.all([reg?.stop(), other?.stop(), tok?.stop(), work?.remove()])
  })

  /** appended checks that IMAGE is the base plus one layer whose diff_id is the piped tar's. */
  async function appended(image: string, env: Record<string, string> = {}): Promise<void> {
    const m = await runCli(['manifest', image], {env})
    assert.equal(m.code, 0, m.stderr)
    const doc = JSON.parse(m.stdout) as Doc
    assert.deepEqual(doc.layers.slice(0, -1).map((l) => l.digest), base.images[0].layerDigests)
    const c = await runCli(['config', image], {env})
    const diffIds = (JSON.parse(c.stdout) as {rootfs: {diff_ids: string[]}}).rootfs.diff_ids
    assert.equal(diffIds.length, base.images[0].layerDigests.length + 1)
    assert.equal(diffIds.at(-1), layerDigest, 'the appended layer is the tar read from stdin')
  }

  it('$ tar cvf - test.txt | ocitool <host> <repository> <old-tag> <new-tag>', async () => {
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

  it('$ export REFRESH_TOKEN=… then the pipe: the token is exchanged for access', async () => {
    const res = await fetch(tok.tokenServer!.realm, {
      method: 'POST',
      headers: {'content-type': 'application/x-www-form-urlencoded'},
      body: new URLSearchParams({grant_type: 'password', username: 'alice', password: tok.users.alice, service: tok.tokenServer!.service, client_id: 'seed'}),
    })
    const refresh = ((await res.json()) as {refresh_token: string}).refresh_token
    const r = await sh(`export REFRESH_TOKEN=${refresh}\ntar cvf - test.txt | ocitool append ${tok.host} app old refreshed`, {cwd: work.path})
    assert.equal(r.code, 0, r.stderr)
    const token = tok.tokenServer!.issue('alice', ['repository:app:pull'])
    await appended(`${tok.host}/app:refreshed`, {ACCESS_TOKEN: token})
  })

  it('$ export ACCESS_TOKEN=… then the pipe; and DOCKER_CONFIG credentials', async () => {
    const token = tok.tokenServer!.issue('alice', ['repository:app:pull,push'])
    const r = await sh(`export ACCESS_TOKEN=${token}\ntar cvf - test.txt | ocitool append ${tok.host} app old accessed`, {cwd: work.path})
    assert.equal(r.code, 0, r.stderr)
    await appended(`${tok.host}/app:accessed`, {ACCESS_TOKEN: token})
    const dir = path.join(work.path, 'docker-config')
    await fs.mkdir(dir, {recursive: true})
    const auth = Buffer.from(`alice:${tok.users.alice}`).toString('base64')
    await fs.writeFile(path.join(dir, 'config.json'), JSON.stringify({auths: {[tok.host]: {auth}}}))
    const d = await sh(`tar cvf - test.txt | ocitool append ${tok.host} app old configured`, {cwd: work.path, env: {DOCKER_CONFIG: dir}})
    assert.equal(d.code, 0, d.stderr)
    await appended(`${tok.host}/app:configured`, {ACCESS_TOKEN: token})
    const none = await sh(`tar cf - test.txt | ocitool append ${tok.host} app old anonymous`, {cwd: work.path})
    assert.equal(none.code, 4, `no credential: exit 4 (${none.stderr})`)
  })
})
