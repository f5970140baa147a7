#!/usr/bin/env node
// npm run build: compile into dist-next, bundle the commands there, then swap it into place and
// generate oclif.manifest.json. A CLI run that starts during a build sees the old dist or the new
// one, never a half-written one. Then each first-party plugin (plugins/*/tsconfig.json) is
// compiled into its own dist, against the core's freshly built types.
import {execFileSync} from 'node:child_process'
import {existsSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const next = join(root, `dist-next-${process.pid}`)
const run = (cmd, args) => execFileSync(cmd, args, {cwd: root, stdio: 'inherit'})
try {
  run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json', '--outDir', next])
  run(process.execPath, [join(root, 'scripts/bundle.js'), next])
  const old = join(root, `dist-old-${process.pid}`)
  try {
    renameSync(join(root, 'dist'), old)
  } catch {
    // no previous build
  }
  renameSync(next, join(root, 'dist'))
  rmSync(old, {recursive: true, force: true})
  run(process.execPath, [join(root, 'node_modules/oclif/bin/run.js'), 'manifest'])
  // oclif lists commands in the order its parallel loads finish; sorted, the committed file
  // changes only when a command does
  const manifestPath = join(root, 'oclif.manifest.json')
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'))
  manifest.commands = Object.fromEntries(Object.entries(manifest.commands).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
  writeFileSync(manifestPath, JSON.stringify(manifest, null, 2) + '\n')
} finally {
  rmSync(next, {recursive: true, force: true})
}
const plugins = join(root, 'plugins')
for (const name of existsSync(plugins) ? readdirSync(plugins).sort() : []) {
  const tsconfig = join(plugins, name, 'tsconfig.json')
  if (!existsSync(tsconfig)) continue
  rmSync(join(plugins, name, 'dist'), {recursive: true, force: true})
  run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', tsconfig])
}
