import assert from 'node:assert/strict'
import {chmod, mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {DockerConfigKeychain, dockerConfigPath, removeCredential, saveCredential} from '../../../src/lib/auth/docker-config.js'
import type {Credential} from '../../../src/lib/auth/types.js'
import {isOcitoolError} from '../../../src/lib/errors.js'

const b64 = (s: string) => Buffer.from(s).toString('base64')
const posix = process.platform !== 'win32'

let root: string
let n = 0
/** a fresh HOME with an optional ~/.docker/config.json (string: written as is) */
async function home(config?: unknown): Promise<{home: string; env: Record<string, string>; path: string}> {
  const h = join(root, `home${n++}`)
  await mkdir(h)
  const path = join(h, '.docker', 'config.json')
  if (config !== undefined) {
    await mkdir(join(h, '.docker'))
    await writeFile(path, typeof config === 'string' ? config : JSON.stringify(config))
  }
  return {home: h, env: {HOME: h, PATH: '/nonexistent'}, path}
}

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'ocitool-auth-docker-'))
})
after(async () => {
  await rm(root, {recursive: true, force: true})
})

describe('dockerConfigPath', () => {
  for (const c of [
    {name: 'HOME', env: {HOME: '/h'}, want: join('/h', '.docker', 'config.json')},
    {name: 'DOCKER_CONFIG wins', env: {HOME: '/h', DOCKER_CONFIG: '/d'}, want: join('/d', 'config.json')},
    {name: 'home option wins over HOME', env: {HOME: '/h'}, home: '/o', want: join('/o', '.docker', 'config.json')},
    {name: 'configDir wins', env: {DOCKER_CONFIG: '/d'}, configDir: '/c', want: join('/c', 'config.json')},
  ]) {
    it(c.name, () => assert.equal(dockerConfigPath({env: c.env, ...(c.home ? {home: c.home} : {}), ...(c.configDir ? {configDir: c.configDir} : {})}), c.want))
  }
})

describe('DockerConfigKeychain auths', () => {
  const cases: {name: string; auths: Record<string, unknown>; registry: string; want?: Credential; key?: string; warns?: RegExp}[] = [
    {name: 'Hub legacy key', auths: {'https://index.docker.io/v1/': {auth: b64('u:p')}}, registry: 'registry-1.docker.io', want: {kind: 'basic', username: 'u', password: 'p'}},
    {name: 'Hub as docker.io', auths: {'docker.io': {auth: b64('u:p')}}, registry: 'index.docker.io', want: {kind: 'basic', username: 'u', password: 'p'}},
    {name: 'http:// key', auths: {'http://host:5000': {auth: b64('u:p')}}, registry: 'host:5000', want: {kind: 'basic', username: 'u', password: 'p'}},
    {name: 'https:// key with path', auths: {'https://host:5000/v2/': {auth: b64('u:p')}}, registry: 'host:5000', want: {kind: 'basic', username: 'u', password: 'p'}},
    {name: 'password with colons', auths: {h: {auth: b64('u:p:a:ss:')}}, registry: 'h', want: {kind: 'basic', username: 'u', password: 'p:a:ss:'}},
    {name: 'username and password fields', auths: {h: {username: 'u', password: 'x:y'}}, registry: 'h', want: {kind: 'basic', username: 'u', password: 'x:y'}},
    {name: 'identity token keeps the username', auths: {h: {auth: b64('u:'), identitytoken: 'it'}}, registry: 'h', want: {kind: 'identityToken', token: 'it', username: 'u'}},
    {name: 'identity token alone', auths: {h: {identitytoken: 'it'}}, registry: 'h', want: {kind: 'identityToken', token: 'it'}},
    {name: 'registry token wins', auths: {h: {auth: b64('u:p'), identitytoken: 'it', registrytoken: 'rt'}}, registry: 'h', want: {kind: 'registryToken', token: 'rt'}},
    {name: 'another registry', auths: {h: {auth: b64('u:p')}}, registry: 'g', want: undefined},
    {name: 'port matters', auths: {'h:5000': {auth: b64('u:p')}}, registry: 'h:5001', want: undefined},
    {name: 'empty entry (helper login marker)', auths: {h: {}}, registry: 'h', want: undefined},
    {
      name: 'exact key beats other spellings',
      auths: {'https://h:5000': {auth: b64('old:x')}, 'h:5000': {auth: b64('new:y')}},
      registry: 'h:5000',
      want: {kind: 'basic', username: 'new', password: 'y'},
      key: 'h:5000',
    },
    {name: 'an empty entry falls through to another spelling', auths: {h: {}, 'https://h/': {auth: b64('u:p')}}, registry: 'h', want: {kind: 'basic', username: 'u', password: 'p'}},
    {name: 'auth without a colon', auths: {h: {auth: b64('nocolon')}}, registry: 'h', want: undefined, warns: /auths\["h"\]: "auth" is not base64 of user:password; ignored/},
    {name: 'entry not an object', auths: {h: 'x'}, registry: 'h', want: undefined, warns: /auths\["h"\] is not a JSON object; ignored/},
  ]
  for (const c of cases) {
    it(c.name, async () => {
      const h = await home({auths: c.auths, otherSetting: true})
      const logs: string[] = []
      const got = await new DockerConfigKeychain({env: h.env, log: (m) => logs.push(m)}).resolve({registry: c.registry, scopes: []})
      assert.deepEqual(got?.credential, c.want)
      if (got) assert.ok(got.source.includes(h.path), got.source)
      if (c.key) assert.ok(got?.source.includes(JSON.stringify(c.key)), got?.source)
      if (c.warns) assert.match(logs.join('\n'), c.warns)
      else assert.deepEqual(logs, [])
      for (const l of logs) assert.ok(!l.includes('nocolon'), 'no secret in warnings')
    })
  }

  it('missing file: nothing, no warning', async () => {
    const h = await home()
    const logs: string[] = []
    assert.equal(await new DockerConfigKeychain({env: h.env, log: (m) => logs.push(m)}).resolve({registry: 'h', scopes: []}), undefined)
    assert.deepEqual(logs, [])
  })

  for (const c of [
    {name: 'malformed JSON', text: '{"auths": {"h": {"auth": "c2VjcmV0OnB3"}}', warn: 'is not valid JSON; ignored'},
    {name: 'not an object', text: '["c2VjcmV0OnB3"]', warn: 'is not a JSON object; ignored'},
  ]) {
    it(`${c.name}: a warning naming the file, no credential`, async () => {
      const h = await home(c.text)
      const logs: string[] = []
      const k = new DockerConfigKeychain({env: h.env, log: (m) => logs.push(m)})
      assert.equal(await k.resolve({registry: 'h', scopes: []}), undefined)
      assert.equal(await k.resolve({registry: 'h', scopes: []}), undefined)
      assert.deepEqual(logs, [`docker config ${h.path} ${c.warn}`], 'once, and without the file content')
    })
  }

  it('DOCKER_CONFIG is read instead of HOME', async () => {
    const h = await home({auths: {h: {auth: b64('home:p')}}})
    const dir = join(h.home, 'elsewhere')
    await mkdir(dir)
    await writeFile(join(dir, 'config.json'), JSON.stringify({auths: {h: {auth: b64('dc:p')}}}))
    const got = await new DockerConfigKeychain({env: {...h.env, DOCKER_CONFIG: dir}}).resolve({registry: 'h', scopes: []})
    assert.deepEqual(got?.credential, {kind: 'basic', username: 'dc', password: 'p'})
  })
})

describe('saveCredential and removeCredential (file)', () => {
  it('creates the directory 0700 and the file 0600, and the credential reads back', async () => {
    const h = await home()
    const where = await saveCredential('https://registry-1.docker.io/v2/', {username: 'u', password: 'p:w:d'}, {env: h.env})
    assert.deepEqual(where, {location: h.path})
    const file = JSON.parse(await readFile(h.path, 'utf8'))
    assert.deepEqual(file, {auths: {'https://index.docker.io/v1/': {auth: b64('u:p:w:d')}}})
    if (posix) {
      assert.equal((await stat(h.path)).mode & 0o777, 0o600)
      assert.equal((await stat(join(h.home, '.docker'))).mode & 0o777, 0o700)
    }
    const got = await new DockerConfigKeychain({env: h.env}).resolve({registry: 'docker.io', scopes: []})
    assert.deepEqual(got?.credential, {kind: 'basic', username: 'u', password: 'p:w:d'})
  })

  it('over an existing 0644 file: keeps every other key, replaces stale tokens, ends 0600', async () => {
    const h = await home({
      auths: {'h:5000': {auth: b64('old:x'), identitytoken: 'stale', email: 'e@x'}, 'other.io': {auth: b64('o:p')}},
      credHelpers: {'gcr.io': 'gcloud'},
      psFormat: 'table {{.ID}}',
      proxies: {default: {httpProxy: 'http://proxy'}},
    })
    await chmod(h.path, 0o644)
    await saveCredential('http://h:5000', {username: 'new', password: 'y'}, {env: h.env})
    const file = JSON.parse(await readFile(h.path, 'utf8'))
    assert.deepEqual(file, {
      auths: {'h:5000': {email: 'e@x', auth: b64('new:y')}, 'other.io': {auth: b64('o:p')}},
      credHelpers: {'gcr.io': 'gcloud'},
      psFormat: 'table {{.ID}}',
      proxies: {default: {httpProxy: 'http://proxy'}},
    })
    if (posix) assert.equal((await stat(h.path)).mode & 0o777, 0o600)
  })

  it('keeps a symlinked config a symlink', {skip: !posix}, async () => {
    const h = await home()
    const real = join(h.home, 'dotfiles-config.json')
    await writeFile(real, JSON.stringify({auths: {}}))
    await mkdir(join(h.home, '.docker'))
    await symlink(real, h.path)
    await saveCredential('h', {username: 'u', password: 'p'}, {env: h.env})
    assert.deepEqual(JSON.parse(await readFile(real, 'utf8')), {auths: {h: {auth: b64('u:p')}}})
  })

  it('refuses to rewrite a malformed config', async () => {
    const h = await home('{broken')
    await assert.rejects(saveCredential('h', {username: 'u', password: 'p'}, {env: h.env}), (e) => isOcitoolError(e) && e.code === 'CONFIG_INVALID')
    assert.equal(await readFile(h.path, 'utf8'), '{broken')
  })

  for (const c of [
    {name: 'colon in username', cred: {username: 'a:b', password: 'p'}, registry: 'h'},
    {name: 'empty password', cred: {username: 'u', password: ''}, registry: 'h'},
    {name: 'empty registry', cred: {username: 'u', password: 'p'}, registry: ' '},
  ]) {
    it(`usage error: ${c.name}`, async () => {
      const h = await home()
      await assert.rejects(saveCredential(c.registry, c.cred, {env: h.env}), (e) => isOcitoolError(e) && e.exitCode === 2)
    })
  }

  it('removeCredential deletes every spelling of the host and nothing else', async () => {
    const h = await home({auths: {'h:5000': {auth: b64('u:p')}, 'https://h:5000/v2/': {auth: b64('u:p')}, 'g:5000': {auth: b64('g:p')}}, x: 1})
    assert.deepEqual(await removeCredential('h:5000', {env: h.env}), {location: h.path, removed: true})
    assert.deepEqual(JSON.parse(await readFile(h.path, 'utf8')), {auths: {'g:5000': {auth: b64('g:p')}}, x: 1})
    assert.deepEqual(await removeCredential('h:5000', {env: h.env}), {location: h.path, removed: false})
  })

  it('removeCredential with no file: nothing removed, no file created', async () => {
    const h = await home()
    assert.deepEqual(await removeCredential('h', {env: h.env}), {location: h.path, removed: false})
    await assert.rejects(stat(h.path), {code: 'ENOENT'})
  })
})
