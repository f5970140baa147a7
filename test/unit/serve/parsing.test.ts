import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {isOcitoolError} from '../../../src/lib/errors.js'
import {clientHost, parseAddress} from '../../../src/lib/serve/address.js'
import {paginate} from '../../../src/lib/serve/handlers/lists.js'
import {parseRange} from '../../../src/lib/serve/http.js'
import {isName, isTag, parseReference} from '../../../src/lib/serve/names.js'
import {parseContentRange} from '../../../src/lib/serve/uploads.js'

describe('parseAddress', () => {
  for (const c of [
    {in: '127.0.0.1:1338', want: {host: '127.0.0.1', port: 1338}},
    {in: '127.0.0.1:0', want: {host: '127.0.0.1', port: 0}},
    {in: ':1338', want: {host: '', port: 1338}},
    {in: 'localhost:5000', want: {host: 'localhost', port: 5000}},
    {in: '[::1]:5000', want: {host: '::1', port: 5000}},
  ]) {
    it(c.in, () => assert.deepEqual(parseAddress(c.in), c.want))
  }
  for (const bad of ['127.0.0.1', '127.0.0.1:70000', '::1:5000', '[::1]', 'a b:1', '127.0.0.1:x']) {
    it(`refuses ${bad}`, () => assert.throws(() => parseAddress(bad), (e) => isOcitoolError(e) && e.exitCode === 2))
  }
})

describe('clientHost', () => {
  for (const c of [
    {host: '127.0.0.1', port: 1, want: '127.0.0.1:1'},
    {host: '0.0.0.0', port: 2, want: '127.0.0.1:2'},
    {host: '', port: 3, want: '127.0.0.1:3'},
    {host: '::', port: 4, want: '[::1]:4'},
    {host: '::1', port: 5, want: '[::1]:5'},
  ]) {
    it(`${c.host}:${c.port}`, () => assert.equal(clientHost(c.host, c.port), c.want))
  }
})

describe('parseRange', () => {
  for (const c of [
    {h: undefined, size: 10, want: {kind: 'all'}},
    {h: 'bytes=0-4', size: 10, want: {kind: 'range', start: 0, end: 4}},
    {h: 'bytes=5-', size: 10, want: {kind: 'range', start: 5, end: 9}},
    {h: 'bytes=-3', size: 10, want: {kind: 'range', start: 7, end: 9}},
    {h: 'bytes=-30', size: 10, want: {kind: 'range', start: 0, end: 9}},
    {h: 'bytes=8-100', size: 10, want: {kind: 'range', start: 8, end: 9}},
    {h: 'bytes=10-', size: 10, want: {kind: 'unsatisfiable'}},
    {h: 'bytes=0-0', size: 0, want: {kind: 'unsatisfiable'}},
    {h: 'bytes=5-2', size: 10, want: {kind: 'all'}},
    {h: 'bytes=0-1,3-4', size: 10, want: {kind: 'all'}},
    {h: 'items=0-1', size: 10, want: {kind: 'all'}},
  ]) {
    it(`${c.h} of ${c.size}`, () => assert.deepEqual(parseRange(c.h, c.size), c.want))
  }
})

describe('parseContentRange', () => {
  for (const c of [
    {in: '0-99', want: {start: 0, end: 99}},
    {in: 'bytes 100-199/*', want: {start: 100, end: 199}},
    {in: 'bytes=5-5', want: {start: 5, end: 5}},
    {in: '9-3', want: undefined},
    {in: 'abc', want: undefined},
  ]) {
    it(c.in, () => assert.deepEqual(parseContentRange(c.in), c.want))
  }
})

describe('paginate', () => {
  const all = ['a', 'b', 'c', 'd', 'e']
  const q = (s: string) => new URLSearchParams(s)
  for (const c of [
    {q: '', items: all, link: undefined},
    {q: 'n=2', items: ['a', 'b'], link: '</v2/x/tags/list?n=2&last=b>; rel="next"'},
    {q: 'n=2&last=b', items: ['c', 'd'], link: '</v2/x/tags/list?n=2&last=d>; rel="next"'},
    {q: 'n=2&last=d', items: ['e'], link: undefined},
    {q: 'n=5', items: all, link: undefined},
    {q: 'n=0', items: [], link: undefined},
    {q: 'last=c', items: ['d', 'e'], link: undefined},
  ]) {
    it(c.q || '(none)', () => {
      const page = paginate(all, q(c.q), '/v2/x/tags/list')
      assert.deepEqual(page.items, c.items)
      assert.equal(page.headers.Link, c.link)
    })
  }
  it('refuses a bad n', () => assert.throws(() => paginate(all, q('n=-1'), '/'), /invalid number/))
})

describe('names', () => {
  for (const n of ['a', 'foo/bar', 'a.b_c__d--e/f-g', 'x'.repeat(255)]) it(`valid name ${n.slice(0, 20)}`, () => assert.ok(isName(n)))
  for (const n of ['', 'Foo', 'a//b', '/a', 'a/', '_a', 'a_', 'a...b', 'x'.repeat(256)]) it(`invalid name ${JSON.stringify(n.slice(0, 20))}`, () => assert.ok(!isName(n)))
  for (const t of ['latest', 'v1.0', '_x', 'A-b.c_d', 'x'.repeat(128)]) it(`valid tag ${t.slice(0, 20)}`, () => assert.ok(isTag(t)))
  for (const t of ['', '.x', '-x', 'a/b', 'x'.repeat(129)]) it(`invalid tag ${JSON.stringify(t.slice(0, 20))}`, () => assert.ok(!isTag(t)))
  it('reads a digest reference', () => assert.deepEqual(parseReference(`sha256:${'a'.repeat(64)}`), {digest: `sha256:${'a'.repeat(64)}`}))
  it('refuses a bad digest reference', () => assert.throws(() => parseReference('sha256:abc'), (e: any) => e.code === 'DIGEST_INVALID'))
  it('refuses a bad tag', () => assert.throws(() => parseReference('-x'), (e: any) => e.code === 'MANIFEST_INVALID'))
})
