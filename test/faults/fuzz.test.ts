// Seeded fuzzing of the three parsers that see untrusted bytes first: references, manifests and
// tar headers. Every input must either parse or throw one of the project's own errors (an
// OcitoolError), and each must be answered within a bound: a guard against runaway backtracking
// or loops (seconds, far above a parse's microseconds, so load on the machine cannot trip it),
// not a measure of speed. OCITOOL_FUZZ_ITERATIONS raises the
// count (default 300 per parser); OCITOOL_FUZZ_SEED picks another seed.
import assert from 'node:assert/strict'
import * as fsp from 'node:fs/promises'
import * as path from 'node:path'
import {after, before, describe, it} from 'node:test'

import {OcitoolError} from '../../src/lib/errors.js'
import {parseReference} from '../../src/lib/name/reference.js'
import {parseManifest} from '../../src/lib/oci/manifest.js'
import {TarReader} from '../../src/lib/tarball/reader.js'
import {MediaTypes, sha256} from '../support/fixtures.js'
import {type TmpDir, tmpDir} from '../support/tmp.js'
import {mulberry32 as prng} from '../support/prng.js'

const iterations = Number(process.env.OCITOOL_FUZZ_ITERATIONS ?? 300)
const seed = Number(process.env.OCITOOL_FUZZ_SEED ?? 20261122)

class Gen {
  readonly rnd: () => number
  constructor(s: number) {
    this.rnd = prng(s)
  }

  int(n: number): number {
    return Math.floor(this.rnd() * n)
  }

  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]
  }

  /** mutate applies 1..4 random edits (replace, insert, delete, duplicate) to s */
  mutate(s: string, alphabet: string): string {
    let out = s
    for (let k = 1 + this.int(4); k > 0; k--) {
      const i = this.int(out.length + 1)
      const c = this.pick([...alphabet])
      switch (this.int(4)) {
        case 0: out = out.slice(0, i) + c + out.slice(i + 1); break
        case 1: out = out.slice(0, i) + c + out.slice(i); break
        case 2: out = out.slice(0, i) + out.slice(i + 1 + this.int(3)); break
        default: out = out.slice(0, i) + out.slice(i, i + 1 + this.int(8)).repeat(1 + this.int(40)) + out.slice(i)
      }
    }
    return out
  }

  bytes(n: number): Buffer {
    const b = Buffer.alloc(n)
    for (let i = 0; i < n; i++) b[i] = this.int(256)
    return b
  }
}

/** expectOwnError runs fn: success or an OcitoolError is fine, anything else fails with the input */
async function expectOwnError(what: string, input: unknown, fn: () => unknown, boundMs: number): Promise<void> {
  const started = performance.now()
  try {
    await fn()
  } catch (e) {
    if (!(e instanceof OcitoolError)) assert.fail(`${what} threw ${(e as Error)?.constructor?.name}: ${(e as Error)?.message} for ${JSON.stringify(input).slice(0, 300)}`)
  }
  const took = performance.now() - started
  assert.ok(took < boundMs, `${what} took ${took.toFixed(0)} ms for ${JSON.stringify(input).slice(0, 300)}`)
}

const digest = sha256('fuzz')
const refSeeds = [
  'alpine', 'library/alpine:3.19', 'ghcr.io/org/app:v1', `127.0.0.1:5000/a/b@${digest}`, `localhost/x:y@${digest}`,
  '[::1]:5000/repo:tag', 'registry.example.com:443/deep/name/space:tag-1.2_3', 'a.b-c/d__e/f:g', `r@${digest}`,
]
const refAlphabet = 'abcAZ019:/@._-[]% \t\n\u0000\u00e9\u202e\ud83d\ude00sha256:+'

describe('fuzz: the reference parser', () => {
  it(`${iterations} mutated references parse or throw an OcitoolError, each within 2 s`, async () => {
    const g = new Gen(seed)
    for (let i = 0; i < iterations; i++) {
      const input = g.mutate(g.pick(refSeeds), refAlphabet)
      await expectOwnError('parseReference', input, () => {
        const r = parseReference(input)
        assert.equal(typeof r.toString(), 'string')
      }, 2000)
    }
  })
})

const layerDesc = {mediaType: MediaTypes.ociLayerGzip, size: 10, digest}
const manifestSeeds: unknown[] = [
  {schemaVersion: 2, mediaType: MediaTypes.ociManifest, config: {mediaType: MediaTypes.ociConfig, size: 2, digest}, layers: [layerDesc]},
  {schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests: [{mediaType: MediaTypes.ociManifest, size: 10, digest, platform: {os: 'linux', architecture: 'amd64'}}]},
  {schemaVersion: 2, mediaType: MediaTypes.dockerManifest, config: {mediaType: MediaTypes.dockerConfig, size: 2, digest}, layers: [layerDesc]},
  {schemaVersion: 1, name: 'a/b', tag: 'v1', fsLayers: [{blobSum: digest}], history: [{v1Compatibility: '{}'}]},
]
const weird: unknown[] = [null, true, 0, -1, 1e300, '', 'x', [], {}, [null], {a: 1}, 'sha256:zz', 2 ** 53, {__proto__: null}]

/** perturb replaces one random node of a JSON value with something of another shape */
function perturb(g: Gen, v: unknown, depth = 0): unknown {
  if (depth > 0 && g.int(4) === 0) return g.pick(weird)
  if (Array.isArray(v)) {
    if (v.length === 0) return [g.pick(weird)]
    const c = [...v]
    const i = g.int(c.length)
    c[i] = perturb(g, c[i], depth + 1)
    return c
  }
  if (v && typeof v === 'object') {
    const c: Record<string, unknown> = {...(v as Record<string, unknown>)}
    const keys = Object.keys(c)
    const k = g.int(5) === 0 || keys.length === 0 ? g.pick(['mediaType', 'schemaVersion', 'layers', 'manifests', 'config', 'subject', 'x']) : g.pick(keys)
    if (g.int(6) === 0) delete c[k]
    else c[k] = perturb(g, c[k], depth + 1)
    return c
  }
  return g.pick(weird)
}

describe('fuzz: the manifest parser', () => {
  it(`${iterations} perturbed manifests parse or throw an OcitoolError, each within 2 s`, async () => {
    const g = new Gen(seed + 1)
    const hints = [undefined, MediaTypes.ociManifest, MediaTypes.ociIndex, MediaTypes.dockerManifest, 'text/plain', 'application/json']
    for (let i = 0; i < iterations; i++) {
      const base = g.pick(manifestSeeds)
      let bytes: Buffer
      switch (g.int(3)) {
        case 0: bytes = Buffer.from(JSON.stringify(perturb(g, base))); break
        case 1: bytes = Buffer.from(g.mutate(JSON.stringify(base), '{}[]":,0123456789aez\\ \u0000')); break
        default: {
          bytes = Buffer.from(JSON.stringify(base))
          for (let k = 1 + g.int(4); k > 0; k--) bytes[g.int(bytes.length)] = g.int(256)
        }
      }
      const hint = g.pick(hints)
      await expectOwnError('parseManifest', bytes.toString('latin1'), () => parseManifest(bytes, hint), 2000)
    }
  })
})

/** header builds a valid ustar header block for name */
function header(name: string, size: number, type = '0'): Buffer {
  const b = Buffer.alloc(512)
  b.write(name, 0, 100)
  b.write('0000644\0', 100)
  b.write('0000000\0', 108)
  b.write('0000000\0', 116)
  b.write(size.toString(8).padStart(11, '0') + '\0', 124)
  b.write('00000000000\0', 136)
  b.write(type, 156)
  b.write('ustar\0', 257)
  b.write('00', 263)
  b.fill(' ', 148, 156)
  let sum = 0
  for (const x of b) sum += x
  b.write(sum.toString(8).padStart(6, '0') + '\0 ', 148)
  return b
}

function validTar(g: Gen): Buffer {
  const parts: Buffer[] = []
  for (let n = 1 + g.int(4); n > 0; n--) {
    const data = g.bytes(g.int(1500))
    parts.push(header(`dir/f${n}.bin`, data.length, g.pick(['0', '0', '5', '2', 'x', 'L'])), data, Buffer.alloc((512 - (data.length % 512)) % 512))
  }
  parts.push(Buffer.alloc(1024))
  return Buffer.concat(parts)
}

describe('fuzz: the tar reader', () => {
  let tmp: TmpDir
  before(async () => {
    tmp = await tmpDir('fuzz-tar')
  })
  after(async () => tmp?.remove())

  it(`${Math.ceil(iterations / 3)} damaged tar files index and read or throw an OcitoolError, each within 5 s`, async () => {
    const g = new Gen(seed + 2)
    const file = path.join(tmp.path, 'in.tar')
    for (let i = 0; i < Math.ceil(iterations / 3); i++) {
      let bytes = validTar(g)
      switch (g.int(4)) {
        case 0: for (let k = 1 + g.int(8); k > 0; k--) bytes[g.int(bytes.length)] = g.int(256); break
        case 1: bytes = bytes.subarray(0, g.int(bytes.length)); break
        case 2: bytes = g.bytes(g.int(4096)); break
        default: {
          // a valid checksum over a nonsense size / type
          const h = header('huge', 0, g.pick(['0', '1', '2', 'g', 'x', '\0']))
          h.write(g.pick(['77777777777\0', '\x80\0\0\0\xff\xff\xff\xff\xff\xff\xff\xff', '99999999999\0', '-1\0']), 124, 'latin1')
          h.fill(' ', 148, 156)
          let sum = 0
          for (const x of h) sum += x
          h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148)
          bytes = Buffer.concat([h, bytes])
        }
      }
      await fsp.writeFile(file, bytes)
      await expectOwnError('TarReader', bytes.toString('base64').slice(0, 200), async () => {
        const r = await TarReader.open(file, 'fuzz.tar')
        for (const e of r.entries()) {
          if (e.type !== 'file') continue
          for await (const _ of await r.open(e.name)) void _
        }
      }, 5000)
    }
  })
})
