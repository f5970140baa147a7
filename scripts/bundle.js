#!/usr/bin/env node
// Bundles each compiled command (dist/commands/**/*.js) with the core and got into one file, and
// @oclif/core with its dependencies into dist/oclif-core.js, which bin/run.js and every command
// import as `#oclif-core` (package.json `imports`), so they share one instance. Startup on this
// kind of machine is dominated by opening module files; bundles open a handful instead of
// hundreds (measured: `ocitool digest` 264 → 213 ms for the commands; importing @oclif/core
// 155 → 120 ms). Installed plugins keep their own @oclif/core from node_modules, as oclif
// plugins may. dist/lib stays unbundled for library users.
import {build} from 'esbuild'
import {readdirSync, renameSync, rmSync, statSync} from 'node:fs'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const dist = process.argv[2] ?? join(root, 'dist')
const tmp = `${dist}-bundle`

function find(dir) {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n)
    return statSync(p).isDirectory() ? find(p) : p.endsWith('.js') ? [p] : []
  })
}

rmSync(tmp, {recursive: true, force: true})
// @oclif/core is CommonJS: name its exports so the ES module bundle exports each of them
const oclifNames = Object.keys(await import('@oclif/core')).filter((n) => n !== 'default' && n !== '__esModule')
await build({
  stdin: {contents: `export {${oclifNames.join(', ')}} from '@oclif/core'`, resolveDir: root, loader: 'js'},
  outfile: join(dist, 'oclif-core.js'),
  bundle: true,
  // an ES module, so importers see its named exports; oclif's own require() calls (CommonJS
  // plugins) and __dirname get Node's versions through the banner
  format: 'esm',
  banner: {
    js: "import {createRequire as __ocitoolCreateRequire} from 'node:module'; import {fileURLToPath as __ocitoolPath} from 'node:url'; const require = __ocitoolCreateRequire(import.meta.url); const __filename = __ocitoolPath(import.meta.url); const __dirname = __ocitoolPath(new URL('.', import.meta.url));",
  },
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
/**
 * gotExtras replaces the modules behind got features ocitool never turns on (HTTP/2, the HTTP
 * cache, the DNS cache) with stand-ins that fail loudly if they ever are: got imports them
 * eagerly, and they cost a tenth of a command's load time (http2-wrapper alone loads `node:http2`).
 */
const gotExtras = {
  name: 'got-extras',
  setup(b) {
    const unused = (what) => `throw new Error('ocitool is bundled without ${what}')`
    const stubs = {
      'http2-wrapper': `export default {get auto() { ${unused('HTTP/2')} }, get globalAgent() { ${unused('HTTP/2')} }}`,
      'cacheable-request': `export default class CacheableRequest { constructor() { ${unused('the HTTP cache')} } }\nexport class CacheError extends Error {}`,
      'cacheable-lookup': `export default class CacheableLookup { constructor() { ${unused('the DNS cache')} } }`,
    }
    b.onResolve({filter: /^(http2-wrapper|cacheable-request|cacheable-lookup)$/}, (a) => ({path: a.path, namespace: 'got-extras'}))
    b.onLoad({filter: /.*/, namespace: 'got-extras'}, (a) => ({contents: stubs[a.path], loader: 'js'}))
  },
}
// One build per command: everything the command imports statically in its own file, and what it
// imports lazily (tarballs, layouts, progress on a TTY, keychains) in chunks beside it, loaded
// only by the runs that need them (measured: `digest` loads 281 KB instead of 440 KB). One
// build for all commands would instead split code the commands share into many small files.
await Promise.all(
  find(join(dist, 'commands')).map((entry) =>
    build({
      entryPoints: [entry],
      outbase: dist,
      outdir: tmp,
      entryNames: '[dir]/[name]',
      chunkNames: 'chunks/[name]-[hash]',
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      plugins: [sharedOclif, gotExtras],
      // CommonJS dependencies inside an ES module bundle still call require()
      banner: {js: "import {createRequire as __ocitoolCreateRequire} from 'node:module'; const require = __ocitoolCreateRequire(import.meta.url);"},
      logLevel: 'warning',
      minifyWhitespace: true,
    }),
  ),
)
rmSync(join(dist, 'commands'), {recursive: true, force: true})
rmSync(join(dist, 'chunks'), {recursive: true, force: true})
renameSync(join(tmp, 'commands'), join(dist, 'commands'))
renameSync(join(tmp, 'chunks'), join(dist, 'chunks'))
rmSync(tmp, {recursive: true, force: true})
