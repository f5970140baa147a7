#!/usr/bin/env node
// Bundles each compiled command (dist/commands/**/*.js) with the core into one CommonJS
// file (dist/commands/**/*.cjs), and @oclif/core with its dependencies into dist/oclif-core.cjs,
// which bin/run.js and every command require by its relative path (`#oclif-core` in package.json
// `imports` names it for others), so they
// share one instance. Startup on this kind of machine is dominated by opening and compiling
// module files: bundles open a handful instead of hundreds (measured: `ocitool digest` 264 → 213
// ms for the commands; loading @oclif/core 155 → 120 ms), and CommonJS lets bin/compile-cache.cjs
// keep V8's compiled code between runs, which Node 20 offers for no ES module. Installed plugins
// keep their own @oclif/core from node_modules, as oclif plugins may. dist/lib stays unbundled
// ES modules for library users.
import {build} from 'esbuild'
import {readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {readFile} from 'node:fs/promises'
import {dirname, join, relative, sep} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const dist = process.argv[2] ?? join(root, 'dist')
const tmp = `${dist}-bundle`

function find(dir, ext = '.js') {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n)
    return statSync(p).isDirectory() ? find(p, ext) : p.endsWith(ext) ? [p] : []
  })
}

rmSync(tmp, {recursive: true, force: true})
/**
 * OCLIF_PATCHES change exact text in @oclif/core's files (paths under its lib/) for startup
 * time; a patch whose text is gone fails the build, so an oclif update cannot drop one silently.
 */
const ROOT_PJSON = '(0, node_path_1.join)(root, "node_modules", name, "package.json")'
const OCLIF_PATCHES = [
  {
    // the first String#localeCompare of a process sets up ICU collation (5-16 ms measured); a
    // plugin's command ids (lowercase ASCII, `:` and `-`) sort the same by code point
    file: 'config/plugin.js',
    what: 'the localeCompare sort',
    from: '.sort((a, b) => a.id.localeCompare(b.id))',
    to: '.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))',
  },
  {
    // a plugin's root: oclif resolves its entry point (exports, realpath) and then walks up
    // reading package.json files, ~2 ms a plugin; where node would look first,
    // ROOT/node_modules/NAME, a package.json of that name settles it with one read
    file: 'util/find-root.js',
    what: 'the plugin root lookup',
    from: 'debug(name)(`Finding root using ${root}`);',
    to: `debug(name)(\`Finding root using \${root}\`);\n        if (!process.versions.pnp && (await (0, fs_1.safeReadJson)(${ROOT_PJSON}))?.name === name) return (0, node_path_1.dirname)(${ROOT_PJSON});`,
  },
]

/**
 * lazyRequires makes the top-level requires of one of @oclif/core's modules (tsc output: `const
 * x_1 = require("./x");`, with __importDefault/__importStar, and index.js's `exports.Flags =
 * __importStar(require("./flags"))`) load on first use: every module of oclif requires most of
 * the others at load (flags.js the whole help system, command.js the plugin loader), so
 * loading it ran all of them, ~40% of a short command's time; a command run now runs the
 * parser, flags and command code only. The bound name is only ever used as `x_1.name` in
 * oclif's code, which a Proxy forwards (checked at build time: a bare use fails the build).
 */
const LAZY_BINDING = /^(const|var) (\w+) = ((?:__importDefault|__importStar)\()?require\(("[^"]+")\)(\))?;$/gm
const LAZY_EXPORT = /^exports\.(\w+) = __importStar\(require\(("[^"]+")\)\);$/gm
function lazyRequires(text) {
  const names = []
  let out = text.replace(LAZY_BINDING, (line, kind, name, wrap, spec, close) => {
    if (Boolean(wrap) !== Boolean(close)) return line
    names.push(name)
    return `${kind} ${name} = __ocitoolLazy(() => ${wrap ?? ''}require(${spec})${close ?? ''});`
  })
  out = out.replace(LAZY_EXPORT, (_, name, spec) => `exports.${name} = __ocitoolLazy(() => __importStar(require(${spec})));`)
  for (const name of names) {
    // a use other than `name.prop`, `(0, name.fn)` or `__importDefault(name)` (the function
    // call a Proxy of a plain object cannot forward)
    const bare = new RegExp(String.raw`(?<![\w$.])${name}(?![\w$]|\.|\)\.| = __ocitoolLazy)`).exec(out)
    if (bare) throw new Error(`@oclif/core: ${name} is used as a value (${out.slice(bare.index - 30, bare.index + 40)}): update lazyRequires in scripts/bundle.js`)
  }
  return out
}
/** LAZY_HELPER defines __ocitoolLazy in the bundle: an object standing for a module not yet loaded. */
const LAZY_HELPER = `var __ocitoolLazy=(load)=>{let m;const get=()=>(m??=load());return new Proxy({},{get:(_,k)=>get()[k],set:(_,k,v)=>((get()[k]=v),true),has:(_,k)=>k in get(),ownKeys:()=>Reflect.ownKeys(get()),getOwnPropertyDescriptor:(_,k)=>{const d=Reflect.getOwnPropertyDescriptor(get(),k);if(d)d.configurable=true;return d}})};`

/**
 * LAZY_BUILTINS: node modules that cost a millisecond or more to load (measured with valgrind:
 * https or tls ~12M instructions, child_process ~10M, fs/promises ~8M, stream/promises ~7M) and
 * that many runs never use: a digest over plain HTTP needs no TLS, zlib or child process.
 * lazyBuiltins makes the bundles' imports of them (esbuild's `x=require("node:m")` and
 * `x=__toESM(require("node:m"),1)`, used only as `x.name`) load on first use.
 */
const LAZY_BUILTINS = 'https|tls|zlib|crypto|child_process|stream/promises|fs/promises|readline|dgram|dns|net|tty|v8|vm|worker_threads|http|os'
const BUILTIN_IMPORT = new RegExp(String.raw`(?<=[;{,(\s])([A-Za-z_$][\w$]*)=(__toESM\()?require\("node:(${LAZY_BUILTINS})"\)(,1\))?(?=[;,])`, 'g')
function lazyBuiltins(text) {
  if (!text.includes('__ocitoolLazy=')) text = text.startsWith('"use strict";') ? `"use strict";${LAZY_HELPER}${text.slice(13)}` : LAZY_HELPER + text
  return text.replace(BUILTIN_IMPORT, (m, name, esm, mod, close) =>
    Boolean(esm) !== Boolean(close) ? m : `${name}=__ocitoolLazy(()=>${esm ?? ''}require("node:${mod}")${close ?? ''})`,
  )
}

/**
 * dependencyPatches adjusts bundled dependency code: OCLIF_PATCHES, and the import() calls left
 * in it (oclif loading an ES module plugin or command) go through globalThis.__ocitoolImport,
 * which bin/compile-cache.cjs defines, since code compiled from V8's cache cannot call import()
 * itself on Node 20.
 */
const dependencyPatches = {
  name: 'dependency-patches',
  setup(b) {
    b.onLoad({filter: /[\\/]node_modules[\\/].*\.(c|m)?js$/}, async (a) => {
      const text = await readFile(a.path, 'utf8')
      let out = text
      const patch = OCLIF_PATCHES.find((p) => a.path.endsWith(join(sep, '@oclif', 'core', 'lib', p.file)))
      if (patch) {
        out = out.replace(patch.from, patch.to)
        if (out === text) throw new Error(`${a.path}: ${patch.what} to patch is gone (oclif changed): update scripts/bundle.js`)
      }
      if (a.path.includes(`${sep}@oclif${sep}core${sep}lib${sep}`)) {
        checkShimUses(a.path, out)
        out = lazyRequires(out)
      }
      // import() of a computed name only: esbuild bundles the literal ones
      if (/\bimport\(/.test(out)) out = out.replace(/(?<![\w.$'"`])import\((?!\s*['"`])/g, 'globalThis.__ocitoolImport(')
      return out === text ? undefined : {contents: out, loader: 'js', resolveDir: dirname(a.path)}
    })
  },
}
/**
 * OCLIF_SHIMS points some of @oclif/core's imports at our own modules (scripts/shims/), where the
 * real one does at import what a start of ocitool never uses; a module name instead of a patch
 * of oclif's text. `uses`: what oclif may take from it (`x_1.name` of its require, or
 * `(await import('mod')).name`); the build fails when oclif takes anything else.
 */
const OCLIF_SHIMS = {
  'wsl-utils': {file: join(root, 'scripts/shims/wsl-utils.js'), uses: ['isWsl', 'powerShellPath']},
  minimatch: {file: join(root, 'scripts/shims/minimatch.cjs'), uses: ['minimatch']},
}
/** checkShimUses fails the build when an oclif module takes from a shimmed module more than its shim has. */
function checkShimUses(file, text) {
  for (const [mod, {uses}] of Object.entries(OCLIF_SHIMS)) {
    const names = [...text.matchAll(new RegExp(String.raw`import\(['"]${mod}['"]\)\)\.(\w+)`, 'g'))].map((m) => m[1])
    const binding = new RegExp(String.raw`^(?:const|var) (\w+) = require\("${mod}"\);$`, 'm').exec(text)?.[1]
    if (binding) names.push(...[...text.matchAll(new RegExp(String.raw`(?<![\w$.])${binding}\.(\w+)`, 'g'))].map((m) => m[1]))
    for (const name of names) {
      if (!uses.includes(name)) throw new Error(`${file}: oclif uses ${mod}'s ${name}, which scripts/shims has not: update the shim and OCLIF_SHIMS in scripts/bundle.js`)
    }
  }
}
const oclifImports = {
  name: 'oclif-imports',
  setup(b) {
    b.onResolve({filter: new RegExp(`^(${Object.keys(OCLIF_SHIMS).join('|')})$`)}, (a) =>
      a.importer.includes(`${sep}@oclif${sep}core${sep}`) ? {path: OCLIF_SHIMS[a.path].file} : undefined,
    )
  },
}
await build({
  entryPoints: [join(root, 'node_modules/@oclif/core/lib/index.js')],
  plugins: [oclifImports, dependencyPatches],
  outfile: join(dist, 'oclif-core.cjs'),
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  // only needed to run TypeScript sources in development (oclif's ts-path), loaded lazily there
  external: ['typescript'],
  logLevel: 'warning',
  // whitespace only: renamed identifiers and rewritten syntax load slower here (measured:
  // importing oclif 54 → 43 ms), and names stay readable in stack traces
  minifyWhitespace: true,
})
/** sharedOclif points every command's `@oclif/core` at the bundled one. */
const sharedOclif = {
  name: 'shared-oclif',
  setup(b) {
    b.onResolve({filter: /^@oclif\/core$/}, () => ({path: '#oclif-core', external: true}))
  },
}
// Each command in one file with everything it imports: what it imports lazily (tarballs,
// layouts, progress on a TTY, keychains) is compiled only by the runs that call it.
await build({
  entryPoints: find(join(dist, 'commands')),
  // module names in the bundle relative to the build's dist (`lib/errors.js`), not to its
  // temporary name: the same sources give the same bundle
  absWorkingDir: dist,
  outbase: dist,
  outdir: tmp,
  outExtension: {'.js': '.cjs'},
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  plugins: [sharedOclif, oclifImports, dependencyPatches],
  logLevel: 'warning',
  minifyWhitespace: true,
})
// the quick path of the plainest queries (src/lib/cli/lean.ts): no oclif in it, which the
// build holds to (an import of @oclif/core fails it)
const noOclif = {
  name: 'no-oclif',
  setup(b) {
    b.onResolve({filter: /^@oclif\/core$/}, (a) => ({errors: [{text: `${a.importer} imports @oclif/core: the quick path (dist/lean.cjs) must not load oclif`}]}))
  },
}
await build({
  entryPoints: [join(dist, 'lib', 'cli', 'lean.js')],
  absWorkingDir: dist,
  outfile: join(tmp, 'lean.cjs'),
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  plugins: [noOclif, dependencyPatches],
  logLevel: 'warning',
  minifyWhitespace: true,
})
writeFileSync(join(dist, 'lean.cjs'), lazyBuiltins(readFileSync(join(tmp, 'lean.cjs'), 'utf8')))
// each bundle requires oclif's by its relative path: resolving `#oclif-core` through package.json
// `imports` goes through node's ES module resolver (measured: 9-20 ms for the first require of a
// process, 1.2 ms each after; a relative path 0.8 ms, then 0.04)
for (const file of find(join(tmp, 'commands'), '.cjs')) {
  const text = readFileSync(file, 'utf8')
  const rel = relative(dirname(file), join(tmp, 'oclif-core.cjs')).split(sep).join('/')
  const out = text.replaceAll('require("#oclif-core")', `require(${JSON.stringify(rel)})`)
  if (out === text && text.includes('#oclif-core')) throw new Error(`${file}: its require of #oclif-core is not the one scripts/bundle.js rewrites`)
  writeFileSync(file, lazyBuiltins(out))
}
writeFileSync(join(dist, 'oclif-core.cjs'), lazyBuiltins(readFileSync(join(dist, 'oclif-core.cjs'), 'utf8')))
rmSync(join(dist, 'commands'), {recursive: true, force: true})
renameSync(join(tmp, 'commands'), join(dist, 'commands'))
rmSync(tmp, {recursive: true, force: true})
// our own sources must not call import() either (import statically, or let esbuild inline it)
for (const file of [join(dist, 'oclif-core.cjs'), join(dist, 'lean.cjs'), ...find(join(dist, 'commands'), '.cjs')]) {
  const m = /.{0,60}(?<![\w.$'"`])import\(.{0,40}/.exec(readFileSync(file, 'utf8'))
  if (m) throw new Error(`${file}: a dynamic import() is left in the bundle: ${m[0]}`)
}
