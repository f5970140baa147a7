import assert from 'node:assert/strict'
import {describe, it} from 'node:test'

import {isOcitoolError} from '../../../src/lib/errors.js'
import {formatPlatform, parsePlatform, platformMatches, platformOf, selectManifest} from '../../../src/lib/oci/platform.js'
import type {Descriptor, ImageConfig, ImageIndex, Platform} from '../../../src/lib/oci/types.js'

describe('parsePlatform', () => {
  for (const c of [
    {in: 'linux/amd64', want: {os: 'linux', architecture: 'amd64'}},
    {in: 'linux/arm64/v8', want: {os: 'linux', architecture: 'arm64', variant: 'v8'}},
    {in: 'linux/arm/v7', want: {os: 'linux', architecture: 'arm', variant: 'v7'}},
    {in: 'windows/amd64:10.0.17763.1234', want: {os: 'windows', architecture: 'amd64', 'os.version': '10.0.17763.1234'}},
    {in: 'linux/amd64/v3:5.15', want: {os: 'linux', architecture: 'amd64', variant: 'v3', 'os.version': '5.15'}},
    {in: '  linux/s390x ', want: {os: 'linux', architecture: 's390x'}},
    {in: 'unknown/unknown', want: {os: 'unknown', architecture: 'unknown'}},
  ]) {
    it(c.in, () => {
      assert.deepEqual(parsePlatform(c.in), c.want)
      assert.equal(formatPlatform(parsePlatform(c.in)), c.in.trim(), 'formatPlatform round-trips')
    })
  }
  for (const c of [
    {in: '', want: 'must not be empty'},
    {in: 'linux:10.0', want: 'architecture is missing'},
    {in: 'lin ux', want: 'invalid characters'},
    {in: 'linux/', want: 'architecture is empty'},
    {in: '/amd64', want: 'os is empty'},
    {in: 'linux/arm64/', want: 'variant is empty'},
    {in: 'linux/arm/v7/x', want: 'too many "/"'},
    {in: 'linux/amd64:', want: 'os.version after ":" is empty'},
    {in: 'linux/amd 64', want: 'invalid characters'},
    {in: 'linux/amd64:1:2', want: 'invalid characters'},
  ]) {
    it(`rejects ${JSON.stringify(c.in)}`, () => {
      assert.throws(
        () => parsePlatform(c.in),
        (e: unknown) => isOcitoolError(e) && e.code === 'USAGE' && e.message.startsWith(`invalid platform ${JSON.stringify(c.in)}: `) && e.message.includes(c.want),
      )
    })
  }
})

describe('platformMatches', () => {
  it('an OS alone (crane: --platform linux) matches every architecture of that OS (issue 16)', () => {
    const linux = parsePlatform('linux')
    assert.deepEqual(linux, {os: 'linux', architecture: ''})
    assert.equal(formatPlatform(linux), 'linux')
    for (const have of ['linux/amd64', 'linux/arm64/v8', 'linux/arm/v7', 'linux/s390x']) assert.equal(platformMatches(linux, parsePlatform(have)), true, have)
    assert.equal(platformMatches(linux, parsePlatform('windows/amd64')), false)
  })
  const p = (s: string, extra: Partial<Platform> = {}): Platform => ({...parsePlatform(s), ...extra})
  const cases: {want: Platform; have: Platform; match: boolean; why: string}[] = [
    {want: p('linux/amd64'), have: p('linux/amd64'), match: true, why: 'equal'},
    {want: p('linux/amd64'), have: p('linux/arm64'), match: false, why: 'other arch'},
    {want: p('linux/amd64'), have: p('windows/amd64'), match: false, why: 'other os'},
    {want: p('linux/arm64'), have: p('linux/arm64/v8'), match: true, why: 'missing variant in want matches any'},
    {want: p('linux/arm'), have: p('linux/arm/v6'), match: true, why: 'missing variant in want matches any (arm)'},
    {want: p('linux/arm64/v8'), have: p('linux/arm64'), match: true, why: 'arm64 defaults to v8'},
    {want: p('linux/arm64/v9'), have: p('linux/arm64'), match: false, why: 'arm64 default is not v9'},
    {want: p('linux/arm/v7'), have: p('linux/arm'), match: true, why: 'arm defaults to v7 (containerd)'},
    {want: p('linux/arm/v6'), have: p('linux/arm'), match: false, why: 'arm default is not v6'},
    {want: p('linux/arm/v7'), have: p('linux/arm/v6'), match: false, why: 'other variant'},
    {want: p('linux/arm/7'), have: p('linux/arm/v7'), match: true, why: 'numeric arm variant'},
    {want: p('linux/arm64/8'), have: p('linux/arm64'), match: true, why: 'numeric arm64 variant'},
    {want: p('linux/amd64/v1'), have: p('linux/amd64'), match: true, why: 'amd64 defaults to v1'},
    {want: p('linux/amd64/v3'), have: p('linux/amd64'), match: false, why: 'amd64 default is not v3'},
    {want: p('linux/amd64'), have: p('linux/amd64/v3'), match: true, why: 'want has no variant'},
    {want: p('linux/x86_64'), have: p('linux/amd64'), match: true, why: 'x86_64 alias'},
    {want: p('linux/aarch64'), have: p('linux/arm64/v8'), match: true, why: 'aarch64 alias'},
    {want: p('linux/armhf'), have: p('linux/arm/v7'), match: true, why: 'armhf is arm/v7'},
    {want: p('linux/armhf'), have: p('linux/arm/v6'), match: false, why: 'armhf is not arm/v6'},
    {want: p('Linux/AMD64'), have: p('linux/amd64'), match: true, why: 'case-insensitive'},
    {want: p('windows/amd64:10.0.17763.1234'), have: p('windows/amd64:10.0.17763.1234'), match: true, why: 'os.version equal'},
    {want: p('windows/amd64:10.0.17763.1234'), have: p('windows/amd64:10.0.20348.1'), match: false, why: 'os.version differs'},
    {want: p('windows/amd64'), have: p('windows/amd64:10.0.20348.1'), match: true, why: 'os.version not wanted'},
    {want: p('windows/amd64', {'os.features': ['win32k']}), have: p('windows/amd64', {'os.features': ['win32k']}), match: true, why: 'os.features present'},
    {want: p('windows/amd64', {'os.features': ['win32k']}), have: p('windows/amd64'), match: false, why: 'os.features missing'},
    {want: p('linux/amd64'), have: p('unknown/unknown'), match: false, why: 'attestation entry'},
  ]
  for (const c of cases) {
    it(`${formatPlatform(c.want)} vs ${formatPlatform(c.have)}: ${c.why}`, () => assert.equal(platformMatches(c.want, c.have), c.match))
  }
})

describe('selectManifest', () => {
  const desc = (n: number, platform?: Platform): Descriptor => ({
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    digest: `sha256:${String(n).repeat(64).slice(0, 64)}`,
    size: 100 + n,
    ...(platform ? {platform} : {}),
  })
  const index: ImageIndex = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [
      desc(0),
      desc(1, {os: 'linux', architecture: 'amd64'}),
      desc(2, {os: 'linux', architecture: 'arm', variant: 'v6'}),
      desc(3, {os: 'linux', architecture: 'arm', variant: 'v7'}),
      desc(4, {os: 'linux', architecture: 'arm64'}),
      desc(5, {os: 'unknown', architecture: 'unknown'}),
      desc(6, {os: 'windows', architecture: 'amd64', 'os.version': '10.0.17763.1234'}),
    ],
  }
  for (const c of [
    {want: 'linux/amd64', size: 101},
    {want: 'linux/arm/v7', size: 103},
    {want: 'linux/arm', size: 102},
    {want: 'linux/arm64/v8', size: 104},
    {want: 'windows/amd64', size: 106},
    {want: 'windows/amd64:10.0.17763.1234', size: 106},
    {want: 'windows/amd64:10.0.20348.1', size: undefined},
    {want: 'linux/s390x', size: undefined},
  ]) {
    it(c.want, () => assert.equal(selectManifest(index, parsePlatform(c.want))?.size, c.size))
  }
})

describe('platformOf', () => {
  it('reads os, architecture, variant and os.version from a config', () => {
    const config: ImageConfig = {architecture: 'arm64', os: 'linux', variant: 'v8', rootfs: {type: 'layers', diff_ids: []}}
    assert.deepEqual(platformOf(config), {os: 'linux', architecture: 'arm64', variant: 'v8'})
    assert.equal(platformMatches(parsePlatform('linux/arm64'), platformOf(config)), true)
  })
})
