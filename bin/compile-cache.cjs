// compile-cache: keeps V8's compiled code of ocitool's own bundles (dist/*.cjs) between runs,
// as Node 22's module.enableCompileCache() does for every module (used instead where Node has
// it). On Node 20 nothing does it for ES modules, and compiling the bundles again on every run
// costs a fifth of a short command's time. An entry is taken when the process exits, so it
// holds every function the run compiled (the command's own code, the HTTP client, oclif's
// parser), not only the bundle's top level; on oclif's path bin/run.js turns bytecode flushing
// off so none of it is dropped first (V8 flushes the bytecode of functions not run for a few
// full GCs). V8 refuses cached data made under other flags, so the flags a path sets are set
// before it compiles anything (see flagsChanging): the quick path sets none.
//
// One file per bundle and variant (the caller's word: the fast path and oclif's path run
// different parts of oclif's bundle) in $XDG_CACHE_HOME/ocitool/v8 (else ~/.cache/ocitool/v8),
// named by the bundle's name, inode, size, modification and change times and the Node version
// and architecture: a rebuilt or reinstalled bundle (a new file: a new inode and change time,
// which no tool sets back) or another Node makes a new entry, never a wrong one (V8 also
// refuses data it did not make). No hashing: reading node:crypto and hashing the bundles cost
// more than a tenth of a short run. Written atomically; any failure (a read-only home, a full
// disk) only means compiling as usual. OCITOOL_NO_COMPILE_CACHE=1 turns it off.
'use strict'
const fs = require('node:fs')
const Module = require('node:module')
const path = require('node:path')
const vm = require('node:vm')

/** scripts compiled without an entry (or with one V8 refused): written when the process exits */
const fresh = []

/** enable caches the compiled code of CommonJS files under `root`, as `variant`. */
function enable(root, variant = 'main') {
  // the bundles' import() calls (oclif loading an ES module plugin) come here: code compiled
  // from a cache cannot call import() itself on Node 20 (scripts/bundle.js rewrites them)
  globalThis.__ocitoolImport ??= (specifier) => import(specifier)
  if (process.env.OCITOOL_NO_COMPILE_CACHE) return
  if (typeof Module.enableCompileCache === 'function') {
    Module.enableCompileCache()
    return
  }
  // os.homedir() reads $HOME first too; node:os itself costs a millisecond to load
  const base = process.env.XDG_CACHE_HOME || path.join(process.env.HOME || require('node:os').homedir(), '.cache')
  const dir = path.join(base, 'ocitool', 'v8')
  const prefix = root.endsWith(path.sep) ? root : root + path.sep
  const compile = Module.prototype._compile
  Module.prototype._compile = function (content, filename) {
    if (!filename.startsWith(prefix) || !filename.endsWith('.cjs')) return compile.call(this, content, filename)
    let file
    let cachedData
    try {
      const st = fs.statSync(filename, {bigint: true})
      // the path's own inode and times stand for the path (V8's code keeps the file name for stack traces)
      file = path.join(dir, [path.basename(filename), variant, st.ino, st.size, st.mtimeNs, st.ctimeNs, process.version, process.arch, 'bin'].join('.'))
      cachedData = fs.readFileSync(file)
    } catch {
      // not cached yet
    }
    const script = new vm.Script(Module.wrap(content), {
      filename,
      cachedData,
    })
    const fn = script.runInThisContext({displayErrors: true})
    const require = Module.createRequire(filename)
    const result = fn.call(this.exports, this.exports, require, this, filename, path.dirname(filename))
    if (file && (cachedData === undefined || script.cachedDataRejected)) fresh.push({script, file})
    return result
  }
  process.once('exit', () => {
    if (fresh.length > 0) prune(dir)
    for (const {script, file} of fresh) {
      const data = script.createCachedData()
      const tmp = `${file}.${process.pid}.tmp`
      try {
        fs.mkdirSync(dir, {recursive: true, mode: 0o700})
        fs.writeFileSync(tmp, data, {mode: 0o600})
        fs.renameSync(tmp, file)
      } catch {
        try {
          fs.rmSync(tmp, {force: true})
        } catch {
          // nothing to remove
        }
      }
    }
  })
}

/** prune keeps the newest MAX_ENTRIES entries (older builds' bundles are never asked for again). */
function prune(dir) {
  try {
    const entries = fs.readdirSync(dir).filter((n) => n.endsWith('.bin'))
    if (entries.length < MAX_ENTRIES) return
    const dated = entries.map((n) => ({n, t: fs.statSync(path.join(dir, n)).mtimeMs})).sort((a, b) => b.t - a.t)
    for (const {n} of dated.slice(MAX_ENTRIES - 8)) fs.rmSync(path.join(dir, n), {force: true})
  } catch {
    // another run pruned first
  }
}

/** about two builds' worth of bundles (each command's, and oclif's) */
const MAX_ENTRIES = 96

/**
 * flagsChanging: the caller is about to change V8's flags. V8 refuses cached data made under
 * other flags than its own, and an entry is made at exit: one for a script compiled before the
 * change would be refused by every run like this one, so none is written.
 */
function flagsChanging() {
  fresh.length = 0
}

module.exports = {enable, flagsChanging}
