import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {
  MANIFEST_ACCEPT,
  MANIFEST_ACCEPT_HEADER,
  MediaType,
  baseMediaType,
  isConfig,
  isForeign,
  isImageManifest,
  isIndex,
  isKnownManifestType,
  isLayer,
  isSchema1,
  layerCompression,
} from '../../../src/lib/oci/media-types.js'

type Row = {mt: string; index?: true; image?: true; schema1?: true; manifest?: true; layer?: true; foreign?: true; config?: true}

describe('media type predicates', () => {
  const rows: Row[] = [
    {mt: MediaType.ociIndex, index: true, manifest: true},
    {mt: MediaType.dockerManifestList, index: true, manifest: true},
    {mt: MediaType.ociManifest, image: true, manifest: true},
    {mt: MediaType.dockerManifest, image: true, manifest: true},
    {mt: MediaType.ociArtifact, manifest: true},
    {mt: MediaType.dockerSchema1, schema1: true, manifest: true},
    {mt: MediaType.dockerSchema1Signed, schema1: true, manifest: true},
    {mt: MediaType.ociConfig, config: true},
    {mt: MediaType.dockerConfig, config: true},
    {mt: MediaType.ociEmpty},
    {mt: MediaType.ociLayer, layer: true},
    {mt: MediaType.ociLayerGzip, layer: true},
    {mt: MediaType.ociLayerZstd, layer: true},
    {mt: MediaType.ociLayerNondistributable, layer: true, foreign: true},
    {mt: MediaType.ociLayerNondistributableGzip, layer: true, foreign: true},
    {mt: MediaType.ociLayerNondistributableZstd, layer: true, foreign: true},
    {mt: MediaType.dockerLayer, layer: true},
    {mt: MediaType.dockerLayerUncompressed, layer: true},
    {mt: MediaType.dockerForeignLayer, layer: true, foreign: true},
    {mt: 'application/vnd.oci.image.index.v1+json; charset=utf-8', index: true, manifest: true},
    {mt: 'Application/VND.Docker.Distribution.Manifest.V2+JSON', image: true, manifest: true},
    {mt: 'application/json'},
    {mt: 'application/vnd.cncf.helm.config.v1+json'},
    {mt: ''},
  ]
  for (const r of rows) {
    it(r.mt || '(empty)', () => {
      assert.equal(isIndex(r.mt), r.index === true, 'isIndex')
      assert.equal(isImageManifest(r.mt), r.image === true, 'isImageManifest')
      assert.equal(isSchema1(r.mt), r.schema1 === true, 'isSchema1')
      assert.equal(isKnownManifestType(r.mt), r.manifest === true, 'isKnownManifestType')
      assert.equal(isLayer(r.mt), r.layer === true, 'isLayer')
      assert.equal(isForeign(r.mt), r.foreign === true, 'isForeign')
      assert.equal(isConfig(r.mt), r.config === true, 'isConfig')
    })
  }
})

describe('layerCompression', () => {
  for (const c of [
    {mt: MediaType.ociLayer, want: 'none'},
    {mt: MediaType.ociLayerGzip, want: 'gzip'},
    {mt: MediaType.ociLayerZstd, want: 'zstd'},
    {mt: MediaType.dockerLayer, want: 'gzip'},
    {mt: MediaType.dockerForeignLayer, want: 'gzip'},
    {mt: MediaType.ociConfig, want: undefined},
  ]) {
    it(c.mt, () => assert.equal(layerCompression(c.mt), c.want))
  }
})

describe('MANIFEST_ACCEPT', () => {
  it('lists every manifest type once', () => {
    assert.equal(new Set(MANIFEST_ACCEPT).size, MANIFEST_ACCEPT.length)
    for (const mt of [MediaType.ociIndex, MediaType.ociManifest, MediaType.dockerManifestList, MediaType.dockerManifest, MediaType.dockerSchema1Signed]) {
      assert.ok(MANIFEST_ACCEPT.includes(mt), mt)
    }
    assert.equal(MANIFEST_ACCEPT_HEADER, MANIFEST_ACCEPT.join(', '))
  })
  it('baseMediaType strips parameters and case', () => {
    assert.equal(baseMediaType(' Application/JSON ; charset=utf-8'), 'application/json')
  })
})
