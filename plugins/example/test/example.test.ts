// The example plugin, linked into a throw-away oclif data dir (OCITOOL_DATA_DIR) and run through
// bin/run.js as users would: its command appears in `ocitool --help`, reaches a basic-auth
// distribution registry with the credentials of its keychain hook, and a throwing hook is a
// warning, not a crash.
import assert from 'node:assert/strict'
import * as path from 'node:path'
import {after, before, describe, it} from 'node:test'
import {repoRoot, runCli} from '../../../test/support/cli.js'
import {pushFixture} from '../../../test/support/fixtures.js'
import {startRegistry, type RunningRegistry} from '../../../test/support/registry.js'
import {linkPlugins, pluginEnv} from '../../../test/support/plugins.js'
import {tmpDir, type TmpDir} from '../../../test/support/tmp.js'

describe('plugins/example', () => {
  let registry: RunningRegistry
  let data: TmpDir
  let env: Record<string, string>

  before(async () => {
    registry = await startRegistry({flavour: 'basic'})
    await pushFixture(registry, 'app:1.0', 'oci')
    data = await tmpDir('plugin-data')
    env = pluginEnv(data.path)
    await linkPlugins(env, 'example')
  })
  after(async () => {
    await registry?.stop()
    await data?.remove()
  })

  it('is listed by `plugins` and its command by --help', async () => {
    const list = await runCli(['plugins'], {env})
    assert.match(list.stdout, /@ocitool\/plugin-example .*\(link\)/)
    const help = await runCli(['--help'], {env})
    assert.match(help.stdout, /example\s+Example plugin commands/)
    const cmd = await runCli(['example', 'tags', '--help'], {env})
    assert.equal(cmd.code, 0, cmd.stderr)
    assert.match(cmd.stdout, /--insecure/, 'the base flags of OcitoolCommand')
  })

  it('lists tags with the credentials of its keychain hook', async () => {
    const creds = {EXAMPLE_REGISTRY: registry.host, EXAMPLE_USERNAME: 'alice', EXAMPLE_PASSWORD: registry.users.alice}
    const r = await runCli(['example', 'tags', `${registry.host}/app`], {env: {...env, ...creds}})
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, '1.0\n')
    // the hook serves every command, not only the plugin's own
    const ls = await runCli(['ls', `${registry.host}/app`, '--json'], {env: {...env, ...creds}})
    assert.equal(ls.code, 0, ls.stderr)
    assert.deepEqual(JSON.parse(ls.stdout), {tags: ['1.0']})
  })

  it('without credentials fails with the auth exit code', async () => {
    const r = await runCli(['example', 'tags', `${registry.host}/app`], {env})
    assert.equal(r.code, 4, r.stderr)
  })

  it('a throwing keychain hook is a warning naming the plugin, not a crash', async () => {
    const r = await runCli(['example', 'tags', `${registry.host}/app`], {env: {...env, EXAMPLE_KEYCHAIN_FAIL: '1'}})
    assert.match(r.stderr, /Warning: keychain of plugin @ocitool\/plugin-example failed: example keychain failed on purpose; skipped/)
    assert.equal(r.code, 4, r.stderr)
    assert.doesNotMatch(r.stderr, /at .*\.js:\d+/, 'no stack trace')
    // flags still win, so the command succeeds despite the broken plugin
    const ok = await runCli(['example', 'tags', `${registry.host}/app`, '--username', 'alice', '--password', registry.users.alice], {env: {...env, EXAMPLE_KEYCHAIN_FAIL: '1'}})
    assert.equal(ok.code, 0, ok.stderr)
    assert.equal(ok.stdout, '1.0\n')
  })

  it('unlinks with `plugins uninstall`', async () => {
    const scratch = {...env, OCITOOL_DATA_DIR: path.join(data.path, 'data2')}
    assert.equal((await runCli(['plugins', 'link', '--no-install', path.join(repoRoot, 'plugins', 'example')], {env: scratch})).code, 0)
    const inspect = await runCli(['plugins', 'inspect', '@ocitool/plugin-example'], {env: scratch})
    assert.equal(inspect.code, 0, inspect.stderr)
    const un = await runCli(['plugins', 'uninstall', '@ocitool/plugin-example'], {env: scratch})
    assert.equal(un.code, 0, un.stderr)
    const help = await runCli(['--help'], {env: scratch})
    assert.doesNotMatch(help.stdout, /example\s+Example plugin commands/)
  })
})
