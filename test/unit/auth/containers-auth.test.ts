import assert from 'node:assert/strict'
import {mkdir, mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {
  ContainersAuthKeychain,
  containersAuthPaths,
  lookupKeys,
  normalizeContainersKey,
  parseRepositoryScopes,
  primaryRepository,
} from '../../../src/lib/auth/containers-auth.js'

const auth = (user: string, pass = 'p') => ({auth: Buffer.from(`${user}:${pass}`).toString('base64')})
const pull = (repo: string) => `repository:${repo}:pull`

let root: string
let n = 0
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'ocitool-auth-containers-'))
})
after(async () => {
  await rm(root, {recursive: true, force: true})
})

async function put(path: string, content: unknown): Promise<void> {
  await mkdir(dirname(path), {recursive: true})
  await writeFile(path, typeof content === 'string' ? content : JSON.stringify(content))
}

describe('containersAuthPaths', () => {
  for (const c of [
    {name: 'HOME only', env: {HOME: '/h'}, want: ['/h/.config/containers/auth.json']},
    {name: 'XDG_RUNTIME_DIR first', env: {HOME: '/h', XDG_RUNTIME_DIR: '/run/u'}, want: ['/run/u/containers/auth.json', '/h/.config/containers/auth.json']},
    {name: 'REGISTRY_AUTH_FILE instead of XDG_RUNTIME_DIR', env: {HOME: '/h', XDG_RUNTIME_DIR: '/run/u', REGISTRY_AUTH_FILE: '/a.json'}, want: ['/a.json', '/h/.config/containers/auth.json']},
    {name: 'XDG_CONFIG_HOME', env: {HOME: '/h', XDG_CONFIG_HOME: '/cfg'}, want: ['/cfg/containers/auth.json']},
    {name: 'no duplicates', env: {HOME: '/h', REGISTRY_AUTH_FILE: '/h/.config/containers/auth.json'}, want: ['/h/.config/containers/auth.json']},
  ]) {
    it(c.name, {skip: process.platform === 'win32'}, () => assert.deepEqual(containersAuthPaths({env: c.env}), c.want))
  }
})

describe('scopes', () => {
  for (const c of [
    {scopes: [], repos: [], primary: undefined},
    {scopes: ['registry:catalog:*'], repos: [], primary: undefined},
    {scopes: [pull('a/b')], repos: ['a/b'], primary: 'a/b'},
    {scopes: ['repository(plugin):a/p:pull'], repos: ['a/p'], primary: 'a/p'},
    {scopes: [pull('src/x'), 'repository:dst/y:pull,push', pull('mnt/z')], repos: ['src/x', 'dst/y', 'mnt/z'], primary: 'dst/y'},
    {scopes: ['repository:dst/y:*'], repos: ['dst/y'], primary: 'dst/y'},
    {scopes: ['repository::pull', 'garbage'], repos: [], primary: undefined},
  ]) {
    it(JSON.stringify(c.scopes), () => {
      assert.deepEqual(parseRepositoryScopes(c.scopes).map((s) => s.repository), c.repos)
      assert.equal(primaryRepository(c.scopes), c.primary)
    })
  }

  for (const c of [
    {key: 'quay.io', want: 'quay.io'},
    {key: 'quay.io/org/app/', want: 'quay.io/org/app'},
    {key: 'docker.io/library/ubuntu', want: 'index.docker.io/library/ubuntu'},
    {key: 'https://quay.io/v1/', want: 'quay.io'},
    {key: 'Quay.IO:443/Org', want: 'quay.io:443/Org'},
  ]) {
    it(`normalizeContainersKey(${c.key})`, () => assert.equal(normalizeContainersKey(c.key), c.want))
  }

  it('lookupKeys', () => {
    assert.deepEqual(lookupKeys('quay.io', 'a/b/c'), ['quay.io/a/b/c', 'quay.io/a/b', 'quay.io/a', 'quay.io'])
    assert.deepEqual(lookupKeys('docker.io'), ['index.docker.io'])
  })
})

describe('ContainersAuthKeychain', () => {
  const auths = {
    'quay.io': auth('host'),
    'quay.io/org': auth('org'),
    'quay.io/org/app': auth('app', 'x:y:z'),
    'docker.io/library/ubuntu': auth('ubuntu'),
    'docker.io': auth('hub'),
  }
  for (const c of [
    {name: 'most specific namespace', registry: 'quay.io', scopes: [pull('org/app')], want: 'app'},
    {name: 'deeper repository under a namespace', registry: 'quay.io', scopes: [pull('org/app/sub')], want: 'app'},
    {name: 'sibling repository: the org', registry: 'quay.io', scopes: [pull('org/other')], want: 'org'},
    {name: 'a name prefix is not a namespace', registry: 'quay.io', scopes: [pull('org/application')], want: 'org'},
    {name: 'another org: the host', registry: 'quay.io', scopes: [pull('else/x')], want: 'host'},
    {name: 'no scopes: the host', registry: 'quay.io', scopes: [], want: 'host'},
    {name: 'the pushed repository decides', registry: 'quay.io', scopes: [pull('else/x'), 'repository:org/app:pull,push'], want: 'app'},
    {name: 'Docker Hub namespace via registry-1.docker.io', registry: 'registry-1.docker.io', scopes: [pull('library/ubuntu')], want: 'ubuntu'},
    {name: 'Docker Hub host', registry: 'index.docker.io', scopes: [pull('library/alpine')], want: 'hub'},
    {name: 'unknown registry', registry: 'ghcr.io', scopes: [pull('org/app')], want: undefined},
  ]) {
    it(c.name, async () => {
      const file = join(root, `auth${n++}.json`)
      await put(file, {auths})
      const got = await new ContainersAuthKeychain({env: {HOME: join(root, 'nohome'), REGISTRY_AUTH_FILE: file}}).resolve({registry: c.registry, scopes: c.scopes})
      assert.equal(got?.credential.kind === 'basic' ? got.credential.username : got?.credential.kind, c.want)
      if (c.want === 'app') assert.deepEqual(got?.credential, {kind: 'basic', username: 'app', password: 'x:y:z'})
    })
  }

  it('reads $XDG_RUNTIME_DIR first and falls back to ~/.config per lookup', async () => {
    const home = join(root, `home${n++}`)
    const run = join(root, `run${n++}`)
    await put(join(run, 'containers', 'auth.json'), {auths: {'quay.io': auth('runtime')}})
    await put(join(home, '.config', 'containers', 'auth.json'), {auths: {'quay.io/org': auth('config'), 'ghcr.io': auth('gh')}})
    const k = new ContainersAuthKeychain({env: {HOME: home, XDG_RUNTIME_DIR: run}})
    const user = async (registry: string, scopes: string[]) => {
      const got = await k.resolve({registry, scopes})
      return got?.credential.kind === 'basic' ? got.credential.username : undefined
    }
    assert.equal(await user('quay.io', [pull('org/app')]), 'runtime', 'the first file holding a credential wins')
    assert.equal(await user('ghcr.io', [pull('a/b')]), 'gh')
    assert.equal(await user('example.com', []), undefined)
  })

  it('a malformed file is a warning, and the next file is read', async () => {
    const home = join(root, `home${n++}`)
    const broken = join(root, `broken${n++}.json`)
    await put(broken, '{"auths": ')
    await put(join(home, '.config', 'containers', 'auth.json'), {auths: {'quay.io': auth('config')}})
    const logs: string[] = []
    const got = await new ContainersAuthKeychain({env: {HOME: home, REGISTRY_AUTH_FILE: broken}, log: (m) => logs.push(m)}).resolve({registry: 'quay.io', scopes: []})
    assert.deepEqual(got?.credential, {kind: 'basic', username: 'config', password: 'p'})
    assert.deepEqual(logs, [`containers auth file ${broken} is not valid JSON; ignored`])
  })

  it('missing files: nothing', async () => {
    const got = await new ContainersAuthKeychain({env: {HOME: join(root, 'none'), XDG_RUNTIME_DIR: join(root, 'none2')}}).resolve({registry: 'quay.io', scopes: []})
    assert.equal(got, undefined)
  })
})
