import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {
  dockerHubAliases,
  helperServerUrls,
  isDockerHub,
  matchingKeys,
  normalizeRegistryKey,
  sameRegistry,
  storeServerUrl,
} from '../../../src/lib/auth/hosts.js'

describe('normalizeRegistryKey', () => {
  for (const c of [
    {in: 'https://index.docker.io/v1/', want: 'index.docker.io'},
    {in: 'index.docker.io', want: 'index.docker.io'},
    {in: 'docker.io', want: 'index.docker.io'},
    {in: 'registry-1.docker.io', want: 'index.docker.io'},
    {in: 'HTTPS://Registry-1.Docker.IO/v2/', want: 'index.docker.io'},
    {in: 'http://host:5000', want: 'host:5000'},
    {in: 'host:5000', want: 'host:5000'},
    {in: 'https://host:5000/v2/', want: 'host:5000'},
    {in: ' ghcr.io ', want: 'ghcr.io'},
    {in: 'ghcr.io/org/app', want: 'ghcr.io'},
    {in: '127.0.0.1:5000', want: '127.0.0.1:5000'},
    {in: '[::1]:5000', want: '[::1]:5000'},
    {in: '', want: ''},
  ]) {
    it(JSON.stringify(c.in), () => assert.equal(normalizeRegistryKey(c.in), c.want))
  }

  it('every Docker Hub alias is Docker Hub', () => {
    for (const a of dockerHubAliases) assert.ok(isDockerHub(a), a)
    assert.ok(!isDockerHub('quay.io'))
  })

  for (const c of [
    {a: 'docker.io', b: 'https://index.docker.io/v1/', want: true},
    {a: 'http://h:5000', b: 'h:5000', want: true},
    {a: 'h:5000', b: 'h:5001', want: false},
    {a: 'h', b: 'h:443', want: false},
  ]) {
    it(`sameRegistry(${c.a}, ${c.b}) is ${c.want}`, () => assert.equal(sameRegistry(c.a, c.b), c.want))
  }
})

describe('server URL forms', () => {
  for (const c of [
    {in: 'registry-1.docker.io', helper: ['https://index.docker.io/v1/'], store: 'https://index.docker.io/v1/'},
    {in: 'docker.io', helper: ['https://index.docker.io/v1/'], store: 'https://index.docker.io/v1/'},
    {in: 'https://Host:5000/v2/', helper: ['host:5000', 'https://host:5000'], store: 'host:5000'},
  ]) {
    it(c.in, () => {
      assert.deepEqual(helperServerUrls(c.in), c.helper)
      assert.equal(storeServerUrl(c.in), c.store)
    })
  }
})

describe('matchingKeys', () => {
  for (const c of [
    {
      name: 'the key docker login writes comes first',
      keys: ['docker.io', 'quay.io', 'https://index.docker.io/v1/'],
      registry: 'registry-1.docker.io',
      want: ['https://index.docker.io/v1/', 'docker.io'],
    },
    {
      name: 'bare host first, then file order',
      keys: ['https://h:5000/v2/', 'http://h:5000', 'h:5000', 'h:5001'],
      registry: 'h:5000',
      want: ['h:5000', 'https://h:5000/v2/', 'http://h:5000'],
    },
    {name: 'nothing', keys: ['a', 'b'], registry: 'c', want: []},
  ]) {
    it(c.name, () => assert.deepEqual(matchingKeys(c.keys, c.registry), c.want))
  }
})
