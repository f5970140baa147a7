// compile-cache: keeps V8's compiled code of ocitool's own bundles (dist/*.cjs) between runs,
// as Node 22's module.enableCompileCache() does for every module (used instead where Node has
// it). On Node 20 nothing does it for ES modules, and compiling the bundles again on every run
// costs a fifth of a short command's time. Each entry is taken just after its bundle loaded
// and written when the process exits.
//
// One file per bundle in $XDG_CACHE_HOME/ocitool/v8 (else ~/.cache/ocitool/v8), named by a hash
// of the bundle's path and bytes and the Node version: a rebuilt bundle or another Node makes a
// new entry, never a wrong one (V8 also refuses data it did not make). Written atomically; any
// failure (a read-only home, a full disk) only means compiling as usual.
// OCITOOL_NO_COMPILE_CACHE=1 turns it off.
'use strict'
const {createHash, randomBytes} = require('node:crypto')
const fs = require('node:fs')
const Module = require('node:module')
const os = require('node:os')
const path = require('node:path')
const vm = require('node:vm')

/** enable caches the compiled code of CommonJS files under `root`. */
function enable(root) {
  // the bundles' import() calls (oclif loading an ES module plugin) come here: code compiled
  // from a cache cannot call import() itself on Node 20 (scripts/bundle.js rewrites them)
  globalThis.__ocitoolImport ??= (specifier) => import(specifier)
  if (process.env.OCITOOL_NO_COMPILE_CACHE) return
  if (typeof Module.enableCompileCache === 'function') {
    Module.enableCompileCache()
    return
  }
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache')
  const dir = path.join(base, 'ocitool', 'v8')
  const prefix = root.endsWith(path.sep) ? root : root + path.sep
  const fresh = []
  const compile = Module.prototype._compile
  Module.prototype._compile = function (content, filename) {
    if (!filename.startsWith(prefix) || !filename.endsWith('.cjs')) return compile.call(this, content, filename)
    // the path too: V8's cached code keeps the file name it was compiled under (stack traces)
    const key = createHash('sha256').update(`${process.version}\0${process.arch}\0${filename}\0`).update(content).digest('hex').slice(0, 32)
    const file = path.join(dir, `${key}.bin`)
    let cachedData
    try {
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
    // taken now, with what loading the bundle compiled: taken at exit, after V8 has flushed the
    // bytecode of functions that ran only at load, it saves nothing (measured: 36 → 18 ms for
    // oclif's bundle when taken here, 36 ms when taken at exit)
    if (cachedData === undefined || script.cachedDataRejected) fresh.push({data: script.createCachedData(), file})
    return result
  }
  process.once('exit', () => {
    if (fresh.length > 0) prune(dir)
    for (const {data, file} of fresh) {
      const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`
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

module.exports = {enable}
