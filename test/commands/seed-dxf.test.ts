// Seed 004 (python-dxf): its command lines run as written through bash with `ocitool` for `dxf`
// and DXF_HOST naming the real registry, and aliases interoperating both ways with dxf's own
// format. python-dxf cannot be installed here, so the test replicates, from its source, the
// manifest its set_alias PUTs (json.dumps(sort_keys=True) run by python3 itself) and the checks
// its _get_alias makes on what it reads (Docker-Content-Digest, mediaType, sha256 digests).
import assert from 'node:assert/strict'
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import {after, before, describe, it} from 'node:test'
import {run} from '../support/exec.js'
import {sha256} from '../support/fixtures.js'
import {type RunningRegistry, startRegistry} from '../support/registry.js'
import {sh} from '../support/shell.js'
import {tmpDir, type TmpDir} from '../support/tmp.js'

const SCHEMA2 = 'application/vnd.docker.distribution.manifest.v2+json'
// dxf's Accept header for manifests (schema 1, schema 2, list, OCI manifest, OCI index)
const DXF_ACCEPT = [
  'application/vnd.docker.distribution.manifest.v1+json',
  SCHEMA2,
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
].join(', ')

/** dxfMakeManifest is dxf's make_manifest, run by python3: the exact bytes dxf PUTs for an alias. */
async function dxfMakeManifest(blobs: Array<{digest: string; size: number}>): Promise<Buffer> {
  const script = `import json, sys
layers = [{'mediaType': 'application/octet-stream', 'size': b['size'], 'digest': b['digest']} for b in json.loads(sys.argv[1])]
sys.stdout.write(json.dumps({'schemaVersion': 2, 'mediaType': '${SCHEMA2}',
  'config': {'mediaType': 'application/vnd.docker.container.image.v1+json', 'size': layers[0]['size'], 'digest': layers[0]['digest']},
  'layers': layers}, sort_keys=True))`
  const r = await run('python3', ['-c', script, JSON.stringify(blobs)])
  assert.equal(r.code, 0, r.stderr)
  return r.stdoutBytes
}

/** dxfGetAlias replicates dxf's _get_alias reading a tag: what dxf get-alias / get-digest would print. */
async function dxfGetAlias(reg: RunningRegistry, repo: string, alias: string): Promise<{digests: string[]; digest: string; content: Buffer}> {
  const res = await fetch(`${reg.url}/v2/${repo}/manifests/${alias}`, {headers: {accept: DXF_ACCEPT}})
  assert.equal(res.status, 200)
  const content = Buffer.from(await res.arrayBuffer())
  const dcd = res.headers.get('docker-content-digest')
  if (dcd) assert.equal(sha256(content), dcd, 'dxf: DXFDigestMismatchError')
  const parsed = JSON.parse(content.toString('utf8')) as {mediaType: string; config: {digest: string}; layers: Array<{digest: string; size: number}>}
  assert.ok([SCHEMA2, 'application/vnd.oci.image.manifest.v1+json'].includes(parsed.mediaType), `dxf: DXFUnsupportedSchemaType ${parsed.mediaType}`)
  const splitDigest = (s: string) => {
    const parts = s.split(':')
    assert.equal(parts.length, 2)
    assert.equal(parts[0], 'sha256', 'dxf: DXFUnexpectedDigestMethodError')
    return s
  }
  return {digests: parsed.layers.map((l) => splitDigest(l.digest)), digest: splitDigest(parsed.config.digest), content}
}

describe('seed 004 python-dxf', () => {
  let reg: RunningRegistry
  let work: TmpDir
  let env: Record<string, string>
  const logger = Buffer.from('may 15 readings: 1 2 3\n')
  const loggerDigest = sha256(logger)
  before(async () => {
    ;[reg, work] = await Promise.all([startRegistry({flavour: 'plain'}), tmpDir('seed-dxf')])
    await fs.writeFile(path.join(work.path, 'logger.dat'), logger)
    env = {DXF_HOST: reg.host, DXF_INSECURE: '1'}
  })
  after(async () => {
    await Promise.all([reg?.stop(), work?.remove()])
  })
  const dxf = (line: string, extra: Record<string, string> = {}) => sh(line, {cwd: work.path, env: {...env, ...extra}})

  it('$ dxf push-blob fred/datalogger logger.dat @may15-readings; dxf pull-blob fred/datalogger @may15-readings', async () => {
    const push = await dxf('ocitool push-blob fred/datalogger logger.dat @may15-readings')
    assert.equal(push.code, 0, push.stderr)
    assert.equal(push.stdout, `${loggerDigest}\n`)
    const pull = await dxf('ocitool pull-blob fred/datalogger @may15-readings')
    assert.equal(pull.code, 0, pull.stderr)
    assert.ok(pull.stdoutBytes.equals(logger))
    // the alias ocitool wrote is byte for byte the one dxf writes, and dxf reads it
    const read = await dxfGetAlias(reg, 'fred/datalogger', 'may15-readings')
    assert.ok(read.content.equals(await dxfMakeManifest([{digest: loggerDigest, size: logger.length}])))
    assert.deepEqual(read.digests, [loggerDigest])
  })

  it('$ dxf set-alias fred/datalogger may15-readings $(dxf push-blob …); dxf pull-blob fred/datalogger $(dxf get-alias …)', async () => {
    const set = await dxf('ocitool set-alias fred/datalogger may15-readings $(ocitool push-blob fred/datalogger logger.dat)')
    assert.equal(set.code, 0, set.stderr)
    const pull = await dxf('ocitool pull-blob fred/datalogger $(ocitool get-alias fred/datalogger may15-readings)')
    assert.equal(pull.code, 0, pull.stderr)
    assert.ok(pull.stdoutBytes.equals(logger))
  })

  it('an alias dxf made (its exact manifest) is read by get-alias, pull-blob @, blob-size @ (the sum), get-digest, get-manifest', async () => {
    const two = Buffer.from('second file\n')
    const d2 = (await sh('ocitool push-blob fred/datalogger -', {cwd: work.path, env, input: two})).stdout.trim()
    assert.equal(d2, sha256(two))
    const bytes = await dxfMakeManifest([{digest: loggerDigest, size: logger.length}, {digest: d2, size: two.length}])
    const put = await fetch(`${reg.url}/v2/fred/datalogger/manifests/from-dxf`, {method: 'PUT', body: bytes, headers: {'content-type': SCHEMA2}})
    assert.equal(put.status, 201, await put.text())
    const get = await dxf('ocitool get-alias fred/datalogger from-dxf')
    assert.equal(get.stdout, `${loggerDigest}\n${d2}\n`)
    const pull = await dxf('ocitool pull-blob fred/datalogger @from-dxf')
    assert.ok(pull.stdoutBytes.equals(Buffer.concat([logger, two])))
    const size = await dxf(`ocitool blob-size fred/datalogger @from-dxf ${d2}`)
    assert.equal(size.stdout, `${logger.length + two.length}\n${two.length}\n`)
    const digest = await dxf('ocitool get-digest fred/datalogger from-dxf')
    assert.equal(digest.stdout, `${loggerDigest}\n`, "get-digest: an alias's config is its first blob")
    const manifest = await dxf('ocitool get-manifest fred/datalogger from-dxf')
    assert.ok(manifest.stdoutBytes.equals(bytes))
    const info = await dxf('ocitool pull-blob fred/datalogger @from-dxf', {DXF_BLOB_INFO: '1'})
    assert.ok(info.stdoutBytes.equals(Buffer.concat([Buffer.from(`${loggerDigest} ${logger.length}\n`), logger, Buffer.from(`${d2} ${two.length}\n`), two])))
    const list = await dxf('ocitool list-aliases fred/datalogger')
    assert.equal(list.stdout, 'from-dxf\nmay15-readings\n')
  })

  it('an alias ocitool made of several blobs is what dxf reads; del-alias prints the hashes it pointed to, the blobs stay', async () => {
    const d2 = sha256(Buffer.from('second file\n'))
    const set = await dxf(`ocitool set-alias fred/datalogger both ${loggerDigest} ${d2}`)
    assert.equal(set.code, 0, set.stderr)
    const read = await dxfGetAlias(reg, 'fred/datalogger', 'both')
    assert.deepEqual(read.digests, [loggerDigest, d2])
    assert.equal(read.digest, loggerDigest)
    assert.ok(read.content.equals(await dxfMakeManifest([{digest: loggerDigest, size: logger.length}, {digest: d2, size: 12}])))
    const del = await dxf('ocitool del-alias fred/datalogger both')
    assert.equal(del.code, 0, del.stderr)
    assert.equal(del.stdout, `${loggerDigest}\n${d2}\n`)
    const gone = await dxf('ocitool get-alias fred/datalogger both')
    assert.equal(gone.code, 3, gone.stderr)
    assert.equal((await dxf(`ocitool blob-size fred/datalogger ${d2}`)).stdout, '12\n', 'the blobs stay')
  })

  it('$ dxf mount-blob <repo> <from-repo> <hash> [@alias]; del-blob <repo> <@alias> deletes the blobs, not the alias', async () => {
    const m = await dxf(`ocitool mount-blob fred/copy fred/datalogger ${loggerDigest} @mounted`)
    assert.equal(m.code, 0, m.stderr)
    assert.equal(m.stdout, `${loggerDigest}\n`)
    assert.deepEqual((await dxfGetAlias(reg, 'fred/copy', 'mounted')).digests, [loggerDigest])
    const del = await dxf('ocitool del-blob fred/copy @mounted')
    assert.equal(del.code, 0, del.stderr)
    assert.equal(del.stdout, `${loggerDigest}\n`)
    const head = await fetch(`${reg.url}/v2/fred/copy/blobs/${loggerDigest}`, {method: 'HEAD'})
    assert.equal(head.status, 404, 'the blob is gone from fred/copy')
    assert.equal((await dxf('ocitool get-alias fred/copy mounted')).stdout, `${loggerDigest}\n`, 'the alias stays')
    const other = await fetch(`${reg.url}/v2/fred/datalogger/blobs/${loggerDigest}`, {method: 'HEAD'})
    assert.equal(other.status, 200, 'fred/datalogger keeps its link')
  })

  it('DXF_USERNAME/DXF_PASSWORD and DXF_AUTHORIZATION authenticate; a bad alias argument is exit 2', async () => {
    const basic = await startRegistry({flavour: 'basic'})
    try {
      const creds = {DXF_HOST: basic.host, DXF_INSECURE: '1'}
      const anon = await sh('ocitool push-blob fred/datalogger logger.dat', {cwd: work.path, env: creds})
      assert.equal(anon.code, 4, anon.stderr)
      const user = await sh('ocitool push-blob fred/datalogger logger.dat @auth', {cwd: work.path, env: {...creds, DXF_USERNAME: 'alice', DXF_PASSWORD: basic.users.alice}})
      assert.equal(user.code, 0, user.stderr)
      const authorization = `Basic ${Buffer.from(`alice:${basic.users.alice}`).toString('base64')}`
      const pulled = await sh('ocitool pull-blob fred/datalogger @auth', {cwd: work.path, env: {...creds, DXF_AUTHORIZATION: authorization}})
      assert.equal(pulled.code, 0, pulled.stderr)
      assert.ok(pulled.stdoutBytes.equals(logger))
    } finally {
      await basic.stop()
    }
    const bad = await dxf('ocitool push-blob fred/datalogger logger.dat not-an-alias')
    assert.equal(bad.code, 2, bad.stderr)
    assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr)
  })
})
