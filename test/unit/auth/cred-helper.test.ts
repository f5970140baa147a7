/**
 * A real credential helper: `docker-credential-fake`, a shell script first on PATH that runs a
 * small Node program keeping credentials in a JSON file and logging each call.
 */
import assert from 'node:assert/strict'
import {chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {delimiter, join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {helperErase, helperGet, helperList, helperStore} from '../../../src/lib/auth/cred-helper.js'
import {DockerConfigKeychain, removeCredential, saveCredential} from '../../../src/lib/auth/docker-config.js'
import type {Credential} from '../../../src/lib/auth/types.js'
import {isOcitoolError} from '../../../src/lib/errors.js'

const fakeHelper = `
const fs = require('node:fs')
const store = process.env.FAKE_STORE
const read = () => (fs.existsSync(store) ? JSON.parse(fs.readFileSync(store, 'utf8')) : {})
const input = fs.readFileSync(0, 'utf8')
const action = process.argv[2]
fs.appendFileSync(process.env.FAKE_LOG, action + ' ' + (action === 'store' ? JSON.parse(input).ServerURL : input.trim()) + '\\n')
const notFound = () => { process.stdout.write('credentials not found in native keychain\\n'); process.exit(1) }
const db = read()
if (input.trim() === 'broken.example') { process.stdout.write('the keychain is locked\\n'); process.exit(1) }
if (input.trim() === 'slow.example') { setTimeout(() => {}, 20000); return }
switch (action) {
  case 'get': {
    const c = db[input.trim()]
    if (!c) notFound()
    process.stdout.write(JSON.stringify({ServerURL: input.trim(), Username: c.Username, Secret: c.Secret}))
    break
  }
  case 'store': {
    const c = JSON.parse(input)
    db[c.ServerURL] = {Username: c.Username, Secret: c.Secret}
    fs.writeFileSync(store, JSON.stringify(db))
    break
  }
  case 'erase': {
    if (!db[input.trim()]) notFound()
    delete db[input.trim()]
    fs.writeFileSync(store, JSON.stringify(db))
    break
  }
  case 'list': {
    const out = {}
    for (const [k, v] of Object.entries(db)) out[k] = v.Username
    process.stdout.write(JSON.stringify(out))
    break
  }
  default:
    process.stderr.write('unknown action\\n'); process.exit(2)
}
`

let root: string
let binDir: string
let n = 0

interface World {
  home: string
  env: Record<string, string>
  configPath: string
  storePath: string
  logPath: string
  calls(): Promise<string[]>
  helperStore(): Promise<Record<string, {Username: string; Secret: string}>>
}

/** a fresh HOME with a Docker config, a helper store and the fake helper first on PATH */
async function world(config: unknown, store: Record<string, {Username: string; Secret: string}> = {}): Promise<World> {
  const home = join(root, `home${n++}`)
  await mkdir(join(home, '.docker'), {recursive: true})
  const configPath = join(home, '.docker', 'config.json')
  await writeFile(configPath, JSON.stringify(config))
  const storePath = join(home, 'store.json')
  await writeFile(storePath, JSON.stringify(store))
  const logPath = join(home, 'calls.log')
  await writeFile(logPath, '')
  return {
    home,
    configPath,
    storePath,
    logPath,
    env: {HOME: home, PATH: [binDir, process.env.PATH ?? ''].join(delimiter), FAKE_STORE: storePath, FAKE_LOG: logPath},
    calls: async () => (await readFile(logPath, 'utf8')).split('\n').filter(Boolean),
    helperStore: async () => JSON.parse(await readFile(storePath, 'utf8')),
  }
}

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'ocitool-auth-helper-'))
  binDir = join(root, 'bin')
  await mkdir(binDir)
  await writeFile(join(binDir, 'fake-helper.cjs'), fakeHelper)
  const script = join(binDir, 'docker-credential-fake')
  await writeFile(script, `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} "$(dirname "$0")/fake-helper.cjs" "$@"\n`)
  await chmod(script, 0o755)
})
after(async () => {
  await rm(root, {recursive: true, force: true})
})

const skip = process.platform === 'win32'

describe('credential helper protocol', {skip}, () => {
  it('store, get, list, erase', async () => {
    const w = await world({})
    const opts = {env: w.env}
    assert.equal(await helperGet('fake', 'h:5000', opts), undefined)
    await helperStore('fake', {serverURL: 'h:5000', username: 'u', secret: 's:e:c'}, opts)
    assert.deepEqual(await helperGet('fake', 'h:5000', opts), {serverURL: 'h:5000', username: 'u', secret: 's:e:c'})
    assert.deepEqual(await helperList('fake', opts), {'h:5000': 'u'})
    assert.equal(await helperErase('fake', 'h:5000', opts), true)
    assert.equal(await helperErase('fake', 'h:5000', opts), false)
  })

  for (const c of [
    {name: 'a failing helper', registry: 'broken.example', code: 'CREDENTIAL_HELPER', message: /docker-credential-fake get failed: the keychain is locked/},
    {name: 'a hanging helper', registry: 'slow.example', code: 'CREDENTIAL_HELPER', message: /timed out/},
  ]) {
    it(c.name, async () => {
      const w = await world({})
      await assert.rejects(helperGet('fake', c.registry, {env: w.env, timeoutMs: 500}), (e) => {
        assert.ok(isOcitoolError(e))
        assert.equal(e.code, c.code)
        assert.match(e.message, c.message)
        return true
      })
    })
  }

  for (const name of ['../fake', 'a/b', '']) {
    it(`refuses helper name ${JSON.stringify(name)}`, async () => {
      await assert.rejects(helperGet(name, 'h', {env: {PATH: binDir}}), (e) => isOcitoolError(e) && e.code === 'CREDENTIAL_HELPER')
    })
  }
})

describe('DockerConfigKeychain with helpers', {skip}, () => {
  const cases: {
    name: string
    config: unknown
    store: Record<string, {Username: string; Secret: string}>
    registry: string
    want?: Credential
    calls?: string[]
    warns?: RegExp
  }[] = [
    {
      name: 'credsStore, Docker Hub, <token> username is an identity token',
      config: {credsStore: 'fake'},
      store: {'https://index.docker.io/v1/': {Username: '<token>', Secret: 'refresh-me'}},
      registry: 'registry-1.docker.io',
      want: {kind: 'identityToken', token: 'refresh-me'},
      calls: ['get https://index.docker.io/v1/'],
    },
    {
      name: 'credsStore, basic, password with colons',
      config: {credsStore: 'fake'},
      store: {'h:5000': {Username: 'u', Secret: 'a:b:c'}},
      registry: 'h:5000',
      want: {kind: 'basic', username: 'u', password: 'a:b:c'},
      calls: ['get h:5000'],
    },
    {
      name: 'old https:// form is found too',
      config: {credsStore: 'fake'},
      store: {'https://h:5000': {Username: 'u', Secret: 'p'}},
      registry: 'h:5000',
      want: {kind: 'basic', username: 'u', password: 'p'},
      calls: ['get h:5000', 'get https://h:5000'],
    },
    {
      name: 'not found: nothing',
      config: {credsStore: 'fake', auths: {'h:5000': {}}},
      store: {},
      registry: 'h:5000',
      want: undefined,
      calls: ['get h:5000', 'get https://h:5000'],
    },
    {
      name: 'not found in the helper: auths entry used',
      config: {credsStore: 'fake', auths: {'h:5000': {auth: Buffer.from('file:p').toString('base64')}}},
      store: {},
      registry: 'h:5000',
      want: {kind: 'basic', username: 'file', password: 'p'},
    },
    {
      name: 'credHelpers beats credsStore for its host',
      config: {credsStore: 'absent', credHelpers: {'https://h:5000': 'fake'}},
      store: {'h:5000': {Username: 'u', Secret: 'p'}},
      registry: 'h:5000',
      want: {kind: 'basic', username: 'u', password: 'p'},
      calls: ['get h:5000'],
    },
    {
      name: 'credHelpers beats auths',
      config: {credHelpers: {'h:5000': 'fake'}, auths: {'h:5000': {auth: Buffer.from('file:p').toString('base64')}}},
      store: {'h:5000': {Username: 'helper', Secret: 'p'}},
      registry: 'h:5000',
      want: {kind: 'basic', username: 'helper', password: 'p'},
    },
    {
      name: 'credHelpers for another host: not asked',
      config: {credHelpers: {'other.io': 'fake'}},
      store: {'h:5000': {Username: 'u', Secret: 'p'}},
      registry: 'h:5000',
      want: undefined,
      calls: [],
    },
    {
      name: 'helper not on PATH: warning, auths used',
      config: {credsStore: 'absent', auths: {'h:5000': {auth: Buffer.from('file:p').toString('base64')}}},
      store: {},
      registry: 'h:5000',
      want: {kind: 'basic', username: 'file', password: 'p'},
      warns: /^credential helper docker-credential-absent not found on PATH \(credsStore in .*config\.json\); skipped$/,
    },
  ]
  for (const c of cases) {
    it(c.name, async () => {
      const w = await world(c.config, c.store)
      const logs: string[] = []
      const got = await new DockerConfigKeychain({env: w.env, log: (m) => logs.push(m)}).resolve({registry: c.registry, scopes: []})
      assert.deepEqual(got?.credential, c.want)
      if (c.calls) assert.deepEqual(await w.calls(), c.calls)
      if (c.warns) {
        assert.equal(logs.length, 1)
        assert.match(logs[0] ?? '', c.warns)
      } else assert.deepEqual(logs, [])
    })
  }

  it('a failing helper is an error', async () => {
    const w = await world({credsStore: 'fake'})
    await assert.rejects(new DockerConfigKeychain({env: w.env}).resolve({registry: 'broken.example', scopes: []}), /the keychain is locked/)
  })
})

describe('saveCredential and removeCredential with helpers', {skip}, () => {
  it('credsStore: stored in the helper, the file keeps an empty marker and loses stale plaintext', async () => {
    const w = await world({credsStore: 'fake', auths: {'docker.io': {auth: Buffer.from('stale:x').toString('base64')}}, keep: 'me'})
    const where = await saveCredential('docker.io', {username: 'u', password: 'p:q'}, {env: w.env})
    assert.deepEqual(where, {location: 'helper fake'})
    assert.deepEqual(await w.helperStore(), {'https://index.docker.io/v1/': {Username: 'u', Secret: 'p:q'}})
    assert.deepEqual(JSON.parse(await readFile(w.configPath, 'utf8')), {
      credsStore: 'fake',
      auths: {'docker.io': {}, 'https://index.docker.io/v1/': {}},
      keep: 'me',
    })
    if (process.platform !== 'win32') assert.equal((await stat(w.configPath)).mode & 0o777, 0o600)
    const got = await new DockerConfigKeychain({env: w.env}).resolve({registry: 'index.docker.io', scopes: []})
    assert.deepEqual(got?.credential, {kind: 'basic', username: 'u', password: 'p:q'})

    assert.deepEqual(await removeCredential('registry-1.docker.io', {env: w.env}), {location: 'helper fake', removed: true})
    assert.deepEqual(await w.helperStore(), {})
    assert.deepEqual(JSON.parse(await readFile(w.configPath, 'utf8')), {credsStore: 'fake', auths: {}, keep: 'me'})
    assert.deepEqual(await removeCredential('registry-1.docker.io', {env: w.env}), {location: 'helper fake', removed: false})
  })

  it('credHelpers: stored under the bare host, erased in every form', async () => {
    const w = await world({credHelpers: {'h:5000': 'fake'}}, {'https://h:5000': {Username: 'old', Secret: 'x'}})
    assert.deepEqual(await saveCredential('https://h:5000/v2/', {username: 'u', password: 'p'}, {env: w.env}), {location: 'helper fake'})
    assert.deepEqual(Object.keys(await w.helperStore()).sort(), ['h:5000', 'https://h:5000'])
    assert.deepEqual(await removeCredential('h:5000', {env: w.env}), {location: 'helper fake', removed: true})
    assert.deepEqual(await w.helperStore(), {})
    const calls = await w.calls()
    assert.deepEqual(calls, ['store h:5000', 'erase h:5000', 'erase https://h:5000'])
  })

  it('a missing helper makes saving fail, not fall back to plaintext', async () => {
    const w = await world({credsStore: 'absent'})
    await assert.rejects(saveCredential('h', {username: 'u', password: 'p'}, {env: w.env}), (e) => isOcitoolError(e) && e.code === 'CREDENTIAL_HELPER_NOT_FOUND')
    assert.deepEqual(JSON.parse(await readFile(w.configPath, 'utf8')), {credsStore: 'absent'})
  })
})
