// diff of two images on the real distribution registry, B built from A with append (a layer
// that adds, overwrites and whites out files) and mutate (a label and an env var), and of a
// registry image against its oci: copy; --files, --json and the bad inputs.
import assert from 'node:assert/strict'
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import {after, before, describe, it} from 'node:test'
import {runCli} from '../support/cli.js'
import {type PushedFixture, pushFixture} from '../support/fixtures.js'
import {layerTar} from '../support/layer-tar.js'
import {type RunningRegistry, startRegistry} from '../support/registry.js'
import {tmpDir, type TmpDir} from '../support/tmp.js'

describe('diff', () => {
  let reg: RunningRegistry
  let work: TmpDir
  let img: PushedFixture
  const dir = 'fixture/diff-layer0'

  before(async () => {
    ;[reg, work] = await Promise.all([startRegistry({flavour: 'plain'}), tmpDir('diff')])
    img = await pushFixture(reg, 'app/img:a', 'docker', 'diff')
    const layer = path.join(work.path, 'layer.tar')
    await fs.writeFile(layer, await layerTar([
      {name: `${dir}/hello.txt`, body: 'changed\n'},
      {name: `${dir}/.wh.data.bin`, body: ''},
      {name: 'etc/new.conf', body: 'x=1\n'},
    ]))
    const ap = await runCli(['append', '-b', `${reg.host}/app/img:a`, '-f', layer, '-t', `${reg.host}/app/img:b0`])
    assert.equal(ap.code, 0, ap.stderr)
    const mu = await runCli(['mutate', `${reg.host}/app/img:b0`, '-l', 'org.example.k=v', '-e', 'FIXTURE_SEED=other', '-t', `${reg.host}/app/img:b`])
    assert.equal(mu.code, 0, mu.stderr)
  })
  after(async () => {
    await reg?.stop()
    await work?.remove()
  })

  it('config, layers and files of an appended and mutated image', async () => {
    const r = await runCli(['diff', `${reg.host}/app/img:a`, `${reg.host}/app/img:b`, '--files', '--json'])
    assert.equal(r.code, 0, r.stderr)
    const d = JSON.parse(r.stdout)
    assert.equal(d.a.digest, img.manifestDigest)
    const byKey = Object.fromEntries(d.config.map((c: {key: string}) => [c.key, c]))
    assert.deepEqual(byKey['config.Env.FIXTURE_SEED'], {key: 'config.Env.FIXTURE_SEED', a: 'diff', b: 'other'})
    assert.deepEqual(byKey['config.Labels.org.example.k'], {key: 'config.Labels.org.example.k', b: 'v'})
    assert.equal(d.layers.common, 2)
    assert.deepEqual(d.layers.onlyA, [])
    assert.equal(d.layers.onlyB.length, 1)
    assert.equal(d.layers.onlyB[0].index, 3)
    assert.deepEqual(d.files, {added: ['/etc/new.conf'], removed: [`/${dir}/data.bin`], modified: [`/${dir}/hello.txt`]})
    const text = await runCli(['diff', `${reg.host}/app/img:a`, `${reg.host}/app/img:b`, '--files'])
    assert.match(text.stdout, /~ config\.Env\.FIXTURE_SEED: "diff" -> "other"/)
    assert.match(text.stdout, /layers: 2 in common\n {2}\+ sha256:[a-f0-9]{64} \(B layer 3\)/)
    assert.match(text.stdout, new RegExp(`files:\\n  - /${dir}/data.bin\\n  \\+ /etc/new.conf\\n  ~ /${dir}/hello.txt\\n`))
  })

  it('an image and its oci: copy are the same; the other way round swaps sides', async () => {
    const oci = `oci:${path.join(work.path, 'layout')}:a`
    assert.equal((await runCli(['copy', `${reg.host}/app/img:a`, oci])).code, 0)
    const same = await runCli(['diff', `${reg.host}/app/img:a`, oci, '--files', '--json'])
    assert.equal(same.code, 0, same.stderr)
    const d = JSON.parse(same.stdout)
    assert.deepEqual(d.config, [])
    assert.deepEqual(d.layers, {common: 2, onlyA: [], onlyB: []})
    assert.deepEqual(d.files, {added: [], removed: [], modified: []})
    const back = JSON.parse((await runCli(['diff', `${reg.host}/app/img:b`, oci, '--files', '--json'])).stdout)
    assert.deepEqual(back.files, {added: [`/${dir}/data.bin`], removed: ['/etc/new.conf'], modified: [`/${dir}/hello.txt`]})
  })

  it('bad input', async () => {
    const cases: Array<[string[], number, RegExp]> = [
      [['diff', `${reg.host}/app/img:a`, `${reg.host}/app/img:nope`], 3, /nope/],
      [['diff', `${reg.host}/app/img:a`, 'Bad:Ref/x'], 2, /Error: /],
      [['diff', `${reg.host}/app/img:a`, `oci:${path.join(work.path, 'missing')}`], 3, /Error: /],
    ]
    for (const [args, code, msg] of cases) {
      const r = await runCli(args)
      assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`)
      assert.match(r.stderr, msg)
    }
  })
})
