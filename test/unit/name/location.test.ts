// parseLocation: store names split as skopeo splits them (issue 16): PATH ends at its first
// colon, a colon inside PATH is written `\:`, REF may hold colons.
import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {describeLocation, fileLocation, parseLocation} from '../../../src/lib/stores/location.js'
import {isOcitoolError} from '../../../src/lib/errors.js'

describe('parseLocation', () => {
  it('splits oci:, oci-archive: and docker-archive: at the first colon after the path', () => {
    assert.deepEqual(parseLocation('oci:lay:myapp:1'), {kind: 'oci', path: 'lay', tag: 'myapp:1'})
    assert.deepEqual(parseLocation('oci:two:localhost/base:2'), {kind: 'oci', path: 'two', tag: 'localhost/base:2'})
    assert.deepEqual(parseLocation('oci-archive:podman-save.tar:localhost/app:1'), {kind: 'oci-archive', path: 'podman-save.tar', tag: 'localhost/app:1'})
    assert.deepEqual(parseLocation('docker-archive:multi.tar:localhost/b:2'), {kind: 'docker-archive', path: 'multi.tar', ref: 'localhost/b:2'})
    assert.deepEqual(parseLocation('oci:./lay'), {kind: 'oci', path: './lay'})
    assert.deepEqual(parseLocation('oci:./lay:'), {kind: 'oci', path: './lay'})
    assert.deepEqual(parseLocation('dir:/a:b'), {kind: 'dir', path: '/a:b'})
  })
  it('reads \\: as a colon inside the path, and writes it back so', () => {
    const loc = parseLocation('oci:my\\:dir:1')
    assert.deepEqual(loc, {kind: 'oci', path: 'my:dir', tag: '1'})
    assert.equal(describeLocation(loc), 'oci:my\\:dir:1')
    assert.deepEqual(parseLocation('docker-archive:a\\:b.tar'), {kind: 'docker-archive', path: 'a:b.tar'})
  })
  it('refuses a reference skopeo would refuse, with a usage error naming \\:', () => {
    for (const bad of ['oci:lay:my app', 'oci:lay:-x', 'docker-archive:f.tar:Bad/Name:1', 'oci::1']) {
      assert.throws(() => parseLocation(bad), (e: unknown) => isOcitoolError(e) && e.exitCode === 2, bad)
    }
  })
  it('fileLocation takes a plain path whole and a store name as a store name', () => {
    assert.deepEqual(fileLocation('a:b.tar'), {kind: 'docker-archive', path: 'a:b.tar'})
    assert.deepEqual(fileLocation('-'), {kind: 'docker-archive', path: '-'})
    assert.deepEqual(fileLocation('oci-archive:x.tar:app:1'), {kind: 'oci-archive', path: 'x.tar', tag: 'app:1'})
  })
  it('docker:// names a registry image', () => {
    const loc = parseLocation('docker://127.0.0.1:5000/a/b:1')
    assert.equal(loc.kind, 'registry')
    if (loc.kind === 'registry') assert.equal(loc.ref.toString(), '127.0.0.1:5000/a/b:1')
  })
})
