// Seed 004 (python-dxf): its command lines run as written through bash with `ocitool` for `dxf`
// and DXF_HOST naming the real registry, and aliases interoperating both ways with dxf's own
// format. python-dxf cannot be installed here, so the test replicates, from its source, the
// manifest its set_alias PUTs (json.dumps(sort_keys=True) run by python3 itself) and the checks
// its _get_alias makes on what it reads (Docker-Content-Digest, mediaType, sha256 digests).
import assert from 'node:assert/strict'
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import {after, before, describe, it} from 'node:test'
import {run} from '../support/exec.js'
import {sha256} from '../support/fixtures.js'
import {type RunningRegistry, startRegistry} from '../support/registry.js'
import {sh} from '../support/shell.js'
import {tmpDir, type TmpDir} from '../support/tmp.js'

const SCHEMA2 = 'application/vnd.docker.distribution.manifest.v2+json'
// dxf's Accept header for manifests (schema 1, schema 2, list, OCI manifest, OCI index)
const DXF_ACCEPT = [
  'application/vnd.docker.distribution.manifest.v1+json',
  SCHEMA2,
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
].join(', ')

/** dxfMakeManifest is dxf's make_manifest, run by python3: the exact bytes dxf PUTs for an alias. */
async function dxfMakeManifest(blobs: Array<{digest: string; size: number}>): Promise<Buffer> {
  const script = `import json, sys
layers = [{'mediaType': 'application/octet-stream', 'size': b['size'], 'digest': b['digest']} for b in json.loads(sys.argv[1])]
sys.stdout.write(json.dumps({'schemaVersion': 2, 'mediaType': '${SCHEMA2}',
  'config': {'mediaType': 'application/vnd.docker.container.image.v1+json', 'size': layers[0]['size'], 'digest': layers[0]['digest']},
  'layers': layers}, sort_keys=True))`
  const r = await run('python3', ['-c', script, JSON.stringify(blobs)])
  assert.equal(r.code, 0, r.stderr)
  return r.stdoutBytes
}

/** dxfGetAlias replicates dxf's _get_alias reading a tag: what dxf get-alias / get-digest would print. */
async function dxfGetAlias(reg: RunningRegistry, repo: string, alias: string): Promise<{digests: string[]; digest: string; content: Buffer}> {
  const res = await fetch(`${reg.url}/v2/${repo}/manifests/${alias}`, {headers: {accept: DXF_ACCEPT}})
  assert.equal(res.status, 200)
  const content = Buffer.from(await res.arrayBuffer())
  const dcd = res.headers.get('docker-content-digest')
  if (dcd) assert.equal(sha256(content), dcd, 'dxf: DXFDigestMismatchError')
  const parsed = JSON.parse(content.toString('utf8')) as {mediaType: string; config: {digest: string}; layers: Array<{digest: string; size: number}>}
  assert.ok([SCHEMA2, 'application/vnd.oci.image.manifest.v1+json'].includes(parsed.mediaType), `dxf: DXFUnsupportedSchemaType ${parsed.mediaType}`)
  const splitDigest = (s: string) => {
    const parts = s.split(':')
    assert.equal(parts.length, 2)
    assert.equal(parts[0], 'sha256', 'dxf: DXFUnexpectedDigestMethodError')
    return s
  }
  return {digests: parsed.layers.map((l) => splitDigest(l.digest)), digest: splitDigest(parsed.config.digest), content}
}

describe('seed 004 python-dxf', () => {
  let reg: RunningRegistry
  let work: TmpDir
  let env: Record<string, string>
  const logger = Buffer.from('may 15 readings: 1 2 3\n')
  const loggerDigest = sha256(logger)
  before(async () => {
    ;[reg, work] = await Promise.all([startRegistry({flavour: 'plain'}), tmpDir('seed-dxf')])
    await fs.writeFile(path.join(work.path, 'logger.dat'), logger)
    env = {DXF_HOST: reg.host, DXF_INSECURE: '1'}
  })
  after(async () => {
    await Promise.all([reg?.stop(), work?.remove()])
  })
  const dxf = (line: string, extra: Record<string, string> = {}) => sh(line, {cwd: work.path, env: {...env, ...extra}})

  it('$ dxf push-blob fred/datalogger logger.dat @may15-readings; dxf pull-blob fred/datalogger @may15-readings', async () => {
    const push = await dxf('ocitool push-blob fred/datalogger logger.dat @may15-readings')
    assert.equal(push.code, 0, push.stderr)
    assert.equal(push.stdout, `${loggerDigest}\n`)
    const pull = await dxf('ocitool pull-blob fred/datalogger @may15-readings')
    assert.equal(pull.code, 0, pull.stderr)
    assert.ok(pull.stdoutBytes.equals(logger))
    // the alias ocitool wrote is byte for byte the one dxf writes, and dxf reads it
    const read = await dxfGetAlias(reg, 'fred/datalogger', 'may15-readings')
    assert.ok(read.content.equals(await dxfMakeManifest([{digest: loggerDigest, size: logger.length}])))
    assert.deepEqual(read.digests, [loggerDigest])
  })

  it('$ dxf set-alias fred/datalogger may15-readings $(dxf push-blob …); dxf pull-blob fred/datalogger $(dxf get-alias …)', async () => {
    const set = await dxf('ocitool set-alias fred/datalogger may15-readings $(ocitool push-blob fred/datalogger logger.dat)')
    assert.equal(set.code, 0, set.stderr)
    const pull = await dxf('ocitool pull-blob fred/datalogger $(ocitool get-alias fred/datalogger may15-readings)')
    assert.equal(pull.code, 0, pull.stderr)
    assert.ok(pull.stdoutBytes.equals(logger))
  })

  it('an alias dxf made (its exact manifest) is read by get-alias, pull-blob @, blob-size @ (the sum), get-digest, get-manifest', async () => {
    const two = Buffer.from('second file\n')
    const d2 = (await sh('ocitool push-blob fred/datalogger -', {cwd: work.path, env, input: two})).stdout.trim()
    assert.equal(d2, sha256(two))
    const bytes = await dxfMakeManifest([{digest: loggerDigest, size: logger.length}, {digest: d2, size: two.length}])
    const put = await fetch(`${reg.url}/v2/fred/datalogger/manifests/from-dxf`, {method: 'PUT', body: bytes, headers: {'content-type': SCHEMA2}})
    assert.equal(put.status, 201, await put.text())
    const get = await dxf('ocitool get-alias fred/datalogger from-dxf')
    assert.equal(get.stdout, `${loggerDigest}\n${d2}\n`)
    const pull = await dxf('ocitool pull-blob fred/datalogger @from-dxf')
    assert.ok(pull.stdoutBytes.equals(Buffer.concat([logger, two])))
    const size = await dxf(`ocitool blob-size fred/datalogger @from-dxf ${d2}`)
    assert.equal(size.stdout, `${logger.length + two.length}\n${two.length}\n`)
    const digest = await dxf('ocitool get-digest fred/datalogger from-dxf')
    assert.equal(digest.stdout, `${loggerDigest}\n`, "get-digest: an alias's config is its first blob")
    const manifest = await dxf('ocitool get-manifest fred/datalogger from-dxf')
    assert.ok(manifest.stdoutBytes.equals(bytes))
    const info = await dxf('ocitool pull-blob fred/datalogger @from-dxf', {DXF_BLOB_INFO: '1'})
    assert.ok(info.stdoutBytes.equals(Buffer.concat([Buffer.from(`${loggerDigest} ${logger.length}\n`), logger, Buffer.from(`${d2} ${two.length}\n`), two])))
    const list = await dxf('ocitool list-aliases fred/datalogger')
    assert.equal(list.stdout, 'from-dxf\nmay15-readings\n')
  })

  it('$ dxf pull-blob / get-alias with several arguments; set-alias <repo> <alias> <file> (a path separator: the file\'s hash)', async () => {
    const two = Buffer.from('second file\n')
    const pull = await dxf(`ocitool pull-blob fred/datalogger @may15-readings ${sha256(two)} @from-dxf`)
    assert.equal(pull.code, 0, pull.stderr)
    assert.ok(pull.stdoutBytes.equals(Buffer.concat([logger, two, logger, two])))
    const get = await dxf('ocitool get-alias fred/datalogger may15-readings from-dxf')
    assert.equal(get.stdout, `${loggerDigest}\n${loggerDigest}\n${sha256(two)}\n`)
    const set = await dxf('ocitool set-alias fred/datalogger by-file ./logger.dat')
    assert.equal(set.code, 0, set.stderr)
    const read = await dxfGetAlias(reg, 'fred/datalogger', 'by-file')
    assert.ok(read.content.equals(await dxfMakeManifest([{digest: loggerDigest, size: logger.length}])), 'the alias dxf would write for that file')
  })

  it('DXF_CHUNK_SIZE: pull-blob hands the blob on in pieces of that many bytes (dxf\'s iter_content); not a number is exit 2', async () => {
    const events = (stderr: string) => stderr.split('\n').filter(Boolean).map((l) => JSON.parse(l) as {event: string; bytes?: number; done?: number}).filter((e) => e.event === 'blob-bytes')
    const whole = await dxf('ocitool pull-blob fred/datalogger @may15-readings --progress json')
    assert.equal(whole.code, 0, whole.stderr)
    assert.deepEqual(events(whole.stderr).map((e) => [e.bytes, e.done]), [[logger.length, logger.length]])
    const cut = await dxf('ocitool pull-blob fred/datalogger @may15-readings --progress json', {DXF_CHUNK_SIZE: '5'})
    assert.equal(cut.code, 0, cut.stderr)
    assert.ok(cut.stdoutBytes.equals(logger))
    const seen = events(cut.stderr)
    assert.deepEqual(seen[0], {...seen[0], bytes: 5, done: 5}, 'the first piece is 5 bytes')
    assert.deepEqual(seen.at(-1), {...seen.at(-1), bytes: logger.length % 5, done: logger.length}, 'the last one holds the rest')
    for (const bad of ['0', 'lots', '-5']) {
      const r = await dxf('ocitool pull-blob fred/datalogger @may15-readings', {DXF_CHUNK_SIZE: bad})
      assert.equal(r.code, 2, r.stderr)
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
      assert.equal(r.stdout, '')
    }
  })

  it('an alias ocitool made of several blobs is what dxf reads; del-alias prints the hashes it pointed to, the blobs stay', async () => {
    const d2 = sha256(Buffer.from('second file\n'))
    const set = await dxf(`ocitool set-alias fred/datalogger both ${loggerDigest} ${d2}`)
    assert.equal(set.code, 0, set.stderr)
    const read = await dxfGetAlias(reg, 'fred/datalogger', 'both')
    assert.deepEqual(read.digests, [loggerDigest, d2])
    assert.equal(read.digest, loggerDigest)
    assert.ok(read.content.equals(await dxfMakeManifest([{digest: loggerDigest, size: logger.length}, {digest: d2, size: 12}])))
    const del = await dxf('ocitool del-alias fred/datalogger both')
    assert.equal(del.code, 0, del.stderr)
    assert.equal(del.stdout, `${loggerDigest}\n${d2}\n`)
    const gone = await dxf('ocitool get-alias fred/datalogger both')
    assert.equal(gone.code, 3, gone.stderr)
    assert.equal((await dxf(`ocitool blob-size fred/datalogger ${d2}`)).stdout, '12\n', 'the blobs stay')
  })

  it('$ dxf mount-blob <repo> <from-repo> <hash> [@alias]; del-blob <repo> <@alias> deletes the blobs, not the alias', async () => {
    const m = await dxf(`ocitool mount-blob fred/copy fred/datalogger ${loggerDigest} @mounted`)
    assert.equal(m.code, 0, m.stderr)
    assert.equal(m.stdout, `${loggerDigest}\n`)
    assert.deepEqual((await dxfGetAlias(reg, 'fred/copy', 'mounted')).digests, [loggerDigest])
    const del = await dxf('ocitool del-blob fred/copy @mounted')
    assert.equal(del.code, 0, del.stderr)
    assert.equal(del.stdout, `${loggerDigest}\n`)
    const head = await fetch(`${reg.url}/v2/fred/copy/blobs/${loggerDigest}`, {method: 'HEAD'})
    assert.equal(head.status, 404, 'the blob is gone from fred/copy')
    assert.equal((await dxf('ocitool get-alias fred/copy mounted')).stdout, `${loggerDigest}\n`, 'the alias stays')
    const other = await fetch(`${reg.url}/v2/fred/datalogger/blobs/${loggerDigest}`, {method: 'HEAD'})
    assert.equal(other.status, 200, 'fred/datalogger keeps its link')
  })

  it('DXF_USERNAME/DXF_PASSWORD and DXF_AUTHORIZATION authenticate; a bad alias argument is exit 2', async () => {
    const basic = await startRegistry({flavour: 'basic'})
    try {
      const creds = {DXF_HOST: basic.host, DXF_INSECURE: '1'}
      const anon = await sh('ocitool push-blob fred/datalogger logger.dat', {cwd: work.path, env: creds})
      assert.equal(anon.code, 4, anon.stderr)
      const user = await sh('ocitool push-blob fred/datalogger logger.dat @auth', {cwd: work.path, env: {...creds, DXF_USERNAME: 'alice', DXF_PASSWORD: basic.users.alice}})
      assert.equal(user.code, 0, user.stderr)
      const authorization = `Basic ${Buffer.from(`alice:${basic.users.alice}`).toString('base64')}`
      const pulled = await sh('ocitool pull-blob fred/datalogger @auth', {cwd: work.path, env: {...creds, DXF_AUTHORIZATION: authorization}})
      assert.equal(pulled.code, 0, pulled.stderr)
      assert.ok(pulled.stdoutBytes.equals(logger))
    } finally {
      await basic.stop()
    }
    const bad = await dxf('ocitool push-blob fred/datalogger logger.dat not-an-alias')
    assert.equal(bad.code, 2, bad.stderr)
    assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr)
  })
})

// dxf's `auth`, DXF_TOKEN, list-repos and the TLS variables, against the real registry in its
// token flavour over TLS (its own CA): dxf always asks the token server over https.
describe('seed 004 python-dxf: auth, DXF_TOKEN, list-repos, TLS variables, DXF_PLATFORM, DXF_PROGRESS', () => {
  let tok: RunningRegistry
  let plain: RunningRegistry
  let work: TmpDir
  let creds: Record<string, string>
  const data = Buffer.from('token-guarded readings\n')
  const dataDigest = sha256(data)
  before(async () => {
    ;[tok, plain, work] = await Promise.all([startRegistry({flavour: 'token', tls: true}), startRegistry({flavour: 'plain'}), tmpDir('seed-dxf-auth')])
    await fs.writeFile(path.join(work.path, 'logger.dat'), data)
    creds = {DXF_HOST: tok.host, DXF_TLSVERIFY: tok.caFile!, DXF_USERNAME: 'alice', DXF_PASSWORD: tok.users.alice}
    const push = await sh('ocitool push-blob fred/datalogger logger.dat @guarded', {cwd: work.path, env: creds})
    assert.equal(push.code, 0, push.stderr)
  })
  after(async () => {
    await Promise.all([tok?.stop(), plain?.stop(), work?.remove()])
  })
  const claims = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8')) as {sub: string; access: Array<{name: string; actions: string[]}>}

  it('$ dxf auth <repo> <action>...: prints the token for those actions', async () => {
    const r = await sh('ocitool auth fred/datalogger pull push', {cwd: work.path, env: creds})
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /^[\w-]+\.[\w-]+\.[\w-]+\n$/)
    const c = claims(r.stdout.trim())
    assert.equal(c.sub, 'alice')
    assert.deepEqual(c.access, [{type: 'repository', name: 'fred/datalogger', actions: ['pull', 'push']}])
    const star = await sh("ocitool auth fred/datalogger '*'", {cwd: work.path, env: creds})
    assert.deepEqual(claims(star.stdout.trim()).access, [{type: 'repository', name: 'fred/datalogger', actions: ['*']}], star.stderr)
    // DXF_AUTHORIZATION instead of the user and password
    const basic = `Basic ${Buffer.from(`bob:${tok.users.bob}`).toString('base64')}`
    const b = await sh('ocitool auth fred/datalogger pull push', {cwd: work.path, env: {DXF_HOST: tok.host, DXF_TLSVERIFY: tok.caFile!, DXF_AUTHORIZATION: basic}})
    assert.equal(b.code, 0, b.stderr)
    assert.deepEqual(claims(b.stdout.trim()).access[0].actions, ['pull'], 'bob may only pull')
  })

  it('$ DXF_TOKEN=$(dxf auth fred/datalogger pull): later commands use the token alone', async () => {
    const env = {DXF_HOST: tok.host, DXF_TLSVERIFY: tok.caFile!}
    const line = `DXF_TOKEN=$(DXF_USERNAME=alice DXF_PASSWORD=${tok.users.alice} ocitool auth fred/datalogger pull)`
    const before = tok.tokenServer!.requests().length
    const pull = await sh(`export ${line}\nocitool pull-blob fred/datalogger @guarded`, {cwd: work.path, env})
    assert.equal(pull.code, 0, pull.stderr)
    assert.ok(pull.stdoutBytes.equals(data))
    assert.equal(tok.tokenServer!.requests().length - before, 1, 'one token request: the auth command; pull-blob sent DXF_TOKEN')
    const size = await sh(`export ${line}\nocitool blob-size fred/datalogger @guarded`, {cwd: work.path, env})
    assert.equal(size.stdout, `${data.length}\n`, size.stderr)
    // a pull token does not push, and a bad token is refused: exit 4 (dxf: EACCES), one line
    const push = await sh(`export ${line}\nocitool push-blob fred/datalogger logger.dat @again`, {cwd: work.path, env})
    assert.equal(push.code, 4, push.stderr)
    assert.equal(push.stderr.trim().split('\n').length, 1, push.stderr)
    const bad = await sh('ocitool pull-blob fred/datalogger @guarded', {cwd: work.path, env: {...env, DXF_TOKEN: 'not.a.token'}})
    assert.equal(bad.code, 4, bad.stderr)
  })

  it('auth: bad input is exit 2; a registry with no auth prints nothing (as dxf), exit 0', async () => {
    for (const line of ['ocitool auth fred/datalogger pul', 'ocitool auth fred/datalogger pull Push']) {
      const r = await sh(line, {cwd: work.path, env: creds})
      assert.equal(r.code, 2, r.stderr)
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
    }
    const wrong = await sh('ocitool auth fred/datalogger pull', {cwd: work.path, env: {...creds, DXF_PASSWORD: 'wrong'}})
    assert.equal(wrong.code, 4, wrong.stderr)
    const none = await sh('ocitool auth fred/datalogger pull', {cwd: work.path, env: {DXF_HOST: plain.host, DXF_INSECURE: '1'}})
    assert.equal(none.code, 0, none.stderr)
    assert.equal(none.stdout, '')
    assert.match(none.stderr, /^Warning: .*no credentials/)
    const help = await sh('ocitool auth', {cwd: work.path})
    assert.equal(help.code, 0, help.stderr)
    assert.match(help.stdout, /auth login/)
  })

  it('DXF_AUTH_HOST: token requests go to that host instead of the realm\'s; a bad value is exit 2', async () => {
    const port = new URL(tok.tokenServer!.url).port
    const before = tok.tokenServer!.requests().length
    const r = await sh('ocitool pull-blob fred/datalogger @guarded', {cwd: work.path, env: {...creds, DXF_AUTH_HOST: `localhost:${port}`}})
    assert.equal(r.code, 0, r.stderr)
    assert.ok(r.stdoutBytes.equals(data))
    const asked = tok.tokenServer!.requests().slice(before)
    assert.ok(asked.length > 0)
    assert.deepEqual([...new Set(asked.map((q) => q.host))], [`localhost:${port}`], 'the realm names 127.0.0.1; dxf\'s DXF_AUTH_HOST replaces it')
    const tokenOut = await sh('ocitool auth fred/datalogger pull', {cwd: work.path, env: {...creds, DXF_AUTH_HOST: '127.0.0.1:1'}})
    assert.equal(tokenOut.code, 5, tokenOut.stderr)
    assert.match(tokenOut.stderr, /token server 127\.0\.0\.1:1\b/)
    const bad = await sh('ocitool pull-blob fred/datalogger @guarded', {cwd: work.path, env: {...creds, DXF_AUTH_HOST: 'https://x/y'}})
    assert.equal(bad.code, 2, bad.stderr)
    assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr)
  })

  it('$ dxf list-repos: the repositories of DXF_HOST', async () => {
    const r = await sh('ocitool list-repos', {cwd: work.path, env: creds})
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, 'fred/datalogger\n')
    const anon = await sh('ocitool list-repos', {cwd: work.path, env: {DXF_HOST: tok.host, DXF_TLSVERIFY: tok.caFile!}})
    assert.equal(anon.code, 4, anon.stderr)
    const noHost = await sh('ocitool list-repos', {cwd: work.path})
    assert.equal(noHost.code, 2, noHost.stderr)
    assert.equal(noHost.stderr.trim().split('\n').length, 1, noHost.stderr)
  })

  it('DXF_TLSVERIFY (a CA file, or false), DXF_SKIPTLSVERIFY=1, REQUESTS_CA_BUNDLE; without them the unknown CA is refused', async () => {
    const base = {DXF_HOST: tok.host, DXF_USERNAME: 'alice', DXF_PASSWORD: tok.users.alice}
    const refused = await sh('ocitool pull-blob fred/datalogger @guarded', {cwd: work.path, env: base})
    assert.equal(refused.code, 5, refused.stderr)
    assert.match(refused.stderr, /certificate/i)
    for (const extra of [{DXF_TLSVERIFY: tok.caFile!}, {DXF_TLSVERIFY: 'false'}, {DXF_SKIPTLSVERIFY: '1'}]) {
      const r = await sh('ocitool pull-blob fred/datalogger @guarded', {cwd: work.path, env: {...base, ...extra}})
      assert.equal(r.code, 0, `${JSON.stringify(extra)}: ${r.stderr}`)
      assert.ok(r.stdoutBytes.equals(data))
    }
    // the Certificates section: REQUESTS_CA_BUNDLE, read by dxf's requests when DXF_TLSVERIFY names no file
    const bundle = await sh('ocitool pull-blob fred/datalogger @guarded', {cwd: work.path, env: {...base, REQUESTS_CA_BUNDLE: tok.caFile!}})
    assert.equal(bundle.code, 0, bundle.stderr)
    assert.ok(bundle.stdoutBytes.equals(data))
    const noBundle = await sh('ocitool pull-blob fred/datalogger @guarded', {cwd: work.path, env: {...base, REQUESTS_CA_BUNDLE: path.join(work.path, 'no-such-bundle.pem')}})
    assert.equal(noBundle.code, 2, noBundle.stderr)
    assert.match(noBundle.stderr, /REQUESTS_CA_BUNDLE/)
    const wrongCa = await sh('ocitool pull-blob fred/datalogger @guarded', {cwd: work.path, env: {...base, DXF_TLSVERIFY: plain.dir + '/config.yml'}})
    assert.notEqual(wrongCa.code, 0, 'a file that is no CA of this registry does not verify it')
    const missing = await sh('ocitool pull-blob fred/datalogger @guarded', {cwd: work.path, env: {...base, DXF_TLSVERIFY: path.join(work.path, 'no-such-ca.pem')}})
    assert.equal(missing.code, 2, missing.stderr)
    assert.equal(missing.stderr.trim().split('\n').length, 1, missing.stderr)
  })

  it('DXF_PLATFORM picks the platform of a multi-platform alias; without it, or for a platform it lacks, one line and exit 2 / 3', async () => {
    const env = {DXF_HOST: plain.host, DXF_INSECURE: '1'}
    const amd = Buffer.from('amd64 data\n')
    const arm = Buffer.from('arm64 data\n')
    await fs.writeFile(path.join(work.path, 'amd.dat'), amd)
    await fs.writeFile(path.join(work.path, 'arm.dat'), arm)
    const manifests: Array<{digest: string; size: number; platform: {os: string; architecture: string}}> = []
    for (const [file, architecture] of [['amd.dat', 'amd64'], ['arm.dat', 'arm64']]) {
      const p = await sh(`ocitool push-blob fred/multi ${file} @${architecture}`, {cwd: work.path, env})
      assert.equal(p.code, 0, p.stderr)
      const res = await fetch(`${plain.url}/v2/fred/multi/manifests/${architecture}`, {headers: {accept: SCHEMA2}})
      const bytes = Buffer.from(await res.arrayBuffer())
      manifests.push({digest: sha256(bytes), size: bytes.length, platform: {os: 'linux', architecture}})
    }
    const list = JSON.stringify({schemaVersion: 2, mediaType: 'application/vnd.docker.distribution.manifest.list.v2+json', manifests: manifests.map((m) => ({mediaType: SCHEMA2, ...m}))})
    const put = await fetch(`${plain.url}/v2/fred/multi/manifests/multi`, {method: 'PUT', body: list, headers: {'content-type': 'application/vnd.docker.distribution.manifest.list.v2+json'}})
    assert.equal(put.status, 201, await put.text())
    const arm64 = {...env, DXF_PLATFORM: 'linux/arm64'}
    assert.equal((await sh('ocitool get-alias fred/multi multi', {cwd: work.path, env: arm64})).stdout, `${sha256(arm)}\n`)
    assert.ok((await sh('ocitool pull-blob fred/multi @multi', {cwd: work.path, env: arm64})).stdoutBytes.equals(arm))
    assert.equal((await sh('ocitool blob-size fred/multi @multi', {cwd: work.path, env: arm64})).stdout, `${arm.length}\n`)
    assert.equal((await sh('ocitool get-digest fred/multi multi', {cwd: work.path, env: {...env, DXF_PLATFORM: 'linux/amd64'}})).stdout, `${sha256(amd)}\n`)
    const none = await sh('ocitool get-alias fred/multi multi', {cwd: work.path, env})
    assert.equal(none.code, 2, none.stderr)
    assert.match(none.stderr, /linux\/amd64, linux\/arm64/)
    const lacking = await sh('ocitool pull-blob fred/multi @multi', {cwd: work.path, env: {...env, DXF_PLATFORM: 'linux/s390x'}})
    assert.equal(lacking.code, 3, lacking.stderr)
    assert.equal(lacking.stdout, '', 'nothing written')
    const bad = await sh('ocitool get-alias fred/multi multi', {cwd: work.path, env: {...env, DXF_PLATFORM: 'linux/arm64/v8/x'}})
    assert.equal(bad.code, 2, bad.stderr)
    assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr)
  })

  it('DXF_PROGRESS=1 shows progress on stderr (not a terminal here), 0 or unset shows none; stdout is the same', async () => {
    const env = {DXF_HOST: plain.host, DXF_INSECURE: '1'}
    const shown = await sh('ocitool push-blob fred/progress logger.dat', {cwd: work.path, env: {...env, DXF_PROGRESS: '1'}})
    assert.equal(shown.code, 0, shown.stderr)
    assert.equal(shown.stdout, `${dataDigest}\n`)
    assert.notEqual(shown.stderr, '', 'progress on stderr')
    const pulled = await sh(`ocitool pull-blob fred/progress ${dataDigest}`, {cwd: work.path, env: {...env, DXF_PROGRESS: '1'}})
    assert.ok(pulled.stdoutBytes.equals(data))
    assert.notEqual(pulled.stderr, '')
    for (const value of ['0', undefined, 'sometimes']) {
      const quiet = await sh(`ocitool pull-blob fred/progress ${dataDigest}`, {cwd: work.path, env: {...env, DXF_PROGRESS: value}})
      assert.equal(quiet.code, 0, quiet.stderr)
      assert.ok(quiet.stdoutBytes.equals(data))
      assert.equal(quiet.stderr, '', `DXF_PROGRESS=${value}: stderr is not a terminal`)
    }
  })
})
