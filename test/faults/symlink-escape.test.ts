// Paths that lead out of the root through a symlink (issue 12, item 5): `lnk -> /somewhere` then
// `lnk/file` in the same layer or an upper one, `rel -> ../..` then `rel/x`, a chain of links, a
// symlink made through such a symlink. `export` and `flatten --filesystem` write such entries
// where the link leads inside the root, as a container sees it (`var/run -> /run`, then
// `var/run/x`, is written as `run/x`); GNU tar and Python's tarfile extract the output without
// writing anything outside the target. A symlink loop is refused in one line, writing nothing.
// A symlink that stays inside (`lib -> usr/lib`, then `lib/x`) keeps working, entries as written.
import assert from 'node:assert/strict'
import {createReadStream, createWriteStream} from 'node:fs'
import * as fsp from 'node:fs/promises'
import * as path from 'node:path'
import {after, before, describe, it} from 'node:test'

import {tarOf, writeDockerArchive} from '../../scripts/make-hostile-corpus.js'
import {flatten} from '../../src/lib/flatten/index.js'
import {runCli} from '../support/cli.js'
import {run} from '../support/exec.js'
import {sha256} from '../support/fixtures.js'
import {type TmpDir, tmpDir} from '../support/tmp.js'

type Item = Parameters<typeof tarOf>[0][number]

/** every path under dir, relative, sorted */
async function snapshot(dir: string): Promise<string[]> {
  const out: string[] = []
  for (const e of await fsp.readdir(dir, {recursive: true, withFileTypes: true})) out.push(path.relative(dir, path.join(e.parentPath ?? (e as unknown as {path: string}).path, e.name)))
  return out.sort()
}

const PY_EXTRACT = [
  'import sys, tarfile',
  // the most trusting mode where this Python has filters: the test is about the tar, not tarfile's defences
  "kw = {'filter': 'fully_trusted'} if hasattr(tarfile, 'fully_trusted_filter') else {}",
  'tarfile.open(sys.argv[1]).extractall(sys.argv[2], **kw)',
].join('\n')

describe('hostile input: symlinks that lead out of the root', () => {
  let tmp: TmpDir
  /** where extractions happen: sandbox/x/target, so `../..` from the target is the sandbox */
  let sandbox: string
  let outside: string
  const cases: Array<{name: string; layers: Item[][]; archive?: string; layerFiles?: string[]}> = []

  before(async () => {
    tmp = await tmpDir('symlink-escape')
    sandbox = path.join(tmp.path, 'sandbox')
    outside = path.join(sandbox, 'outside')
    await fsp.mkdir(outside, {recursive: true})
    await fsp.writeFile(path.join(outside, 'secret.txt'), 'secret\n')
    cases.push(
      {name: 'absolute symlink, file under it in the same layer', layers: [[{name: 'ok.txt', body: 'ok\n'}, {name: 'lnk', type: 'symlink', linkname: outside}, {name: 'lnk/planted.txt', body: 'planted\n'}]]},
      {name: 'absolute symlink below, file under it above', layers: [[{name: 'lnk', type: 'symlink', linkname: outside}], [{name: 'lnk/planted.txt', body: 'planted\n'}]]},
      {name: 'relative symlink ../.. and a file under it', layers: [[{name: 'rel', type: 'symlink', linkname: '../..'}], [{name: 'rel/planted.txt', body: 'planted\n'}]]},
      {name: 'a chain of symlinks ending outside', layers: [[{name: 'd2', type: 'symlink', linkname: outside}, {name: 'sub/', type: 'directory'}, {name: 'sub/d1', type: 'symlink', linkname: '../d2'}, {name: 'sub/d1/deeper/', type: 'directory'}, {name: 'sub/d1/deeper/planted.txt', body: 'planted\n'}]]},
      {name: 'a symlink created through an outside symlink', layers: [[{name: 'lnk', type: 'symlink', linkname: outside}], [{name: 'lnk/evil', type: 'symlink', linkname: '/etc/passwd'}]]},
    )
    for (const [i, c] of cases.entries()) {
      c.layerFiles = []
      const layers = []
      for (const [j, items] of c.layers.entries()) {
        const body = await tarOf(items)
        const file = path.join(tmp.path, `case${i}-layer${j}.tar`)
        await fsp.writeFile(file, body)
        c.layerFiles.push(file)
        layers.push({file, diffId: sha256(body)})
      }
      c.archive = await writeDockerArchive(path.join(tmp.path, `case${i}.tar`), layers)
    }
  })
  after(async () => tmp?.remove())

  /** extracts `tarFile` with GNU tar and with Python into fresh targets; asserts nothing appeared outside them */
  async function extractBoth(tarFile: string, label: string): Promise<string[]> {
    const targets: string[] = []
    for (const tool of ['gnu-tar', 'python'] as const) {
      const target = path.join(sandbox, 'x', `${label}-${tool}`)
      await fsp.mkdir(target, {recursive: true})
      const before = (await snapshot(sandbox)).filter((p) => !p.startsWith(path.join('x', `${label}-${tool}`)))
      const r = tool === 'gnu-tar' ? await run('tar', ['-xf', tarFile, '-C', target]) : await run('python3', ['-c', PY_EXTRACT, tarFile, target])
      const after = (await snapshot(sandbox)).filter((p) => !p.startsWith(path.join('x', `${label}-${tool}`)))
      assert.deepEqual(after, before, `${tool} wrote outside its target (exit ${r.code}: ${r.stderr})`)
      assert.equal(await fsp.readFile(path.join(outside, 'secret.txt'), 'utf8'), 'secret\n')
      targets.push(target)
    }
    return targets
  }

  /** where each case's planted entry is written: inside the root, where the link leads */
  const landing = () => {
    const o = outside.slice(1)
    return [`${o}/planted.txt`, `${o}/planted.txt`, 'planted.txt', `${o}/deeper/planted.txt`, `${o}/evil`]
  }

  for (const [i, name] of [
    'absolute symlink, file under it in the same layer',
    'absolute symlink below, file under it above',
    'relative symlink ../.. and a file under it',
    'a chain of symlinks ending outside',
    'a symlink created through an outside symlink',
  ].entries()) {
    it(`export and flatten --filesystem write ${name} inside the root; extracting writes nothing outside`, async () => {
      const c = cases[i]
      assert.equal(c.name, name)
      const dir = path.join(tmp.path, `out${i}`)
      await fsp.mkdir(dir)
      for (const args of [
        ['export', `docker-archive:${c.archive}`, path.join(dir, 'fs.tar')],
        ['flatten', '--tarball', c.archive!, '--filesystem', path.join(dir, 'fs2.tar'), '--metadata', path.join(dir, 'config.json')],
      ]) {
        const r = await runCli(args)
        assert.equal(r.code, 0, `${args[0]}: ${r.stderr}`)
      }
      const listing = (await run('tar', ['-tf', path.join(dir, 'fs.tar')])).stdout.trim().split('\n')
      assert.ok(listing.includes(landing()[i]), listing.join(', '))
      assert.ok(!listing.some((n) => /^(lnk|rel|sub\/d1)\//.test(n)), listing.join(', '))
      assert.ok((await fsp.readFile(path.join(dir, 'fs.tar'))).equals(await fsp.readFile(path.join(dir, 'fs2.tar'))))
      for (const target of await extractBoth(path.join(dir, 'fs.tar'), `moved${i}`)) {
        if (i === 4) assert.equal(await fsp.readlink(path.join(target, landing()[i])), '/etc/passwd')
        else assert.equal(await fsp.readFile(path.join(target, landing()[i]), 'utf8'), 'planted\n')
      }
    })
  }

  it('var/run -> /run: an upper layer writing var/run/x writes run/x, over the lower run/x', async () => {
    const layers: Item[][] = [
      [{name: 'run/', type: 'directory'}, {name: 'run/x', body: 'low\n'}, {name: 'run/keep', body: 'keep\n'}, {name: 'var/', type: 'directory'}, {name: 'var/run', type: 'symlink', linkname: '/run'}],
      [{name: 'var/run/x', body: 'high\n'}, {name: 'var/run/app.pid', body: '1\n'}],
    ]
    const out = await flattenToFile(layers, 'varrun')
    const listing = (await run('tar', ['-tf', out])).stdout.trim().split('\n')
    assert.deepEqual(listing, ['run/', 'var/', 'run/keep', 'var/run', 'run/x', 'run/app.pid'])
    assert.equal((await run('tar', ['-xOf', out, 'run/x'])).stdout, 'high\n')
  })

  it('a symlink loop is refused in one line, writing nothing', async () => {
    const body = await tarOf([{name: 'a', type: 'symlink', linkname: 'b'}, {name: 'b', type: 'symlink', linkname: 'a'}, {name: 'a/x', body: 'x\n'}])
    const file = path.join(tmp.path, 'loop-layer.tar')
    await fsp.writeFile(file, body)
    const archive = await writeDockerArchive(path.join(tmp.path, 'loop.tar'), [{file, diffId: sha256(body)}])
    const dir = path.join(tmp.path, 'out-loop')
    await fsp.mkdir(dir)
    const r = await runCli(['export', `docker-archive:${archive}`, path.join(dir, 'fs.tar')])
    assert.equal(r.code, 1, r.stderr)
    const lines = r.stderr.split('\n').filter((l) => l !== '')
    assert.equal(lines.length, 1, r.stderr)
    assert.match(lines[0], /^Error: .*"a\/x" is under a symlink loop/)
    assert.deepEqual(await fsp.readdir(dir), [])
  })

  /** flattenToFile flattens layers (bottom first) with the library into a tar file */
  async function flattenToFile(layers: Item[][], label: string): Promise<string> {
    const files: string[] = []
    for (const [j, items] of layers.entries()) {
      const file = path.join(tmp.path, `${label}-layer${j}.tar`)
      await fsp.writeFile(file, await tarOf(items))
      files.push(file)
    }
    const out = path.join(tmp.path, `${label}.tar`)
    await flatten(files.map((file, j) => ({what: `layer ${j}`, open: async () => createReadStream(file)})), createWriteStream(out))
    return out
  }

  it('a symlink that stays inside (lib -> usr/lib, then lib/x) is kept as written and extracts into usr/lib', async () => {
    const lower = await tarOf([{name: 'usr/', type: 'directory'}, {name: 'usr/lib/', type: 'directory'}, {name: 'lib', type: 'symlink', linkname: 'usr/lib'}, {name: 'lib/a.txt', body: 'a\n'}])
    const upper = await tarOf([{name: 'lib/b.txt', body: 'b\n'}])
    const files = []
    for (const [j, body] of [lower, upper].entries()) {
      const file = path.join(tmp.path, `inside-layer${j}.tar`)
      await fsp.writeFile(file, body)
      files.push({file, diffId: sha256(body)})
    }
    const archive = await writeDockerArchive(path.join(tmp.path, 'inside.tar'), files)
    const out = path.join(tmp.path, 'inside-fs.tar')
    const r = await runCli(['export', `docker-archive:${archive}`, out])
    assert.equal(r.code, 0, r.stderr)
    const listing = await run('tar', ['-tf', out])
    assert.deepEqual(listing.stdout.trim().split('\n'), ['usr/', 'usr/lib/', 'lib', 'lib/a.txt', 'lib/b.txt'])
    for (const target of await extractBoth(out, 'inside')) {
      for (const [f, body] of [['a.txt', 'a\n'], ['b.txt', 'b\n']]) assert.equal(await fsp.readFile(path.join(target, 'usr', 'lib', f), 'utf8'), body)
    }
  })
})
