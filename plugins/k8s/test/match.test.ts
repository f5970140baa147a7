// The kubelet's host matching (pkg/credentialprovider/keyring.go) and secret parsing.
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {lookup, matches, parseSecret, type Entry} from '../src/lib/dockercfg.js'

const entry = (key: string, username = key): Entry => ({key, credential: {kind: 'basic', username, password: 'p'}, source: 's'})

describe('k8s host matching', () => {
  it('matches exact hosts, ports, wildcard parts and path prefixes', () => {
    assert.ok(matches('registry.example.com', 'registry.example.com/app'))
    assert.ok(matches('https://registry.example.com/v2/', 'registry.example.com/app'))
    assert.ok(!matches('registry.example.com', 'other.example.com/app'))
    assert.ok(matches('127.0.0.1:5000', '127.0.0.1:5000/app'))
    assert.ok(!matches('127.0.0.1:5000', '127.0.0.1:5001/app'))
    assert.ok(!matches('127.0.0.1', '127.0.0.1:5000/app'))
    assert.ok(matches('*.gcr.io', 'eu.gcr.io/p/app'))
    assert.ok(!matches('*.gcr.io', 'gcr.io/p/app'))
    assert.ok(!matches('*.gcr.io', 'a.eu.gcr.io/p/app'))
    assert.ok(matches('*-docker.pkg.dev', 'europe-docker.pkg.dev/p/r/app'))
    assert.ok(matches('registry.example.com/team', 'registry.example.com/team/app'))
    assert.ok(!matches('registry.example.com/team', 'registry.example.com/other/app'))
    assert.ok(matches('https://index.docker.io/v1/', 'registry-1.docker.io/library/ubuntu'))
  })

  it('picks the most specific entry', () => {
    const entries = [entry('*.example.com'), entry('registry.example.com'), entry('registry.example.com/team'), entry('registry.example.com/team/app')]
    const user = (t: string) => (lookup(entries, t)?.credential as {username: string} | undefined)?.username
    assert.equal(user('registry.example.com/team/app'), 'registry.example.com/team/app')
    assert.equal(user('registry.example.com/team/other'), 'registry.example.com/team')
    assert.equal(user('registry.example.com/x'), 'registry.example.com')
    assert.equal(user('mirror.example.com/x'), '*.example.com')
    assert.equal(user('example.com/x'), undefined)
    // same key twice: the first added wins (explicit secrets are added before the service account's)
    assert.equal(user('registry.example.com/x'), 'registry.example.com')
    assert.equal((lookup([entry('h', 'first'), entry('h', 'second')], 'h/x')?.credential as {username: string}).username, 'first')
  })

  it('parses both secret types and names malformed JSON', () => {
    const auth = Buffer.from('u:p:w').toString('base64')
    const json = {type: 'kubernetes.io/dockerconfigjson', data: {'.dockerconfigjson': Buffer.from(JSON.stringify({auths: {h: {auth}}})).toString('base64')}}
    assert.deepEqual(parseSecret(json, 's')[0].credential, {kind: 'basic', username: 'u', password: 'p:w'})
    const cfg = {type: 'kubernetes.io/dockercfg', data: {'.dockercfg': Buffer.from(JSON.stringify({h: {username: 'a', password: 'b'}})).toString('base64')}}
    assert.deepEqual(parseSecret(cfg, 's')[0].credential, {kind: 'basic', username: 'a', password: 'b'})
    const bad = {type: 'kubernetes.io/dockerconfigjson', data: {'.dockerconfigjson': Buffer.from('{"auths": {').toString('base64')}}
    assert.throws(() => parseSecret(bad, 's'), /malformed JSON/)
    assert.throws(() => parseSecret({type: 'Opaque', data: {}}, 's'), /not kubernetes.io\/dockerconfigjson/)
  })
})
