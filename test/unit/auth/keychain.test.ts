import assert from 'node:assert/strict'
import {mkdir, mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'

import {type DefaultKeychainOptions, MultiKeychain, defaultKeychain, defaultKeychains} from '../../../src/lib/auth/keychain.js'
import type {Keychain, ResolvedCredential} from '../../../src/lib/auth/types.js'
import {isOcitoolError} from '../../../src/lib/errors.js'

function fixed(name: string, username?: string): Keychain {
  return {
    name,
    resolve: async () => (username === undefined ? undefined : {credential: {kind: 'basic', username, password: 'p'}, source: name}),
  }
}
function throwing(name: string, message: string): Keychain {
  return {
    name,
    resolve: async () => {
      throw new Error(message)
    },
  }
}
const who = (r: ResolvedCredential | undefined) => (r?.credential.kind === 'basic' ? r.credential.username : r?.credential.kind)

describe('MultiKeychain', () => {
  for (const c of [
    {name: 'empty', chain: [], want: undefined, logs: []},
    {name: 'first answer wins', chain: [fixed('a', 'A'), fixed('b', 'B')], want: 'A', logs: []},
    {name: 'undefined passes on', chain: [fixed('a'), fixed('b', 'B')], want: 'B', logs: []},
    {name: 'nobody answers', chain: [fixed('a'), fixed('b')], want: undefined, logs: []},
    {
      name: 'a throwing keychain is skipped with a warning',
      chain: [fixed('a'), throwing('boom', 'kaput'), fixed('c', 'C')],
      want: 'C',
      logs: ['keychain boom failed: kaput; skipped'],
    },
    {
      name: 'throwing keychains after an answer are not asked',
      chain: [fixed('a', 'A'), throwing('boom', 'kaput')],
      want: 'A',
      logs: [],
    },
  ]) {
    it(c.name, async () => {
      const logs: string[] = []
      const got = await new MultiKeychain(c.chain, {log: (m) => logs.push(m)}).resolve({registry: 'r', scopes: []})
      assert.equal(who(got), c.want)
      assert.deepEqual(logs, c.logs)
    })
  }

  it('without log, a throwing keychain is still skipped', async () => {
    assert.equal(who(await new MultiKeychain([throwing('x', 'y'), fixed('b', 'B')]).resolve({registry: 'r', scopes: []})), 'B')
  })
})

describe('defaultKeychains', () => {
  let home: string
  before(async () => {
    home = await mkdtemp(join(tmpdir(), 'ocitool-auth-keychain-'))
    await mkdir(join(home, '.docker'))
    await writeFile(
      join(home, '.docker', 'config.json'),
      JSON.stringify({auths: {'docker.io': {auth: Buffer.from('docker:p').toString('base64')}, 'quay.io': {auth: Buffer.from('docker:p').toString('base64')}}}),
    )
    await mkdir(join(home, '.config', 'containers'), {recursive: true})
    await writeFile(
      join(home, '.config', 'containers', 'auth.json'),
      JSON.stringify({auths: {'quay.io': {auth: Buffer.from('podman:p').toString('base64')}, 'ghcr.io': {auth: Buffer.from('podman:p').toString('base64')}}}),
    )
  })
  after(async () => {
    await rm(home, {recursive: true, force: true})
  })

  for (const c of [
    {name: 'no flags', flags: undefined, want: ['env', 'registries-config', 'docker-config', 'containers-auth', 'plugin']},
    {name: 'with flags', flags: {username: 'u', password: 'p'}, want: ['flags', 'env', 'registries-config', 'docker-config', 'containers-auth', 'plugin']},
  ]) {
    it(`order: ${c.name}`, () => {
      const names = defaultKeychains({env: {HOME: home}, flags: c.flags, extra: [fixed('plugin')]}).map((k) => k.name)
      assert.deepEqual(names, c.want)
    })
  }

  it('one flag alone is a usage error', () => {
    assert.throws(() => defaultKeychains({env: {HOME: home}, flags: {username: 'u'}}), (e) => isOcitoolError(e) && e.exitCode === 2)
  })

  // `home` exists only once before() ran: the table holds functions of it.
  const env = (extra: Record<string, string> = {}) => ({HOME: home, PATH: '/nonexistent', ...extra})
  const cases: {name: string; opts: () => DefaultKeychainOptions; registry: string; want?: string}[] = [
    {name: 'flags win', opts: () => ({flags: {username: 'flag', password: 'p'}, env: env({ACCESS_TOKEN: 't'})}), registry: 'quay.io', want: 'flag'},
    {name: 'flags only for their registry', opts: () => ({flags: {username: 'flag', password: 'p'}, registry: 'ghcr.io', env: env()}), registry: 'quay.io', want: 'docker'},
    {name: 'env beats files', opts: () => ({env: env({OCITOOL_USERNAME: 'envuser', OCITOOL_PASSWORD: 'p'})}), registry: 'quay.io', want: 'envuser'},
    {name: 'docker config beats containers auth', opts: () => ({env: env()}), registry: 'quay.io', want: 'docker'},
    {name: 'containers auth', opts: () => ({env: env()}), registry: 'ghcr.io', want: 'podman'},
    {name: 'plugins last', opts: () => ({env: env(), extra: [fixed('plugin', 'plugin')]}), registry: 'example.com', want: 'plugin'},
    {name: 'anonymous', opts: () => ({env: env()}), registry: 'example.com', want: undefined},
  ]
  for (const c of cases) {
    it(`resolve: ${c.name}`, async () => {
      assert.equal(who(await defaultKeychain(c.opts()).resolve({registry: c.registry, scopes: []})), c.want)
    })
  }

  it('a failing plugin keychain is a warning', async () => {
    const logs: string[] = []
    const k = defaultKeychain({env: env(), extra: [throwing('gcloud', 'no gcloud'), fixed('later', 'later')], log: (m) => logs.push(m)})
    assert.equal(who(await k.resolve({registry: 'example.com', scopes: []})), 'later')
    assert.deepEqual(logs, ['keychain gcloud failed: no gcloud; skipped'])
  })
})
