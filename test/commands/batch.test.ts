// Batch mode: digest, manifest, config, tag and copy with many inputs (arguments, or `-` for
// one per line on stdin), against the real distribution registry behind the token server.
// Outputs come in input order, a failing input does not stop the others, the exit code is the
// worst of them, and the whole run asks the token server once per repository scope.
import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'
import {runCli} from '../support/cli.js'
import {type PushedFixture, pushFixture} from '../support/fixtures.js'
import {type RunningRegistry, startRegistry} from '../support/registry.js'

describe('batch mode (token registry)', () => {
  let reg: RunningRegistry
  let one: PushedFixture
  let two: PushedFixture
  let idx: PushedFixture
  let env: Record<string, string>

  before(async () => {
    reg = await startRegistry({flavour: 'token'})
    ;[one, two, idx] = await Promise.all([
      pushFixture(reg, 'batch/one:v1', 'oci', 'batch-one'),
      pushFixture(reg, 'batch/two:v1', 'docker', 'batch-two'),
      pushFixture(reg, 'batch/idx:v1', 'index', 'batch-idx'),
    ])
    env = {OCITOOL_USERNAME: 'alice', OCITOOL_PASSWORD: reg.users.alice}
  })
  after(() => reg?.stop())

  const tokenRequests = (from: number) => reg.tokenServer!.requests().slice(from)

  it('digest of many arguments: input order, good and bad inputs, worst exit code, one token per scope', async () => {
    const good: Array<[string, string]> = []
    for (let i = 0; i < 12; i++) good.push(i % 2 ? [`${reg.host}/batch/one:v1`, one.manifestDigest] : [`${reg.host}/batch/two:v1`, two.manifestDigest])
    const missing = `${reg.host}/batch/one:nope`
    const bad = `${reg.host}/Bad/Name:v1`
    const inputs = [...good.slice(0, 5).map(([r]) => r), missing, ...good.slice(5, 9).map(([r]) => r), bad, ...good.slice(9).map(([r]) => r)]
    const before = reg.tokenServer!.requests().length
    const r = await runCli(['digest', ...inputs], {env})
    assert.equal(r.code, 3, r.stderr) // not found (3) is worse than a bad reference (2)
    const want = inputs.filter((i) => i !== missing && i !== bad).map((i) => `${i} ${i.includes('/one:') ? one.manifestDigest : two.manifestDigest}`)
    assert.deepEqual(r.stdout.trimEnd().split('\n'), want)
    const errs = r.stderr.trimEnd().split('\n')
    assert.equal(errs.length, 2, r.stderr)
    assert.match(errs[0], new RegExp(`^Error: ${missing}: manifest .*not found`))
    assert.match(errs[1], new RegExp(`^Error: ${bad.replace(/[/.]/g, '\\$&')}: `))
    // at most one token request per registry and scope: every request asks for a scope no
    // earlier one did (concurrent requests wait for the token under way), and both are covered
    const asked = tokenRequests(before).map((q) => q.scopes)
    const seen = new Set<string>()
    for (const scopes of asked) {
      assert.ok(scopes.some((s) => !seen.has(s)), `a token request asked again for ${scopes.join(' ')}: ${JSON.stringify(asked)}`)
      for (const s of scopes) seen.add(s)
    }
    assert.deepEqual([...seen].sort(), ['repository:batch/one:pull', 'repository:batch/two:pull'])
    assert.ok(asked.length <= 2, JSON.stringify(asked))
  })

  it('digest - reads stdin, and --json prints one object per input in order (errors too)', async () => {
    const lines = [`${reg.host}/batch/idx:v1`, '# a comment', '', `${reg.host}/batch/none:v1`, `${reg.host}/batch/one@${one.manifestDigest}`]
    const r = await runCli(['digest', '-', '--json'], {env, input: `${lines.join('\n')}\n`})
    assert.equal(r.code, 3, r.stderr)
    const objs = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l))
    assert.deepEqual(objs.map((o) => o.input), [lines[0], lines[3], lines[4]])
    assert.equal(objs[0].digest, idx.manifestDigest)
    assert.equal(objs[0].fullRef, `${reg.host}/batch/idx@${idx.manifestDigest}`)
    assert.equal(objs[1].error.exitCode, 3)
    assert.equal(objs[1].error.code, 'MANIFEST_UNKNOWN')
    assert.equal(objs[2].digest, one.manifestDigest)
    assert.match(r.stderr, new RegExp(`^Error: ${lines[3]}: `, 'm'))
  })

  it('digest of one image prints what it always printed', async () => {
    const r = await runCli(['digest', `${reg.host}/batch/one:v1`], {env})
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, `${one.manifestDigest}\n`)
  })

  it('manifest and config: one line per input, the same JSON as the single-image output', async () => {
    const refs = [`${reg.host}/batch/two:v1`, `${reg.host}/batch/one:v1`]
    const m = await runCli(['manifest', ...refs], {env})
    assert.equal(m.code, 0, m.stderr)
    const mLines = m.stdout.trimEnd().split('\n')
    assert.deepEqual(mLines.map((l) => l.slice(0, l.indexOf(' '))), refs)
    assert.deepEqual(JSON.parse(mLines[0].slice(mLines[0].indexOf(' ') + 1)), JSON.parse(two.manifestBytes.toString()))
    assert.deepEqual(JSON.parse(mLines[1].slice(mLines[1].indexOf(' ') + 1)), JSON.parse(one.manifestBytes.toString()))
    const mj = await runCli(['manifest', ...refs, '--json'], {env})
    assert.deepEqual(mj.stdout.trimEnd().split('\n').map((l) => JSON.parse(l).digest), [two.manifestDigest, one.manifestDigest])

    const c = await runCli(['config', '-'], {env, input: `${refs[1]}\n${reg.host}/batch/gone:v1\n${refs[0]}\n`})
    assert.equal(c.code, 3, c.stderr)
    const cLines = c.stdout.trimEnd().split('\n')
    assert.deepEqual(cLines.map((l) => l.slice(0, l.indexOf(' '))), [refs[1], refs[0]])
    assert.deepEqual(JSON.parse(cLines[0].slice(cLines[0].indexOf(' ') + 1)), JSON.parse(one.images[0].configBytes.toString()))
    assert.deepEqual(JSON.parse(cLines[1].slice(cLines[1].indexOf(' ') + 1)), JSON.parse(two.images[0].configBytes.toString()))
  })

  it('tag IMAGE TAG TAG...: every good tag is set, a bad one is reported, exit 2', async () => {
    const r = await runCli(['tag', `${reg.host}/batch/one:v1`, 'b1', 'bad:tag', 'b2'], {env})
    assert.equal(r.code, 2, r.stderr)
    assert.deepEqual(r.stdout.trimEnd().split('\n'), ['b1', 'b2'].map((t) => `${reg.host}/batch/one:v1 ${t} ${reg.host}/batch/one@${one.manifestDigest}`))
    assert.match(r.stderr, /^Error: \S+ bad:tag: invalid tag "bad:tag"/m)
    const d = await runCli(['digest', `${reg.host}/batch/one:b1`, `${reg.host}/batch/one:b2`], {env})
    assert.equal(d.stdout, `${reg.host}/batch/one:b1 ${one.manifestDigest}\n${reg.host}/batch/one:b2 ${one.manifestDigest}\n`)
  })

  it('copy - copies SRC DST pairs concurrently, in order, past a failing pair', async () => {
    const pairs = [
      `${reg.host}/batch/one:v1 ${reg.host}/copied/one:v1`,
      `${reg.host}/batch/missing:v1 ${reg.host}/copied/missing:v1`,
      `${reg.host}/batch/two:v1 ${reg.host}/copied/two:v1`,
    ]
    const r = await runCli(['copy', '-'], {env, input: pairs.join('\n')})
    assert.equal(r.code, 3, r.stderr)
    assert.deepEqual(r.stdout.trimEnd().split('\n'), [`${pairs[0]} ${reg.host}/copied/one@${one.manifestDigest}`, `${pairs[2]} ${reg.host}/copied/two@${two.manifestDigest}`])
    assert.match(r.stderr, new RegExp(`^Error: ${pairs[1]}: `, 'm'))
    const d = await runCli(['digest', `${reg.host}/copied/one:v1`, `${reg.host}/copied/two:v1`, '--json'], {env})
    assert.deepEqual(d.stdout.trimEnd().split('\n').map((l) => JSON.parse(l).digest), [one.manifestDigest, two.manifestDigest])
  })

  it('"-" with other inputs, or with --password-stdin, is a usage error', async () => {
    const a = await runCli(['digest', '-', `${reg.host}/batch/one:v1`], {env})
    assert.equal(a.code, 2)
    assert.match(a.stderr, /"-" reads the inputs from stdin and stands alone/)
    const b = await runCli(['digest', '-', '--username', 'alice', '--password-stdin'], {env, input: 'x\n'})
    assert.equal(b.code, 2)
    assert.match(b.stderr, /"-" and --password-stdin both read stdin/)
  })
})
