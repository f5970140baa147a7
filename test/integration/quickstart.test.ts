// npm run quickstart where Debian's registry is absent and cannot be installed (no apt-get, as
// on a laptop): the same demonstration runs against the embedded `ocitool registry serve` and
// says which registry it used; npm test names the commands it needs and how to get them.
import assert from 'node:assert/strict'
import {symlink} from 'node:fs/promises'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {repoRoot} from '../support/cli.js'
import {run} from '../support/exec.js'
import {type TmpDir, tmpDir} from '../support/tmp.js'

describe('quick start without the distribution registry', () => {
  let bin: TmpDir
  let env: NodeJS.ProcessEnv
  before(async () => {
    // a PATH with node and sh only: no docker-registry, no apt-get, no skopeo
    bin = await tmpDir('quickstart-bin')
    await symlink(process.execPath, join(bin.path, 'node'))
    await symlink('/bin/sh', join(bin.path, 'sh'))
    env = {...process.env, PATH: bin.path}
  })
  after(async () => {
    await bin?.remove()
  })

  it('falls back to ocitool registry serve and says so', async () => {
    const r = await run(process.execPath, ['--import', 'tsx', join(repoRoot, 'scripts', 'quickstart.ts')], {cwd: repoRoot, env, timeoutMs: 90_000})
    assert.equal(r.code, 0, r.stdout + r.stderr)
    assert.match(r.stdout, /^missing commands: docker-registry \(on Debian or Ubuntu: apt-get install docker-registry;/m)
    assert.match(r.stdout, /^registry used: the embedded registry \(ocitool registry serve\) at http:\/\/127\.0\.0\.1:\d+/m)
    const pushed = /\$ ocitool push .*\n(\S+)@(sha256:[0-9a-f]{64})\n/.exec(r.stdout)
    assert.ok(pushed, r.stdout)
    assert.match(r.stdout, new RegExp(`\\$ ocitool digest .*\\n${pushed[2]}\\n`))
    assert.match(r.stdout, /quick start finished against the embedded registry \(ocitool registry serve\)/)
  })

  it('npm test names the commands it needs and how to get them', async () => {
    const r = await run(process.execPath, [join(repoRoot, 'scripts', 'test.js')], {cwd: repoRoot, env: {...env, OCITOOL_SKIP_BUILD: '1'}})
    assert.equal(r.code, 1)
    assert.match(r.stderr, /^npm test runs against real tools: missing commands: docker-registry, skopeo, umoci, htpasswd \(package apache2-utils\)/)
    assert.match(r.stderr, /apt-get install docker-registry skopeo umoci apache2-utils/)
  })
})
