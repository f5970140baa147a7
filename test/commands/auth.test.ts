// Credentials end to end against the real registry in its auth flavours: htpasswd basic auth,
// TLS with a generated CA, and token auth with the test token server. Covers the auth
// commands, the env and Docker-config keychains, a real credential helper, and the errors.
import assert from 'node:assert/strict'
import {chmod, mkdir, readFile, stat, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {runCli} from '../support/cli.js'
import {type PushedFixture, pushFixture} from '../support/fixtures.js'
import {type RunningRegistry, startRegistry} from '../support/registry.js'
import {tmpDir} from '../support/tmp.js'

const claims = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString('utf8'))

describe('basic auth registry', () => {
  let reg: RunningRegistry
  let img: PushedFixture
  before(async () => {
    reg = await startRegistry({flavour: 'basic'})
    img = await pushFixture(reg, 'sec/app:v1', 'oci', 'auth-basic')
  })
  after(() => reg?.stop())

  it('without credentials: exit 4 and a line that says how to log in', async () => {
    const r = await runCli(['digest', `${reg.host}/sec/app:v1`])
    assert.equal(r.code, 4)
    assert.equal(r.stderr, `Error: unauthorized: ${reg.host}/sec/app:v1: authentication required (ocitool auth login ${reg.host})\n`)
  })

  it('wrong password: exit 4, "check your credentials", and the password is never printed', async () => {
    const r = await runCli(['digest', `${reg.host}/sec/app:v1`, '--username', 'alice', '--password-stdin', '-v'], {input: 'not-the-pw\n'})
    assert.equal(r.code, 4)
    assert.match(r.stderr, /unauthorized: .*: check your credentials \(ocitool auth login /)
    assert.ok(!r.stderr.includes('not-the-pw'))
  })

  it('--username with --password-stdin works, and --verbose redacts the Authorization header', async () => {
    const r = await runCli(['digest', `${reg.host}/sec/app:v1`, '--username', 'alice', '--password-stdin', '--verbose'], {input: `${reg.users.alice}\n`})
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, `${img.manifestDigest}\n`)
    assert.match(r.stderr, /authorization: Basic REDACTED/)
    assert.ok(!r.stderr.includes(reg.users.alice))
    assert.ok(!r.stderr.includes(Buffer.from(`alice:${reg.users.alice}`).toString('base64')))
  })

  it('OCITOOL_USERNAME/OCITOOL_PASSWORD work', async () => {
    const r = await runCli(['manifest', `${reg.host}/sec/app:v1`], {env: {OCITOOL_USERNAME: 'alice', OCITOOL_PASSWORD: reg.users.alice}})
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(r.stdoutBytes, img.manifestBytes)
  })

  it('auth login checks, stores (0600), and later commands use it; auth get; auth logout', async () => {
    const home = await tmpDir('auth-home')
    const env = {HOME: home.path, DOCKER_CONFIG: join(home.path, 'docker')}
    const bad = await runCli(['auth', 'login', reg.host, '-u', 'alice', '--password-stdin'], {env, input: 'wrong'})
    assert.equal(bad.code, 4, bad.stderr)
    await assert.rejects(stat(join(env.DOCKER_CONFIG, 'config.json')), 'nothing stored for a refused login')

    const ok = await runCli(['auth', 'login', reg.host, '-u', 'alice', '--password-stdin'], {env, input: `${reg.users.alice}\n`})
    assert.equal(ok.code, 0, ok.stderr)
    const file = join(env.DOCKER_CONFIG, 'config.json')
    assert.equal((await stat(file)).mode & 0o777, 0o600)
    const cfg = JSON.parse(await readFile(file, 'utf8'))
    assert.equal(Buffer.from(cfg.auths[reg.host].auth, 'base64').toString(), `alice:${reg.users.alice}`)

    const digest = await runCli(['digest', `${reg.host}/sec/app:v1`], {env})
    assert.equal(digest.stdout, `${img.manifestDigest}\n`, digest.stderr)
    const get = await runCli(['auth', 'get', reg.host], {env})
    assert.deepEqual(JSON.parse(get.stdout), {ServerURL: reg.host, Username: 'alice', Secret: reg.users.alice})
    const viaStdin = await runCli(['auth', 'get'], {env, input: `${reg.host}\n`})
    assert.equal(JSON.parse(viaStdin.stdout).Username, 'alice')

    const out = await runCli(['auth', 'logout', reg.host], {env})
    assert.equal(out.code, 0, out.stderr)
    assert.equal(JSON.parse(await readFile(file, 'utf8')).auths[reg.host], undefined)
    assert.equal((await runCli(['digest', `${reg.host}/sec/app:v1`], {env})).code, 4)
    const none = await runCli(['auth', 'get', reg.host], {env})
    assert.equal(none.code, 3)
    await home.remove()
  })

  it('a docker-credential helper named by credHelpers supplies the password', async () => {
    const home = await tmpDir('auth-helper')
    const bin = join(home.path, 'bin')
    await mkdir(bin)
    const script = join(bin, 'docker-credential-testhelper')
    await writeFile(script, `#!/bin/sh\nread server\nif [ "$1" = get ] && [ "$server" = "${reg.host}" ]; then printf '{"ServerURL":"%s","Username":"alice","Secret":"${reg.users.alice}"}' "$server"; exit 0; fi\necho "credentials not found in native keychain"; exit 1\n`)
    await chmod(script, 0o755)
    const dockerDir = join(home.path, 'docker')
    await mkdir(dockerDir)
    await writeFile(join(dockerDir, 'config.json'), JSON.stringify({credHelpers: {[reg.host]: 'testhelper'}}))
    const r = await runCli(['digest', `${reg.host}/sec/app:v1`], {env: {HOME: home.path, DOCKER_CONFIG: dockerDir, PATH: `${bin}:${process.env.PATH}`}})
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, `${img.manifestDigest}\n`)
    await home.remove()
  })
})

describe('TLS registry with a generated CA', () => {
  let reg: RunningRegistry
  let img: PushedFixture
  before(async () => {
    reg = await startRegistry({flavour: 'tls'})
    img = await pushFixture(reg, 'tls/app:v1', 'docker', 'auth-tls')
  })
  after(() => reg?.stop())

  it('an untrusted certificate is exit 5 with a hint; --ca-file, NODE_EXTRA_CA_CERTS and --insecure work', async () => {
    const ref = `${reg.host}/tls/app:v1`
    const untrusted = await runCli(['digest', ref])
    assert.equal(untrusted.code, 5)
    assert.match(untrusted.stderr, /^Error: 127\.0\.0\.1:\d+: TLS certificate not trusted \(.*\) \(pass the CA with --ca-file FILE, or use --insecure\)\n$/)
    for (const args of [['--ca-file', reg.caFile!], ['--insecure']]) {
      const r = await runCli(['digest', ref, ...args])
      assert.equal(r.code, 0, r.stderr)
      assert.equal(r.stdout, `${img.manifestDigest}\n`)
    }
    const env = await runCli(['digest', ref], {env: {NODE_EXTRA_CA_CERTS: reg.caFile!}})
    assert.equal(env.stdout, `${img.manifestDigest}\n`, env.stderr)
  })

  it('on loopback, HTTP is asked first but the TLS port answers as no registry: HTTPS is used', async () => {
    const r = await runCli(['digest', `${reg.host}/tls/app:v1`, '--ca-file', reg.caFile!, '--verbose'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, `${img.manifestDigest}\n`)
    const sent = r.stderr.split('\n').filter((l) => l.startsWith('--> '))
    assert.deepEqual(sent, [`--> GET http://${reg.host}/v2/`, `--> GET https://${reg.host}/v2/`, `--> HEAD https://${reg.host}/tls/app/manifests/v1`.replace('/tls/', '/v2/tls/')])
  })
})

describe('token auth registry', () => {
  let reg: RunningRegistry
  let img: PushedFixture
  before(async () => {
    reg = await startRegistry({flavour: 'token'})
    img = await pushFixture(reg, 'tok/app:v1', 'oci', 'auth-token')
  })
  after(() => reg?.stop())
  const alice = () => ['--username', 'alice', '--password', reg.users.alice]

  it('anonymous: exit 4 naming the repository', async () => {
    const r = await runCli(['manifest', `${reg.host}/tok/app:v1`])
    assert.equal(r.code, 4)
    assert.match(r.stderr, new RegExp(`^Error: unauthorized: ${reg.host}/tok/app(:v1)?: authentication required \\(ocitool auth login ${reg.host}\\)`))
  })

  it('alice reads with one token request carrying the scope; tag asks once for pull and push', async () => {
    const before = reg.tokenServer!.requests().length
    const r = await runCli(['manifest', `${reg.host}/tok/app:v1`, ...alice()])
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(r.stdoutBytes, img.manifestBytes)
    const reqs = reg.tokenServer!.requests().slice(before)
    assert.equal(reqs.length, 1)
    assert.deepEqual(reqs[0].scopes, ['repository:tok/app:pull'])
    assert.equal(reqs[0].user, 'alice')

    const mark = reg.tokenServer!.requests().length
    const t = await runCli(['tag', `${reg.host}/tok/app:v1`, 'v2', ...alice()])
    assert.equal(t.code, 0, t.stderr)
    const tagReqs = reg.tokenServer!.requests().slice(mark)
    assert.ok(tagReqs.length <= 2, JSON.stringify(tagReqs))
    assert.deepEqual(tagReqs.at(-1)!.scopes, ['repository:tok/app:pull,push'])
  })

  it('bob may pull but not push: tag is exit 4 "denied"/unauthorized and no tag appears', async () => {
    const bob = ['--username', 'bob', '--password', reg.users.bob]
    assert.equal((await runCli(['digest', `${reg.host}/tok/app:v1`, ...bob])).code, 0)
    const r = await runCli(['tag', `${reg.host}/tok/app:v1`, 'by-bob', ...bob])
    assert.equal(r.code, 4, r.stderr)
    assert.match(r.stderr, /^Error: (unauthorized|denied): /)
    const ls = await runCli(['ls', `${reg.host}/tok/app`, ...alice()])
    assert.ok(!ls.stdout.split('\n').includes('by-bob'))
  })

  it('auth token gives a bearer token with the scopes asked (--push, -m, -H)', async () => {
    const r = await runCli(['auth', 'token', `${reg.host}/tok/app`, '--push', '-m', `${reg.host}/tok/other`, ...alice()])
    assert.equal(r.code, 0, r.stderr)
    const access = claims(JSON.parse(r.stdout).token).access
    assert.deepEqual(access.find((a: {name: string}) => a.name === 'tok/app').actions.sort(), ['pull', 'push'])
    assert.deepEqual(access.find((a: {name: string}) => a.name === 'tok/other').actions, ['pull'])
    const h = await runCli(['auth', 'token', `${reg.host}/tok/app`, '-H', ...alice()])
    assert.match(h.stdout, /^Authorization: Bearer [\w-]+\.[\w-]+\.[\w-]+\n$/)
  })

  it('ACCESS_TOKEN goes as it is where the realm has no exchange endpoint; REFRESH_TOKEN is exchanged with the refresh_token grant', async () => {
    const token = reg.tokenServer!.issue('alice', ['repository:tok/app:pull'])
    const before = reg.tokenServer!.requests().length
    const a = await runCli(['digest', `${reg.host}/tok/app:v1`], {env: {ACCESS_TOKEN: token}})
    assert.equal(a.stdout, `${img.manifestDigest}\n`, a.stderr)
    // the realm is /token: its sibling /exchange is asked once, answers 404, and the token is used as it is
    assert.deepEqual(reg.tokenServer!.requests().slice(before).map((q) => [q.method, q.path, q.status]), [['POST', '/exchange', 404]])

    const res = await fetch(reg.tokenServer!.realm, {
      method: 'POST',
      headers: {'content-type': 'application/x-www-form-urlencoded'},
      body: new URLSearchParams({grant_type: 'password', username: 'alice', password: reg.users.alice, service: reg.tokenServer!.service, client_id: 'test'}),
    })
    const refresh = (await res.json()).refresh_token as string
    assert.ok(refresh)
    const mark = reg.tokenServer!.requests().length
    const r = await runCli(['digest', `${reg.host}/tok/app:v1`], {env: {REFRESH_TOKEN: refresh}})
    assert.equal(r.stdout, `${img.manifestDigest}\n`, r.stderr)
    const used = reg.tokenServer!.requests().slice(mark)
    assert.equal(used.length, 1)
    assert.equal(used[0].grantType, 'refresh_token')
    assert.equal(used[0].method, 'POST')
  })

  it('an identitytoken in the Docker config is exchanged with POST', async () => {
    const res = await fetch(reg.tokenServer!.realm, {
      method: 'POST',
      headers: {'content-type': 'application/x-www-form-urlencoded'},
      body: new URLSearchParams({grant_type: 'password', username: 'alice', password: reg.users.alice, service: reg.tokenServer!.service, client_id: 'test'}),
    })
    const refresh = (await res.json()).refresh_token as string
    const home = await tmpDir('auth-idtoken')
    await writeFile(join(home.path, 'config.json'), JSON.stringify({auths: {[reg.host]: {auth: Buffer.from('alice:').toString('base64'), identitytoken: refresh}}}))
    const r = await runCli(['digest', `${reg.host}/tok/app:v1`], {env: {HOME: home.path, DOCKER_CONFIG: home.path}})
    assert.equal(r.stdout, `${img.manifestDigest}\n`, r.stderr)
    await home.remove()
  })
})
