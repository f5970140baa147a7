'use strict'
// What @oclif/core takes from minimatch, for the bundle (scripts/bundle.js points oclif's import
// here): `minimatch(name, pattern)`, with which oclif finds its core plugins among the
// dependencies, one call per dependency and `oclif.plugins` entry. minimatch compiles a pattern
// on each call (~10 ms a run, and loading minimatch itself); a pattern without any character
// minimatch gives a meaning to (globs, braces, extglobs, negation, comments, escapes) matches
// only itself, so it is compared as it is and minimatch loads only for a real pattern. (Paths
// with repeated or trailing slashes, which minimatch treats as one or none, go to minimatch too.)
let real
const MAGIC = /[*?[\]{}()!+@\\#]/
const SLASHES = /\/\/|\/$/
const plain = (name, pattern) => typeof name === 'string' && typeof pattern === 'string' && !MAGIC.test(pattern) && !SLASHES.test(pattern) && !SLASHES.test(name)

exports.minimatch = (name, pattern, options) => (options === undefined && plain(name, pattern) ? name === pattern : (real ??= require('minimatch')).minimatch(name, pattern, options))
