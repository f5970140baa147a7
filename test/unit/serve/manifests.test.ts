// The embedded registry's manifest, tag, catalog and referrers endpoints, in raw HTTP.

import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'
import {startServer, type RunningServer} from '../../../src/lib/serve/index.js'
import {buildImage, buildIndex, type BuiltImage} from '../../support/fixtures.js'
import {errorCode, pushBlob, pushManifest, request, sha256} from './client.js'

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json'
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json'
const EMPTY = {mediaType: 'application/vnd.oci.empty.v1+json', digest: sha256('{}'), size: 2}

let s: RunningServer
before(async () => {
  s = await startServer({address: '127.0.0.1:0'})
})
after(() => s.close())

/** pushImage pushes an image's blobs then its manifest under reference. */
async function pushImage(repo: string, image: BuiltImage, reference: string): Promise<void> {
  for (const b of image.blobs.values()) await pushBlob(s.url, repo, b)
  const r = await pushManifest(s.url, repo, reference, image.manifestBytes, image.mediaType)
  assert.equal(r.status, 201, r.body.toString())
}

describe('registry serve: manifests', () => {
  let image: BuiltImage
  before(async () => {
    image = await buildImage({layers: 2, seed: 'serve-manifests', mediaTypes: 'docker'})
    await pushImage('man/app', image, 'v1')
  })

  it('PUT answers 201 with the digest and Location', async () => {
    const r = await pushManifest(s.url, 'man/app', 'v1-again', image.manifestBytes, image.mediaType)
    assert.equal(r.status, 201)
    assert.equal(r.headers['docker-content-digest'], image.manifestDigest)
    assert.equal(r.headers.location, `/v2/man/app/manifests/${image.manifestDigest}`)
    assert.equal(r.headers['oci-subject'], undefined)
  })

  it('GET by tag and by digest returns the exact bytes and Content-Type; HEAD the headers', async () => {
    for (const ref of ['v1', image.manifestDigest]) {
      const r = await request(s.url, `/v2/man/app/manifests/${ref}`, {headers: {Accept: OCI_MANIFEST}})
      assert.equal(r.status, 200)
      assert.ok(r.body.equals(image.manifestBytes))
      assert.equal(r.headers['content-type'], image.mediaType)
      assert.equal(r.headers['docker-content-digest'], image.manifestDigest)
      const h = await request(s.url, `/v2/man/app/manifests/${ref}`, {method: 'HEAD'})
      assert.equal(h.status, 200)
      assert.equal(h.headers['content-length'], String(image.manifestBytes.length))
      assert.equal(h.headers['docker-content-digest'], image.manifestDigest)
    }
  })

  it('keeps bytes that are not canonical JSON exactly', async () => {
    const pretty = Buffer.from(`${JSON.stringify(JSON.parse(image.manifestBytes.toString()), null, 3)}\n`)
    const r = await pushManifest(s.url, 'man/app', 'pretty', pretty, image.mediaType)
    assert.equal(r.headers['docker-content-digest'], sha256(pretty))
    assert.ok((await request(s.url, '/v2/man/app/manifests/pretty')).body.equals(pretty))
  })

  it('PUT by digest checks the digest', async () => {
    const ok = await pushManifest(s.url, 'man/app', image.manifestDigest, image.manifestBytes, image.mediaType)
    assert.equal(ok.status, 201)
    const bad = await pushManifest(s.url, 'man/app', sha256('something else'), image.manifestBytes, image.mediaType)
    assert.equal(bad.status, 400)
    assert.equal(errorCode(bad), 'DIGEST_INVALID')
  })

  it('PUT refuses a manifest whose blobs are not in the repository: MANIFEST_BLOB_UNKNOWN', async () => {
    const r = await pushManifest(s.url, 'man/other', 'v1', image.manifestBytes, image.mediaType)
    assert.equal(r.status, 400)
    assert.equal(errorCode(r), 'MANIFEST_BLOB_UNKNOWN')
    assert.ok(r.json().errors[0].detail.digest.startsWith('sha256:'))
  })

  it('PUT refuses documents that are not manifests: MANIFEST_INVALID', async () => {
    for (const [body, type] of [
      ['not json', OCI_MANIFEST],
      ['{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}', OCI_MANIFEST],
      ['{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}', OCI_MANIFEST],
      ['{"schemaVersion":1,"fsLayers":[]}', 'application/vnd.docker.distribution.manifest.v1+json'],
    ]) {
      const r = await pushManifest(s.url, 'man/app', 'bad', Buffer.from(body), type)
      assert.equal(r.status, 400, body)
      assert.equal(errorCode(r), 'MANIFEST_INVALID', body)
    }
  })

  it('an index needs its child manifests in the repository', async () => {
    const index = await buildIndex('serve-index')
    const early = await pushManifest(s.url, 'man/multi', 'all', index.manifestBytes, OCI_INDEX)
    assert.equal(errorCode(early), 'MANIFEST_BLOB_UNKNOWN')
    for (const im of index.images) await pushImage('man/multi', im, im.manifestDigest)
    const r = await pushManifest(s.url, 'man/multi', 'all', index.manifestBytes, OCI_INDEX)
    assert.equal(r.status, 201)
    assert.equal(r.headers['docker-content-digest'], index.manifestDigest)
  })

  it('unknown manifests and repositories are 404 with their codes', async () => {
    const tag = await request(s.url, '/v2/man/app/manifests/nope')
    assert.equal(tag.status, 404)
    assert.equal(errorCode(tag), 'MANIFEST_UNKNOWN')
    const digest = await request(s.url, `/v2/man/app/manifests/${sha256('x')}`, {method: 'GET'})
    assert.equal(errorCode(digest), 'MANIFEST_UNKNOWN')
    const repo = await request(s.url, '/v2/man/nothing/manifests/v1')
    assert.equal(repo.status, 404)
    assert.equal(errorCode(repo), 'NAME_UNKNOWN')
    const bad = await request(s.url, '/v2/man/app/manifests/sha256:zz')
    assert.equal(bad.status, 400)
    assert.equal(errorCode(bad), 'DIGEST_INVALID')
  })

  it('DELETE of a tag keeps the manifest; DELETE by digest removes it and its tags', async () => {
    await pushManifest(s.url, 'man/app', 'doomed', image.manifestBytes, image.mediaType)
    assert.equal((await request(s.url, '/v2/man/app/manifests/doomed', {method: 'DELETE'})).status, 202)
    assert.equal((await request(s.url, '/v2/man/app/manifests/doomed')).status, 404)
    assert.equal((await request(s.url, `/v2/man/app/manifests/${image.manifestDigest}`)).status, 200)
    assert.equal((await request(s.url, `/v2/man/app/manifests/${image.manifestDigest}`, {method: 'DELETE'})).status, 202)
    assert.equal((await request(s.url, `/v2/man/app/manifests/${image.manifestDigest}`)).status, 404)
    assert.equal((await request(s.url, '/v2/man/app/manifests/v1')).status, 404)
    assert.deepEqual((await request(s.url, '/v2/man/app/tags/list')).json().tags, ['pretty'])
    const again = await request(s.url, `/v2/man/app/manifests/${image.manifestDigest}`, {method: 'DELETE'})
    assert.equal(again.status, 404)
    assert.equal(errorCode(again), 'MANIFEST_UNKNOWN')
  })
})

describe('registry serve: tags and catalog', () => {
  const tags = ['a', 'b', 'c', 'latest', 'v1', 'v2']
  before(async () => {
    const image = await buildImage({layers: 1, seed: 'serve-tags', mediaTypes: 'oci'})
    for (const t of tags) await pushImage('lists/app', image, t)
    await pushImage('lists/zzz', image, 'x')
    await pushImage('lists/aaa/deep/er', image, 'x')
  })

  it('lists every tag in order', async () => {
    const r = await request(s.url, '/v2/lists/app/tags/list')
    assert.equal(r.status, 200)
    assert.deepEqual(r.json(), {name: 'lists/app', tags})
    assert.equal(r.headers.link, undefined)
  })

  it('pages with n and last, following Link', async () => {
    const seen: string[] = []
    let next: string | undefined = '/v2/lists/app/tags/list?n=4'
    let pages = 0
    while (next !== undefined) {
      const r = await request(s.url, next)
      assert.equal(r.status, 200)
      seen.push(...r.json().tags)
      pages++
      const link = r.headers.link
      next = link === undefined ? undefined : /^<([^>]+)>; rel="next"$/.exec(link)![1]
    }
    assert.equal(pages, 2)
    assert.deepEqual(seen, tags)
    assert.deepEqual((await request(s.url, '/v2/lists/app/tags/list?n=2&last=b')).json().tags, ['c', 'latest'])
  })

  it('an unknown repository is NAME_UNKNOWN; a bad n is 400', async () => {
    const r = await request(s.url, '/v2/lists/none/tags/list')
    assert.equal(r.status, 404)
    assert.equal(errorCode(r), 'NAME_UNKNOWN')
    assert.equal((await request(s.url, '/v2/lists/app/tags/list?n=x')).status, 400)
  })

  it('the catalog lists repositories in order, paged the same way', async () => {
    const all: string[] = (await request(s.url, '/v2/_catalog')).json().repositories
    for (const n of ['lists/aaa/deep/er', 'lists/app', 'lists/zzz']) assert.ok(all.includes(n), n)
    assert.deepEqual(all, [...all].sort())
    const first = await request(s.url, '/v2/_catalog?n=1&last=lists/aaa/deep/er')
    assert.deepEqual(first.json().repositories, ['lists/app'])
    assert.equal(first.headers.link, '</v2/_catalog?n=1&last=lists%2Fapp>; rel="next"')
    const second = await request(s.url, '/v2/_catalog?n=1&last=lists%2Fapp')
    assert.deepEqual(second.json().repositories, ['lists/zzz'])
  })
})

describe('registry serve: referrers', () => {
  let image: BuiltImage
  let sbomDigest: string
  let sigDigest: string
  const sbomType = 'application/vnd.example.sbom.v1+json'
  const sigConfigType = 'application/vnd.example.signature.config.v1+json'
  before(async () => {
    image = await buildImage({layers: 1, seed: 'serve-referrers', mediaTypes: 'oci'})
    await pushImage('refs/app', image, 'v1')
    await pushBlob(s.url, 'refs/app', '{}')
    const layer = await pushBlob(s.url, 'refs/app', 'sbom contents')
    const subject = {mediaType: image.mediaType, digest: image.manifestDigest, size: image.manifestBytes.length}
    const sbom = {
      schemaVersion: 2, mediaType: OCI_MANIFEST, artifactType: sbomType, config: EMPTY,
      layers: [{mediaType: 'text/plain', digest: layer, size: 13}], subject, annotations: {'org.example.kind': 'sbom'},
    }
    const r = await pushManifest(s.url, 'refs/app', sha256(JSON.stringify(sbom)), sbom, OCI_MANIFEST)
    assert.equal(r.status, 201, r.body.toString())
    assert.equal(r.headers['oci-subject'], image.manifestDigest)
    sbomDigest = r.headers['docker-content-digest'] as string
    const sigConfig = await pushBlob(s.url, 'refs/app', 'sig config')
    const sig = {schemaVersion: 2, mediaType: OCI_MANIFEST, config: {mediaType: sigConfigType, digest: sigConfig, size: 10}, layers: [], subject}
    const r2 = await pushManifest(s.url, 'refs/app', 'sig', sig, OCI_MANIFEST)
    assert.equal(r2.headers['oci-subject'], image.manifestDigest)
    sigDigest = r2.headers['docker-content-digest'] as string
  })

  it('lists every referrer as a descriptor in an OCI index', async () => {
    const r = await request(s.url, `/v2/refs/app/referrers/${image.manifestDigest}`)
    assert.equal(r.status, 200)
    assert.equal(r.headers['content-type'], OCI_INDEX)
    assert.equal(r.headers['oci-filters-applied'], undefined)
    const index = r.json()
    assert.equal(index.schemaVersion, 2)
    assert.equal(index.mediaType, OCI_INDEX)
    const byDigest = new Map(index.manifests.map((d: {digest: string}) => [d.digest, d]))
    assert.equal(byDigest.size, 2)
    const sbom = byDigest.get(sbomDigest) as Record<string, unknown>
    assert.equal(sbom.mediaType, OCI_MANIFEST)
    assert.equal(sbom.artifactType, sbomType)
    assert.deepEqual(sbom.annotations, {'org.example.kind': 'sbom'})
    assert.equal(typeof sbom.size, 'number')
    assert.equal((byDigest.get(sigDigest) as Record<string, unknown>).artifactType, sigConfigType, 'config media type when no artifactType')
  })

  it('filters by artifactType and says so', async () => {
    const r = await request(s.url, `/v2/refs/app/referrers/${image.manifestDigest}?artifactType=${encodeURIComponent(sbomType)}`)
    assert.equal(r.status, 200)
    assert.equal(r.headers['oci-filters-applied'], 'artifactType')
    assert.deepEqual(r.json().manifests.map((d: {digest: string}) => d.digest), [sbomDigest])
  })

  it('an unknown subject has an empty list; a bad digest is DIGEST_INVALID', async () => {
    const r = await request(s.url, `/v2/refs/app/referrers/${sha256('nobody')}`)
    assert.equal(r.status, 200)
    assert.deepEqual(r.json().manifests, [])
    const bad = await request(s.url, '/v2/refs/app/referrers/sha256:nope')
    assert.equal(bad.status, 400)
    assert.equal(errorCode(bad), 'DIGEST_INVALID')
  })

  it('a referrer pushed before its subject is accepted; deleting it drops it from the list', async () => {
    const ghost = {mediaType: OCI_MANIFEST, digest: sha256('not pushed yet'), size: 14}
    const early = {schemaVersion: 2, mediaType: OCI_MANIFEST, artifactType: sbomType, config: EMPTY, layers: [], subject: ghost}
    const r = await pushManifest(s.url, 'refs/app', 'early', early, OCI_MANIFEST)
    assert.equal(r.status, 201)
    assert.equal(r.headers['oci-subject'], ghost.digest)
    assert.equal((await request(s.url, `/v2/refs/app/referrers/${ghost.digest}`)).json().manifests.length, 1)
    await request(s.url, `/v2/refs/app/manifests/${r.headers['docker-content-digest']}`, {method: 'DELETE'})
    assert.deepEqual((await request(s.url, `/v2/refs/app/referrers/${ghost.digest}`)).json().manifests, [])
  })
})
