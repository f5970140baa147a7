import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {EnvKeychain} from '../../../src/lib/auth/env.js'
import {StaticKeychain, staticKeychainFromFlags} from '../../../src/lib/auth/static.js'
import type {Credential} from '../../../src/lib/auth/types.js'
import {isOcitoolError} from '../../../src/lib/errors.js'

const req = (registry: string) => ({registry, scopes: []})

describe('StaticKeychain', () => {
  for (const c of [
    {name: 'every registry', registry: undefined, ask: 'ghcr.io', found: true},
    {name: 'its registry', registry: 'localhost:5000', ask: 'localhost:5000', found: true},
    {name: 'its registry in another spelling', registry: 'docker.io', ask: 'registry-1.docker.io', found: true},
    {name: 'another registry', registry: 'localhost:5000', ask: 'ghcr.io', found: false},
  ]) {
    it(c.name, async () => {
      const k = new StaticKeychain({username: 'u', password: 'p:w', ...(c.registry ? {registry: c.registry} : {})})
      const got = await k.resolve(req(c.ask))
      assert.deepEqual(got?.credential, c.found ? {kind: 'basic', username: 'u', password: 'p:w'} : undefined)
    })
  }

  for (const c of [
    {name: 'neither flag', flags: {}, want: 'none'},
    {name: 'no flags object', flags: undefined, want: 'none'},
    {name: 'both flags', flags: {username: 'u', password: 'p'}, want: 'keychain'},
    {name: 'username only', flags: {username: 'u'}, want: 'USAGE'},
    {name: 'password only', flags: {password: 'p'}, want: 'USAGE'},
    {name: 'colon in username', flags: {username: 'a:b', password: 'p'}, want: 'USAGE'},
    {name: 'empty password', flags: {username: 'u', password: ''}, want: 'USAGE'},
  ]) {
    it(`staticKeychainFromFlags: ${c.name}`, () => {
      let got: unknown
      try {
        got = staticKeychainFromFlags(c.flags)
      } catch (e) {
        assert.ok(isOcitoolError(e))
        assert.equal(e.code, c.want)
        assert.equal(e.exitCode, 2)
        return
      }
      assert.equal(got === undefined ? 'none' : 'keychain', c.want)
    })
  }
})

describe('EnvKeychain', () => {
  const cases: {name: string; env: Record<string, string>; registry?: string; want?: Credential; source?: string}[] = [
    {name: 'nothing set', env: {}},
    {
      name: 'username and password',
      env: {OCITOOL_USERNAME: 'u', OCITOOL_PASSWORD: 'p:a:ss'},
      want: {kind: 'basic', username: 'u', password: 'p:a:ss'},
      source: 'env OCITOOL_USERNAME/OCITOOL_PASSWORD',
    },
    {
      name: 'basic wins over tokens',
      env: {OCITOOL_USERNAME: 'u', OCITOOL_PASSWORD: 'p', ACCESS_TOKEN: 'at', REFRESH_TOKEN: 'rt'},
      want: {kind: 'basic', username: 'u', password: 'p'},
    },
    {
      name: 'refresh token wins over access token (as in appendlayer)',
      env: {ACCESS_TOKEN: 'at', REFRESH_TOKEN: 'rt'},
      want: {kind: 'identityToken', token: 'rt'},
      source: 'env REFRESH_TOKEN',
    },
    {name: 'access token', env: {ACCESS_TOKEN: 'at'}, want: {kind: 'accessToken', token: 'at'}, source: 'env ACCESS_TOKEN'},
    {name: 'refresh token', env: {REFRESH_TOKEN: 'rt'}, want: {kind: 'identityToken', token: 'rt'}, source: 'env REFRESH_TOKEN'},
    {
      name: 'refresh token with a username',
      env: {REFRESH_TOKEN: 'rt', OCITOOL_USERNAME: 'u'},
      want: {kind: 'identityToken', token: 'rt', username: 'u'},
    },
    {name: 'empty values are unset', env: {OCITOOL_USERNAME: '', OCITOOL_PASSWORD: '', ACCESS_TOKEN: ''}},
    {name: 'OCITOOL_REGISTRY matches', env: {ACCESS_TOKEN: 'at', OCITOOL_REGISTRY: 'https://GHCR.io/'}, registry: 'ghcr.io', want: {kind: 'accessToken', token: 'at'}},
    {name: 'OCITOOL_REGISTRY elsewhere', env: {ACCESS_TOKEN: 'at', OCITOOL_REGISTRY: 'quay.io'}, registry: 'ghcr.io'},
  ]
  for (const c of cases) {
    it(c.name, async () => {
      const got = await new EnvKeychain({env: c.env}).resolve(req(c.registry ?? 'ghcr.io'))
      assert.deepEqual(got?.credential, c.want)
      if (c.source) assert.equal(got?.source, c.source)
    })
  }

  it('warns once about a username without a password', async () => {
    const logs: string[] = []
    const k = new EnvKeychain({env: {OCITOOL_USERNAME: 'u'}, log: (m) => logs.push(m)})
    assert.equal(await k.resolve(req('a')), undefined)
    assert.equal(await k.resolve(req('b')), undefined)
    assert.deepEqual(logs, ['OCITOOL_USERNAME is set without OCITOOL_PASSWORD; ignored'])
  })
})
