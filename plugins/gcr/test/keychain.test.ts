// The gcr keychain: gcloud's access token (a fake `gcloud` on PATH) opens a basic-auth registry
// behind the fake GCR for the user oauth2accesstoken; a broken GOOGLE_APPLICATION_CREDENTIALS
// file is a warning and gcloud is used instead.
import assert from 'node:assert/strict'
import * as fsp from 'node:fs/promises'
import * as path from 'node:path'
import {after, before, describe, it} from 'node:test'
import {repoRoot, runCli} from '../../../test/support/cli.js'
import {pushFixture} from '../../../test/support/fixtures.js'
import {startRegistry, type RunningRegistry} from '../../../test/support/registry.js'
import {linkPlugins, pluginEnv} from '../../../test/support/plugins.js'
import {tmpDir, type TmpDir} from '../../../test/support/tmp.js'
import {isGoogleRegistry} from '../src/lib/keychain.js'
import {startFakeGcr, type FakeGcr} from './support/gcr-server.js'

const TOKEN = 'ya29.fake-access-token'

describe('gcr keychain', () => {
  let registry: RunningRegistry
  let gcr: FakeGcr
  let tmp: TmpDir
  let env: Record<string, string>
  let bin: string

  before(async () => {
    tmp = await tmpDir('gcr-keychain')
    registry = await startRegistry({flavour: 'basic', users: {oauth2accesstoken: TOKEN}})
    await pushFixture(registry, 'proj/app:1.0', 'oci')
    gcr = await startFakeGcr(registry)
    bin = path.join(tmp.path, 'bin')
    await fsp.mkdir(bin)
    await fsp.writeFile(path.join(bin, 'gcloud'), `#!/bin/sh\n[ "$1 $2" = "auth print-access-token" ] || exit 3\necho ${TOKEN}\n`, {mode: 0o755})
    env = pluginEnv(tmp.path, {
        OCITOOL_GCR_HOSTS: gcr.host,
        PATH: '/usr/bin:/bin',
    })
    await linkPlugins(env, 'gcr')
  })
  after(async () => {
    await gcr?.stop()
    await registry?.stop()
    await tmp?.remove()
  })

  it('knows Google registry hosts', () => {
    for (const h of ['gcr.io', 'eu.gcr.io', 'us-docker.pkg.dev', 'europe-west1-docker.pkg.dev']) assert.ok(isGoogleRegistry(h, {}), h)
    for (const h of ['gcr.io.example.com', 'docker.io', 'pkg.dev', 'evil.com/gcr.io', 'x.docker.pkg.dev']) assert.ok(!isGoogleRegistry(h, {}), h)
    assert.ok(isGoogleRegistry('127.0.0.1:5000', {OCITOOL_GCR_HOSTS: 'a, 127.0.0.1:5000'}))
  })

  it('without gcloud or ADC the registry refuses', async () => {
    const r = await runCli(['gcr', 'ls', `${gcr.host}/proj/app`], {env})
    assert.equal(r.code, 4, r.stderr)
  })

  it('uses `gcloud auth print-access-token` as oauth2accesstoken', async () => {
    const r = await runCli(['gcr', 'ls', `${gcr.host}/proj/app`, '--json'], {env: {...env, PATH: `${bin}:${env.PATH}`}})
    assert.equal(r.code, 0, r.stderr)
    assert.equal(Object.keys(JSON.parse(r.stdout).repositories[0].manifests).length, 1)
    const get = await runCli(['auth', 'get', gcr.host], {env: {...env, PATH: `${bin}:${env.PATH}`}})
    assert.equal(get.code, 0, get.stderr)
    assert.deepEqual(JSON.parse(get.stdout), {ServerURL: gcr.host, Username: 'oauth2accesstoken', Secret: TOKEN})
  })

  it('a broken GOOGLE_APPLICATION_CREDENTIALS file is a warning; gcloud is used instead', async () => {
    const adc = path.join(tmp.path, 'adc.json')
    await fsp.writeFile(adc, '{"type": "service_account", "client_email": ')
    const r = await runCli(['gcr', 'ls', `${gcr.host}/proj/app`], {env: {...env, PATH: `${bin}:${env.PATH}`, GOOGLE_APPLICATION_CREDENTIALS: adc}})
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stderr, new RegExp(`Warning: gcr: application default credentials from ${adc.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: .*; skipped`))
  })
})
