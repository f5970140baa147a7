#!/usr/bin/env -S MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=67108864 node
// The variables on the line above tune glibc's malloc for streaming (read before node starts;
// other C libraries ignore them): the 64 KiB-1 MiB buffers a transfer allocates and frees by the
// thousand are reused from the heap instead of being mapped fresh and given back each time
// (mmap threshold fixed at 32 MiB, trim threshold 64 MiB), and two arenas instead of one per
// thread keep the thread pool's frees from fragmenting many heaps. Measured on the 384 MiB bench
// image: export 36-42k -> 15-17k page faults and ~0.3 CPU-s less, pull 29-31k -> 14k faults,
// flatten 52-80k -> 22-26k faults. The line stays under 128 bytes: kernels before Linux 5.1
// cut a longer one.
// This file is CommonJS (bin/package.json says so): an ES module entry costs a short command
// ~10 ms of Node's ES module loader (measured with --cpu-prof on `digest`), and nothing here
// needs it. `ocitool --version` alone is answered here, in oclif's exact format, without loading
// oclif (which costs ~100 ms of module loading); everything else goes through oclif.
'use strict'
const argv = hoistGlobalFlags(process.argv.slice(2))

/**
 * hoistGlobalFlags: the flags every command takes may come before the command, as with crane and
 * skopeo (`ocitool -v ls REPO`, `ocitool --insecure manifest IMG`); oclif finds the command
 * only in the first words, so they are moved to the end (before a `--`), where every command
 * parses them.
 */
function hoistGlobalFlags(args) {
  const withValue = new Set(['--ca-file', '--username', '--password'])
  const global = new Set(['-v', '--verbose', '--insecure', '--password-stdin', '--json', ...withValue])
  const lead = []
  let i = 0
  while (i < args.length && global.has(args[i].split('=')[0])) {
    lead.push(args[i])
    if (withValue.has(args[i]) && i + 1 < args.length) lead.push(args[++i])
    i++
  }
  if (lead.length === 0 || i === args.length) return args
  const rest = args.slice(i)
  const dashes = rest.indexOf('--')
  return dashes === -1 ? [...rest, ...lead] : [...rest.slice(0, dashes), ...lead, ...rest.slice(dashes)]
}
const path = require('node:path')
const root = path.join(__dirname, '..')
if (argv.length === 1 && argv[0] === '--version') {
  const {version} = JSON.parse(require('node:fs').readFileSync(path.join(root, 'package.json'), 'utf8'))
  process.stdout.write(`ocitool/${version} ${process.platform}-${process.arch} node-${process.version}\n`)
} else {
  // oclif checks package.json `engines` with semver (47 modules) at import; npm already enforces
  // engines at install, so skip it here and restore the environment for child processes
  const had = process.env.OCLIF_DISABLE_ENGINE_WARNING
  process.env.OCLIF_DISABLE_ENGINE_WARNING = '1'
  // the build bundles @oclif/core into dist/oclif-core.cjs (one file to open instead of ~150),
  // the same instance the bundled commands require; their compiled code is kept between runs
  // ocitool's own commands skip oclif's plugin discovery (./fast-path.cjs); the rest is oclif's
  const fast = require('./fast-path.cjs')
  const r = fast.route(argv, root)
  // plain queries (`digest IMAGE`, `ls REPO`, ...) and a flatten without a terminal may not need
  // oclif at all (src/lib/cli/lean.ts)
  const quick = r && fast.lean(r, root)
  // V8 counts bytes held by Buffers since the last full GC against the old generation's limit,
  // so a transfer (a few hundred MB/s of short-lived socket buffers over a ~10 MB heap) kept
  // starting incremental marking: 15-20 full GCs per copy, their concurrent marking threads
  // competing with the registries for 2 cores. Buffers die young; scavenges free them. Without
  // incremental marking a full GC runs only when the heap is really full (measured: 384 MiB
  // registry copy 1.52 -> 1.17 CPU-s, 2.02 -> 1.84 s). Bytecode is kept for the compiled-code
  // cache (./compile-cache.cjs). Set before anything is compiled or allocated; a quick query
  // moves no blob and skips node:v8 (3.5 ms to load).
  const transferFlags = () => {
    const v8 = require('node:v8')
    v8.setFlagsFromString('--no-incremental-marking')
    v8.setFlagsFromString('--no-flush-bytecode')
    // started without the #! line (`node bin/run.js`, a wrapper), malloc is untuned: freeing one
    // mapped 32 MiB block (never touched, so never paged in) raises glibc's dynamic mmap
    // threshold to 32 MiB and its trim threshold to 64 MiB, as the line would (measured, export
    // of the 384 MiB bench image: 35-47k -> 16k page faults, 1.6-1.8 -> 1.3 s)
    if (process.env.MALLOC_MMAP_THRESHOLD_ === undefined && !process.env.GLIBC_TUNABLES) Buffer.allocUnsafeSlow(32 * 1024 * 1024 - 64 * 1024)
  }
  if (quick && quick.moves) transferFlags()
  const compileCache = require('./compile-cache.cjs')
  compileCache.enable(path.join(root, 'dist'), quick ? (quick.moves ? 'lean-moving' : 'lean') : r ? 'fast' : 'oclif')
  const restoreEnv = () => {
    if (had === undefined) delete process.env.OCLIF_DISABLE_ENGINE_WARNING
    else process.env.OCLIF_DISABLE_ENGINE_WARNING = had
  }
  // oclif finds the package from `dir` upwards: the package's own directory, not bin/ (whose
  // package.json only says that this directory holds CommonJS)
  const run = async () => {
    if (quick) {
      restoreEnv()
      if (await require('../dist/lean.cjs').runLean(r.id, r.argv, quick.version)) return
      process.env.OCLIF_DISABLE_ENGINE_WARNING = '1'
    }
    if (!(quick && quick.moves)) {
      compileCache.flagsChanging()
      transferFlags()
    }
    const oclif = require('../dist/oclif-core.cjs')
    restoreEnv()
    if (!r || !(await fast.run(r, root, oclif))) await oclif.execute({args: argv, dir: root})
  }
  run()
}
