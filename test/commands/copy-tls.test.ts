// skopeo's per-side TLS flags on copy: --src-tls-verify=false / --dest-tls-verify=false and
// --src-cert-dir / --dest-cert-dir, between two real TLS registries, each with its own CA. Each
// setting applies to its own registry (and that registry's token server) only: the other side
// is still verified.
import assert from 'node:assert/strict'
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import {after, before, describe, it} from 'node:test'
import {runCli} from '../support/cli.js'
import {type PushedFixture, pushFixture} from '../support/fixtures.js'
import {type RunningRegistry, startRegistry} from '../support/registry.js'
import {tmpDir, type TmpDir} from '../support/tmp.js'

describe('copy --src-tls-verify / --dest-cert-dir', () => {
  let a: RunningRegistry
  let b: RunningRegistry
  let work: TmpDir
  let img: PushedFixture

  before(async () => {
    ;[a, b, work] = await Promise.all([startRegistry({flavour: 'tls'}), startRegistry({flavour: 'tls'}), tmpDir('copy-tls')])
    img = await pushFixture(a, 'app/img:v1', 'oci', 'copy-tls')
  })
  after(async () => {
    await Promise.all([a?.stop(), b?.stop(), work?.remove()])
  })

  const digestOn = async (reg: RunningRegistry, repoTag: string) => {
    const r = await runCli(['digest', `${reg.host}/${repoTag}`, '--ca-file', reg.caFile!])
    assert.equal(r.code, 0, r.stderr)
    return r.stdout.trim()
  }

  it('--src-tls-verify=false from a registry whose CA is unknown, --dest-cert-dir to one verified with its CA', async () => {
    const r = await runCli(['copy', '--src-tls-verify=false', '--dest-cert-dir', b.certDir!, `${a.host}/app/img:v1`, `${b.host}/mirror/img:v1`])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, `${b.host}/mirror/img@${img.manifestDigest}\n`)
    assert.equal(await digestOn(b, 'mirror/img:v1'), img.manifestDigest)
  })

  it('the other side is still verified: the wrong CA for the destination, or no flag for the source, fails with exit 5 naming it', async () => {
    const wrong = await runCli(['copy', '--src-tls-verify=false', '--dest-cert-dir', a.certDir!, `${a.host}/app/img:v1`, `${b.host}/mirror/img:wrong`])
    assert.equal(wrong.code, 5, wrong.stderr)
    assert.equal(wrong.stderr.trim().split('\n').length, 1, wrong.stderr)
    assert.match(wrong.stderr, new RegExp(`${b.host.replaceAll('.', '\\.')}.*certificate`, 'i'))
    const src = await runCli(['copy', '--dest-cert-dir', b.certDir!, `${a.host}/app/img:v1`, `${b.host}/mirror/img:nosrc`])
    assert.equal(src.code, 5, src.stderr)
    assert.match(src.stderr, new RegExp(`${a.host.replaceAll('.', '\\.')}.*certificate`, 'i'))
    // --src-tls-verify=true is the default, said out loud
    const t = await runCli(['copy', '--src-tls-verify=true', '--src-cert-dir', a.certDir!, '--dest-tls-verify=false', `${a.host}/app/img:v1`, `${b.host}/mirror/img:v2`])
    assert.equal(t.code, 0, t.stderr)
    assert.equal(await digestOn(b, 'mirror/img:v2'), img.manifestDigest)
  })

  it('a token registry over TLS: its token server is reached with the side\'s TLS setting too', async () => {
    const tok = await startRegistry({flavour: 'token', tls: true})
    try {
      const r = await runCli(['copy', '--src-cert-dir', a.certDir!, '--dest-tls-verify=false', '--dest-creds', `alice:${tok.users.alice}`, `${a.host}/app/img:v1`, `${tok.host}/app/img:v1`])
      assert.equal(r.code, 0, r.stderr)
      assert.ok(tok.tokenServer!.requests().some((q) => q.user === 'alice' && q.status === 200), 'alice got a token over unverified TLS')
      const d = await runCli(['digest', `${tok.host}/app/img:v1`, '--ca-file', tok.caFile!, '--username', 'alice', '--password', tok.users.alice])
      assert.equal(d.stdout.trim(), img.manifestDigest, d.stderr)
    } finally {
      await tok.stop()
    }
  })

  it('sync takes the same flags: a repository synced from the unverified source to the CA-verified destination', async () => {
    const r = await runCli(['sync', '--src-tls-verify=false', '--dest-cert-dir', b.certDir!, `${a.host}/app/img`, `${b.host}/synced/img`])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(await digestOn(b, 'synced/img:v1'), img.manifestDigest)
    const refused = await runCli(['sync', '--dest-cert-dir', b.certDir!, `${a.host}/app/img`, `${b.host}/synced/other`])
    // the source is still verified without --src-tls-verify=false: nothing arrives (sync's exit code
    // for an unreachable source is sync's own matter)
    const absent = await runCli(['digest', `${b.host}/synced/other:v1`, '--ca-file', b.caFile!])
    assert.equal(absent.code, 3, `${refused.stdout}${refused.stderr}${absent.stderr}`)
    const config = path.join(work.path, 'sync.yaml')
    await fs.writeFile(config, `sources:\n  - src: ${a.host}/app/img\n    dst: ${b.host}/synced/cfg\n`)
    const both = await runCli(['sync', '--config', config, '--src-tls-verify=false'])
    assert.equal(both.code, 2, both.stderr)
    assert.equal(both.stderr.trim().split('\n').length, 1, both.stderr)
    const bad = await runCli(['sync', '--dest-tls-verify=nope', `${a.host}/app/img`, `${b.host}/synced/img`])
    assert.equal(bad.code, 2, bad.stderr)
  })

  it('registries.json per registry: "insecure" for one, "certdir"/"cafile" for the other; every command reads it', async () => {
    const file = path.join(work.path, 'registries.json')
    const env = {OCITOOL_REGISTRIES_CONFIG: file}
    await fs.writeFile(file, JSON.stringify({registries: {[a.host]: {insecure: true}, [b.host]: {certdir: b.certDir}}}))
    const r = await runCli(['copy', `${a.host}/app/img:v1`, `${b.host}/from-file/img:v1`], {env})
    assert.equal(r.code, 0, r.stderr)
    const d = await runCli(['digest', `${b.host}/from-file/img:v1`], {env})
    assert.equal(d.stdout, `${img.manifestDigest}\n`, d.stderr)
    // flags win over the file: the wrong CA for B on the command line
    const flag = await runCli(['copy', '--dest-cert-dir', a.certDir!, `${a.host}/app/img:v1`, `${b.host}/from-file/img:v2`], {env})
    assert.equal(flag.code, 5, flag.stderr)
    await fs.writeFile(file, JSON.stringify({registries: {[b.host]: {cafile: [b.caFile]}}}))
    assert.equal((await runCli(['digest', `${b.host}/from-file/img:v1`], {env})).stdout, `${img.manifestDigest}\n`)
    const unverified = await runCli(['digest', `${a.host}/app/img:v1`], {env})
    assert.equal(unverified.code, 5, 'A is not in the file now: verified, and its CA is unknown')
    for (const bad of [{insecure: 'yes'}, {certdir: path.join(work.path, 'nope')}, {cafile: path.join(work.path, 'nope.pem')}, {cafile: [1]}]) {
      await fs.writeFile(file, JSON.stringify({registries: {[b.host]: bad}}))
      const e = await runCli(['digest', `${b.host}/from-file/img:v1`], {env})
      assert.equal(e.code, 2, `${JSON.stringify(bad)}: ${e.stderr}`)
      assert.equal(e.stderr.trim().split('\n').length, 1, e.stderr)
      assert.match(e.stderr, /registries config .*registries\.json/)
    }
  })

  it('bad input: a value other than true/false, a missing cert dir, a file store side, batch pairs, disagreeing sides on one registry: exit 2, one line', async () => {
    const file = path.join(work.path, 'not-a-dir')
    await fs.writeFile(file, '')
    const cases: string[][] = [
      ['copy', '--src-tls-verify=maybe', `${a.host}/app/img:v1`, `${b.host}/x:1`],
      ['copy', '--dest-cert-dir', path.join(work.path, 'nope'), `${a.host}/app/img:v1`, `${b.host}/x:1`],
      ['copy', '--dest-cert-dir', file, `${a.host}/app/img:v1`, `${b.host}/x:1`],
      ['copy', '--dest-tls-verify=false', `${a.host}/app/img:v1`, `oci:${work.path}/lay:1`],
      ['copy', '--src-tls-verify=false', `${a.host}/app/img:v1`, `${b.host}/x:1`, `${a.host}/app/img:v1`, `${b.host}/x:2`],
      ['copy', '--src-tls-verify=false', '--dest-tls-verify=true', `${a.host}/app/img:v1`, `${a.host}/x:1`],
      ['copy', '--ca-file', path.join(work.path, 'no-such-ca.pem'), `${a.host}/app/img:v1`, `${b.host}/x:1`],
    ]
    for (const argv of cases) {
      const r = await runCli(argv)
      assert.equal(r.code, 2, `${argv.join(' ')}: ${r.stderr}`)
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
      assert.match(r.stderr, /^Error: /)
    }
    await assert.rejects(fs.stat(path.join(work.path, 'lay')), 'nothing written')
  })
})
