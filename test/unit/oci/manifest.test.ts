import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {isOcitoolError} from '../../../src/lib/errors.js'
import {
  MAX_MANIFEST_BYTES,
  artifactTypeOf,
  childDescriptors,
  parseManifest,
  schema1BlobDigests,
} from '../../../src/lib/oci/manifest.js'
import {MediaType} from '../../../src/lib/oci/media-types.js'
import type {ImageManifest, Schema1Manifest} from '../../../src/lib/oci/types.js'

const A = 'sha256:' + 'a'.repeat(64)
const B = 'sha256:' + 'b'.repeat(64)
const C = 'sha256:' + 'c'.repeat(64)

const bytes = (v: unknown): Uint8Array => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v))
const desc = (mediaType: string, digest: string, size = 10, extra: object = {}) => ({mediaType, digest, size, ...extra})

const ociImage = {
  schemaVersion: 2,
  mediaType: MediaType.ociManifest,
  config: desc(MediaType.ociConfig, A, 100),
  layers: [desc(MediaType.ociLayerGzip, B, 200), desc(MediaType.ociLayerGzip, C, 300)],
}
const dockerImage = {
  schemaVersion: 2,
  mediaType: MediaType.dockerManifest,
  config: desc(MediaType.dockerConfig, A),
  layers: [desc(MediaType.dockerLayer, B)],
}
const ociIndex = {
  schemaVersion: 2,
  mediaType: MediaType.ociIndex,
  manifests: [
    desc(MediaType.ociManifest, A, 500, {platform: {os: 'linux', architecture: 'amd64'}}),
    desc(MediaType.ociManifest, B, 501, {platform: {os: 'linux', architecture: 'arm64', variant: 'v8'}, annotations: {k: 'v'}}),
  ],
}
const { mediaType: _m1, ...bareImage } = ociImage
const { mediaType: _m2, ...bareIndex } = ociIndex
const schema1 = {
  schemaVersion: 1,
  name: 'library/x',
  tag: 'latest',
  architecture: 'amd64',
  fsLayers: [{blobSum: B}, {blobSum: A}, {blobSum: B}],
  history: [{v1Compatibility: '{}'}, {v1Compatibility: '{}'}, {v1Compatibility: '{}'}],
}
const artifact = {
  mediaType: MediaType.ociArtifact,
  artifactType: 'application/vnd.example.sbom',
  blobs: [desc('application/json', A)],
  subject: desc(MediaType.ociManifest, B),
}

describe('parseManifest accepts', () => {
  const cases: {name: string; doc: unknown; hint?: string; kind: string; mediaType: string; children: string[]}[] = [
    {name: 'OCI image manifest', doc: ociImage, kind: 'image', mediaType: MediaType.ociManifest, children: [A, B, C]},
    {name: 'Docker schema 2 manifest', doc: dockerImage, kind: 'image', mediaType: MediaType.dockerManifest, children: [A, B]},
    {name: 'OCI index', doc: ociIndex, kind: 'index', mediaType: MediaType.ociIndex, children: [A, B]},
    {name: 'Docker manifest list', doc: {...ociIndex, mediaType: MediaType.dockerManifestList}, kind: 'index', mediaType: MediaType.dockerManifestList, children: [A, B]},
    {name: 'image without mediaType, by shape', doc: bareImage, kind: 'image', mediaType: MediaType.ociManifest, children: [A, B, C]},
    {
      name: 'docker-config image without mediaType',
      doc: {...bareImage, config: desc(MediaType.dockerConfig, A)},
      kind: 'image',
      mediaType: MediaType.dockerManifest,
      children: [A, B, C],
    },
    {name: 'index without mediaType, by shape', doc: bareIndex, kind: 'index', mediaType: MediaType.ociIndex, children: [A, B]},
    {name: 'index without mediaType, by hint', doc: bareIndex, hint: `${MediaType.dockerManifestList}; charset=utf-8`, kind: 'index', mediaType: MediaType.dockerManifestList, children: [A, B]},
    {name: 'mediaType field beats the hint', doc: ociImage, hint: MediaType.dockerManifest, kind: 'image', mediaType: MediaType.ociManifest, children: [A, B, C]},
    {name: 'generic hint ignored', doc: bareImage, hint: 'application/json', kind: 'image', mediaType: MediaType.ociManifest, children: [A, B, C]},
    {name: 'empty index', doc: {schemaVersion: 2, manifests: []}, kind: 'index', mediaType: MediaType.ociIndex, children: []},
    {
      name: 'artifact-style image manifest (OCI 1.1)',
      doc: {...ociImage, artifactType: 'application/vnd.example', config: desc(MediaType.ociEmpty, A, 2, {data: 'e30='}), layers: [], subject: desc(MediaType.ociManifest, C)},
      kind: 'image',
      mediaType: MediaType.ociManifest,
      children: [A],
    },
    {name: 'OCI 1.1-rc artifact manifest', doc: artifact, kind: 'artifact', mediaType: MediaType.ociArtifact, children: [A]},
    {name: 'schema 1', doc: schema1, kind: 'schema1', mediaType: MediaType.dockerSchema1, children: []},
    {name: 'signed schema 1', doc: {...schema1, signatures: [{}]}, kind: 'schema1', mediaType: MediaType.dockerSchema1Signed, children: []},
    {
      name: 'unknown extra fields and foreign layer urls',
      doc: {...dockerImage, layers: [desc(MediaType.dockerForeignLayer, B, 5, {urls: ['https://example.com/b']})], extra: {x: 1}},
      kind: 'image',
      mediaType: MediaType.dockerManifest,
      children: [A, B],
    },
    {name: 'custom mediaType, image shape', doc: {...ociImage, mediaType: 'application/vnd.example+json'}, kind: 'image', mediaType: 'application/vnd.example+json', children: [A, B, C]},
    {name: 'size 0 and sha512', doc: {...ociImage, layers: [desc(MediaType.ociLayer, 'sha512:' + 'f'.repeat(128), 0)]}, kind: 'image', mediaType: MediaType.ociManifest, children: [A, 'sha512:' + 'f'.repeat(128)]},
  ]
  for (const c of cases) {
    it(c.name, () => {
      const parsed = parseManifest(bytes(c.doc), c.hint)
      assert.equal(parsed.kind, c.kind)
      assert.equal(parsed.mediaType, c.mediaType)
      assert.deepEqual(childDescriptors(parsed).map((d) => d.digest), c.children)
    })
  }
  it('returns the document as parsed', () => {
    const parsed = parseManifest(bytes(ociIndex))
    assert.deepEqual(parsed.manifest, ociIndex)
  })
  it('accepts a UTF-8 BOM-free document with unicode annotations', () => {
    const parsed = parseManifest(bytes({...ociImage, annotations: {'org.opencontainers.image.title': 'café'}}))
    assert.equal(parsed.kind, 'image')
  })
})

describe('parseManifest rejects', () => {
  const cases: {name: string; raw: Uint8Array; want: string}[] = [
    {name: 'not JSON', raw: bytes('<html>'), want: 'not JSON'},
    {name: 'empty', raw: bytes(''), want: 'not JSON'},
    {name: 'not UTF-8', raw: new Uint8Array([0x7b, 0xff, 0x7d]), want: 'not UTF-8'},
    {name: 'an array', raw: bytes([]), want: 'expected a JSON object, got an array'},
    {name: 'null', raw: bytes('null'), want: 'got null'},
    {name: 'a string', raw: bytes('"x"'), want: 'got string "x"'},
    {name: 'no shape', raw: bytes({schemaVersion: 2}), want: 'no mediaType'},
    {name: 'unknown type, no shape', raw: bytes({schemaVersion: 2, mediaType: 'text/plain'}), want: 'unknown mediaType "text/plain"'},
    {name: 'schemaVersion 3', raw: bytes({...ociImage, schemaVersion: 3}), want: 'schemaVersion must be 2, got number 3'},
    {name: 'schemaVersion missing', raw: bytes({...ociIndex, schemaVersion: undefined}), want: 'schemaVersion must be 2'},
    {name: 'schemaVersion string', raw: bytes({...ociImage, schemaVersion: '2'}), want: 'schemaVersion must be 2, got string "2"'},
    {name: 'ambiguous', raw: bytes({...ociIndex, layers: []}), want: 'ambiguous'},
    {name: 'index type without manifests', raw: bytes({schemaVersion: 2, mediaType: MediaType.ociIndex, layers: []}), want: 'needs a "manifests" array'},
    {name: 'image type without config', raw: bytes({schemaVersion: 2, mediaType: MediaType.ociManifest, layers: []}), want: 'needs a "config" descriptor'},
    {name: 'image without layers', raw: bytes({schemaVersion: 2, mediaType: MediaType.ociManifest, config: desc(MediaType.ociConfig, A)}), want: 'needs a "layers" array'},
    {name: 'layers not an array', raw: bytes({...ociImage, layers: {}}), want: 'layers must be an array, got an object'},
    {name: 'descriptor not an object', raw: bytes({...ociImage, layers: ['x']}), want: 'layers[0] must be a descriptor object'},
    {name: 'mediaType missing', raw: bytes({...ociImage, config: {digest: A, size: 1}}), want: 'config.mediaType must be a non-empty string, got undefined'},
    {name: 'mediaType a number', raw: bytes({...ociImage, layers: [{mediaType: 1, digest: A, size: 1}]}), want: 'layers[0].mediaType must be a non-empty string'},
    {name: 'bad digest', raw: bytes({...ociImage, layers: [desc(MediaType.ociLayer, B), desc(MediaType.ociLayer, 'sha256:abc')]}), want: 'layers[1].digest "sha256:abc": sha256 digest must be 64'},
    {name: 'md5 digest', raw: bytes({...ociIndex, manifests: [desc(MediaType.ociManifest, 'md5:' + 'a'.repeat(32))]}), want: 'manifests[0].digest "md5:'},
    {name: 'digest missing', raw: bytes({...ociImage, config: {mediaType: MediaType.ociConfig, size: 1}}), want: 'config.digest must be a digest string, got undefined'},
    {name: 'negative size', raw: bytes({...ociImage, config: desc(MediaType.ociConfig, A, -1)}), want: 'config.size must be a non-negative integer, got number -1'},
    {name: 'fractional size', raw: bytes({...ociImage, config: desc(MediaType.ociConfig, A, 1.5)}), want: 'config.size must be a non-negative integer'},
    {name: 'string size', raw: bytes({...ociImage, config: desc(MediaType.ociConfig, A, '10' as unknown as number)}), want: 'config.size must be a non-negative integer, got string "10"'},
    {name: 'urls not strings', raw: bytes({...ociImage, layers: [desc(MediaType.ociLayer, B, 1, {urls: [1]})]}), want: 'layers[0].urls must be an array of strings'},
    {name: 'annotation not a string', raw: bytes({...ociImage, annotations: {a: 1}}), want: 'annotations["a"] must be a string'},
    {name: 'platform without os', raw: bytes({...ociIndex, manifests: [desc(MediaType.ociManifest, A, 1, {platform: {architecture: 'amd64'}})]}), want: 'manifests[0].platform.os must be a string'},
    {name: 'bad subject', raw: bytes({...ociImage, subject: {mediaType: MediaType.ociManifest}}), want: 'subject.digest'},
    {name: 'schema 1 without fsLayers', raw: bytes({schemaVersion: 1, name: 'x'}), want: 'fsLayers must be an array'},
    {name: 'schema 1 bad blobSum', raw: bytes({...schema1, fsLayers: [{blobSum: 'x'}]}), want: 'fsLayers[0].blobSum "x"'},
    {name: 'too large', raw: new Uint8Array(MAX_MANIFEST_BYTES + 1), want: 'larger than the 4194304-byte limit'},
  ]
  for (const c of cases) {
    it(c.name, () => {
      assert.throws(
        () => parseManifest(c.raw),
        (e: unknown) => {
          assert.ok(isOcitoolError(e), String(e))
          assert.equal(e.code, 'BAD_MANIFEST')
          assert.equal(e.exitCode, 5)
          assert.ok(e.message.startsWith('invalid manifest: '), e.message)
          assert.ok(e.message.includes(c.want), `${JSON.stringify(e.message)} lacks ${JSON.stringify(c.want)}`)
          assert.ok(!e.message.includes('\n'), 'one line')
          return true
        },
      )
    })
  }
})

describe('schema1BlobDigests', () => {
  it('returns distinct digests, base layer first', () => {
    assert.deepEqual(schema1BlobDigests(schema1 as Schema1Manifest), [B, A])
  })
})

describe('artifactTypeOf', () => {
  const image = ociImage as unknown as ImageManifest
  for (const c of [
    {name: 'plain image', m: image, want: undefined},
    {name: 'artifactType field', m: {...image, artifactType: 'application/vnd.example'}, want: 'application/vnd.example'},
    {name: 'non-image config', m: {...image, config: {...image.config, mediaType: 'application/vnd.cncf.helm.config.v1+json'}}, want: 'application/vnd.cncf.helm.config.v1+json'},
    {name: 'index', m: {schemaVersion: 2 as const, manifests: []}, want: undefined},
  ]) {
    it(c.name, () => assert.equal(artifactTypeOf(c.m), c.want))
  }
})
