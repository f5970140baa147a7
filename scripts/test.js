#!/usr/bin/env node
// npm test: build, make sure the Debian packages the tests use are there (installing them with
// apt-get when missing and running as root; podman, buildah and containerd included), then run every test file with node:test.
// OCITOOL_TEST_FILTER=substring runs only the files whose path contains it.
import {execFileSync, spawn} from 'node:child_process'
import {INTEROP_PACKAGES, TEST_PACKAGES, ensurePackages} from './ensure-packages.js'
import {existsSync, readdirSync, statSync} from 'node:fs'
import {join, relative} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
try {
  ensurePackages({...TEST_PACKAGES, ...INTEROP_PACKAGES}, {skippable: Object.keys(INTEROP_PACKAGES)})
} catch (e) {
  console.error(`npm test runs against real tools: ${e.message}`)
  process.exit(1)
}

if (!process.env.OCITOOL_SKIP_BUILD) execFileSync('npm', ['run', '--silent', 'build'], {cwd: root, stdio: 'inherit'})

function find(dir) {
  if (!existsSync(dir)) return []
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name)
    if (name === 'node_modules' || name === 'dist') return []
    return statSync(p).isDirectory() ? find(p) : /\.test\.ts$/.test(name) ? [p] : []
  })
}

const filter = process.env.OCITOOL_TEST_FILTER
const files = ['test', 'plugins']
  .flatMap((d) => find(join(root, d)))
  .map((f) => relative(root, f))
  .filter((f) => !filter || f.includes(filter))
  .sort()
const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', ...files], {cwd: root, stdio: 'inherit'})
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)))
