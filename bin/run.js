#!/usr/bin/env node
// `ocitool --version` alone is answered here, in oclif's exact format, without loading oclif
// (which costs ~100 ms of module loading); everything else goes through oclif.
const argv = process.argv.slice(2)
if (argv.length === 1 && argv[0] === '--version') {
  const {readFileSync} = await import('node:fs')
  const {version} = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
  process.stdout.write(`ocitool/${version} ${process.platform}-${process.arch} node-${process.version}\n`)
} else {
  // oclif checks package.json `engines` with semver (47 modules) at import; npm already enforces
  // engines at install, so skip it here and restore the environment for child processes
  const had = process.env.OCLIF_DISABLE_ENGINE_WARNING
  process.env.OCLIF_DISABLE_ENGINE_WARNING = '1'
  // the build bundles @oclif/core into dist/oclif-core.cjs (one file to open instead of ~150),
  // the same instance the bundled commands require; their compiled code is kept between runs
  const {createRequire} = await import('node:module')
  const require = createRequire(import.meta.url)
  require('./compile-cache.cjs').enable(new URL('../dist', import.meta.url).pathname)
  const {execute} = require('#oclif-core')
  if (had === undefined) delete process.env.OCLIF_DISABLE_ENGINE_WARNING
  else process.env.OCLIF_DISABLE_ENGINE_WARNING = had
  await execute({dir: import.meta.url})
}
