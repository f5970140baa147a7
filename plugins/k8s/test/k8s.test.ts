// The k8s plugin end to end: linked into a throw-away oclif data dir, a fake kube-apiserver
// (HTTPS, bearer token, KUBECONFIG with a current context) holding a service account and pull
// secrets, and a real `ocitool copy` out of a basic-auth distribution registry that succeeds only
// with the credentials found in those secrets.
import {linkPlugins, pluginEnv} from '../../../test/support/plugins.js'
import assert from 'node:assert/strict'
import * as path from 'node:path'
import {after, before, describe, it} from 'node:test'
import {repoRoot, runCli} from '../../../test/support/cli.js'
import {pushFixture, type PushedFixture} from '../../../test/support/fixtures.js'
import {startRegistry, type RunningRegistry} from '../../../test/support/registry.js'
import {tmpDir, type TmpDir} from '../../../test/support/tmp.js'
import {dockerConfigJson, dockercfg, startApiServer, type FakeApiServer} from './support/apiserver.js'

describe('plugins/k8s', () => {
  let src: RunningRegistry
  let dst: RunningRegistry
  let api: FakeApiServer
  let tmp: TmpDir
  let fixture: PushedFixture
  let base: Record<string, string>

  const link = async (data: string, ...names: string[]) => {
    const env = {...base, OCITOOL_DATA_DIR: data}
    await linkPlugins(env, ...names)
    return env
  }

  before(async () => {
    tmp = await tmpDir('k8s-plugin')
    ;[src, dst, api] = await Promise.all([startRegistry({flavour: 'basic'}), startRegistry({flavour: 'plain'}), startApiServer(tmp.path)])
    fixture = await pushFixture(src, 'team/app:1.0', 'oci')
    const alice = {username: 'alice', password: src.users.alice}
    api.secrets.set('ci/regcred', dockerConfigJson({'*.example.com': {username: 'x', password: 'y'}, [`https://${src.host}/v1/`]: alice}))
    api.secrets.set('ci/broken', {type: 'kubernetes.io/dockerconfigjson', data: {'.dockerconfigjson': Buffer.from('{"auths": {"x": ').toString('base64')}})
    api.secrets.set('ci/legacy', dockercfg({[`${src.host}/team`]: alice}))
    api.secrets.set('ci/wrong', dockerConfigJson({[src.host]: {username: 'alice', password: 'not-the-password'}}))
    api.serviceAccounts.set('ci/builder', {imagePullSecrets: [{name: 'broken'}, {name: 'regcred'}]})
    api.serviceAccounts.set('ci/default', {})
    base = pluginEnv(tmp.path, {KUBECONFIG: api.kubeconfig, OCITOOL_K8S_NAMESPACE: 'ci'})
  })
  after(async () => {
    await Promise.all([src?.stop(), dst?.stop(), api?.stop()])
    await tmp?.remove()
  })

  it('without the plugin, the copy is refused', async () => {
    const r = await runCli(['copy', `${src.host}/team/app:1.0`, `${dst.host}/app:none`], {env: {...base, OCITOOL_DATA_DIR: path.join(tmp.path, 'empty')}})
    assert.equal(r.code, 4, r.stderr)
  })

  it('copies with the imagePullSecrets of a service account, naming and skipping a malformed secret', async () => {
    const env = await link(path.join(tmp.path, 'k8s-only'), 'k8s')
    const r = await runCli(['copy', `${src.host}/team/app:1.0`, `${dst.host}/app:sa`], {env: {...env, OCITOOL_K8S_SERVICE_ACCOUNT: 'builder'}})
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stderr, /Warning: k8s: secret ci\/broken: malformed JSON/)
    const d = await runCli(['digest', `${dst.host}/app:sa`], {env: base})
    assert.equal(d.stdout.trim(), fixture.manifestDigest)
    assert.ok(api.requests.includes('GET /api/v1/namespaces/ci/serviceaccounts/builder'))
  })

  it('copies with an explicit kubernetes.io/dockercfg secret matched by path prefix', async () => {
    const env = await link(path.join(tmp.path, 'k8s-only'))
    const r = await runCli(['copy', `${src.host}/team/app:1.0`, `${dst.host}/app:explicit`], {env: {...env, OCITOOL_K8S_SECRETS: 'legacy'}})
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stderr, '')
  })

  it('fails with the auth exit code when the secret holds a wrong password', async () => {
    const env = await link(path.join(tmp.path, 'k8s-only'))
    const r = await runCli(['copy', `${src.host}/team/app:1.0`, `${dst.host}/app:wrong`], {env: {...env, OCITOOL_K8S_SECRETS: 'wrong'}})
    assert.equal(r.code, 4, r.stderr)
  })

  it('a plugin whose keychain hook throws is skipped with a warning; the k8s keychain still answers', async () => {
    const env = await link(path.join(tmp.path, 'both'), 'example', 'k8s')
    const r = await runCli(['copy', `${src.host}/team/app:1.0`, `${dst.host}/app:both`], {env: {...env, OCITOOL_K8S_SERVICE_ACCOUNT: 'builder', EXAMPLE_KEYCHAIN_FAIL: '1'}})
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stderr, /Warning: keychain of plugin @ocitool\/plugin-example failed: example keychain failed on purpose; skipped/)
  })

  it('`k8s auth get` shows the entry the kubelet would use, secret redacted unless --show-secret', async () => {
    const env = await link(path.join(tmp.path, 'k8s-only'))
    const r = await runCli(['k8s', 'auth', 'get', `${src.host}/team/app`, '--k8s-service-account', 'builder', '--k8s-secret', 'legacy'], {env})
    assert.equal(r.code, 0, r.stderr)
    const out = JSON.parse(r.stdout)
    // the path-scoped key of the explicit secret is more specific than the host-wide one
    assert.deepEqual(out, {registry: `${src.host}/team/app`, source: 'secret ci/legacy (kubernetes.io/dockercfg)', key: `${src.host}/team`, kind: 'basic', username: 'alice', password: '<redacted>'})
    assert.ok(!r.stdout.includes(src.users.alice))
    const host = await runCli(['k8s', 'auth', 'get', src.host, '--k8s-service-account', 'builder', '--k8s-secret', 'legacy', '--show-secret'], {env})
    assert.equal(host.code, 0, host.stderr)
    assert.equal(JSON.parse(host.stdout).source, 'secret ci/regcred (kubernetes.io/dockerconfigjson)')
    assert.equal(JSON.parse(host.stdout).password, src.users.alice)
    const none = await runCli(['k8s', 'auth', 'get', 'nothing.invalid', '--k8s-namespace', 'elsewhere'], {env})
    assert.equal(none.code, 1)
    assert.match(none.stderr, /service account elsewhere\/default: not found/)
    assert.match(none.stderr, /no pull secret entry matches nothing\.invalid/)
  })
})
