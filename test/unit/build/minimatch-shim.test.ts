// scripts/shims/minimatch.cjs stands for minimatch in the oclif bundle (scripts/bundle.js): it
// compares a pattern without special characters as it is and hands every other one to
// minimatch. Its answers must be minimatch's, for plain names and for every kind of pattern.
import assert from 'node:assert/strict'
import {createRequire} from 'node:module'
import {describe, it} from 'node:test'
import {minimatch} from 'minimatch'

const shim = createRequire(import.meta.url)('../../../scripts/shims/minimatch.cjs') as {minimatch: typeof minimatch}

describe('minimatch shim (oclif bundle)', () => {
  const names = ['@oclif/plugin-help', '@oclif/plugin-plugins', 'ocitool-plugin-gcr', 'chalk', '#x', 'a*b', 'A', 'a', 'a/b', 'a//b', 'a/', './a', '/a', '//a']
  const patterns = [
    '@oclif/plugin-help', // plain: compared as it is
    'chalk',
    'a',
    'a/b',
    'a//b', // slashes: minimatch treats a run of them as one
    '/a',
    'a/',
    '@oclif/plugin-*', // glob
    'ocitool-plugin-?cr',
    '!chalk', // negation
    '#x', // a comment: matches nothing
    '{chalk,a}', // braces
    '+(a|A)', // extglob
    '@(chalk)',
    'a\\*b', // an escape
    '[ac]',
  ]
  it('answers as minimatch does, for plain names and real patterns', () => {
    for (const p of patterns) for (const n of names) assert.equal(shim.minimatch(n, p), minimatch(n, p), `minimatch(${n}, ${p})`)
  })
  it('hands options to minimatch', () => {
    assert.equal(shim.minimatch('A', 'a', {nocase: true}), true)
    assert.equal(shim.minimatch('A', 'a'), false)
  })
})
