#!/usr/bin/env node
// npm run build: compile into dist-next, bundle the commands there, then swap it into place and
// generate oclif.manifest.json. A CLI run that starts during a build sees the old dist or the new
// one, never a half-written one. Then each first-party plugin (plugins/*/tsconfig.json) is
// compiled into its own dist, against the core's freshly built types.
import {execFileSync} from 'node:child_process'
import {existsSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync} from 'node:fs'
import {join, relative} from 'node:path'
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
  await writeRoutes()
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

/**
 * writeRoutes writes dist/routes.json for bin/fast-path.cjs from the Config oclif loads (root
 * and core plugins): every command id and alias (whether it takes arguments, for oclif's
 * spaced-id parsing) and, for the root plugin's commands, the bundle to load. `fast` is false
 * when oclif would run a hook during a command (an init, prerun, preparse, postrun, finally or
 * keychain hook of the root or a core plugin) or find commands in ways the fast path does not
 * (flexible taxonomy, a single-command CLI, JIT or dev plugins): every run then takes oclif's path.
 * A command whose bundle shows help or looks up other commands (its Config on the fast path
 * holds only itself) has no file: it runs on oclif's path.
 */
async function writeRoutes() {
  const {Config} = await import('@oclif/core')
  const config = await Config.load({root, userPlugins: false, devPlugins: false})
  const runHooks = ['init', 'prerun', 'preparse', 'postrun', 'finally', 'keychain', 'command_incomplete']
  const hooked = [...config.plugins.values()].flatMap((p) => runHooks.filter((h) => p.hooks?.[h]?.length).map((h) => `${p.name}: ${h}`))
  const o = config.pjson.oclif
  const other = [o.flexibleTaxonomy && 'flexibleTaxonomy', config.isSingleCommandCLI && 'single command', o.jitPlugins && 'jitPlugins', o.devPlugins && 'devPlugins'].filter(Boolean)
  const ids = {}
  for (const c of config.commands) {
    const canonical = config.plugins.get(c.pluginName)?.commands.find((x) => x.id === c.id || x.aliases?.includes(c.id) || x.hiddenAliases?.includes(c.id))
    const target = c.pluginType === 'core' && c.pluginName === config.name && canonical && !canonical.deprecateAliases && canonical.relativePath
    const file = target && relative('dist', join(...canonical.relativePath))
    ids[c.id] = {
      args: c.strict === false || Object.keys(c.args ?? {}).length > 0,
      ...(file && !asksOclif(file) ? {id: canonical.id, file} : {}),
    }
  }
  /** a command that shows help or looks at other commands needs them all in its Config: oclif's path */
  function asksOclif(file) {
    return /\b(loadHelpClass|CommandHelp|showHelp|showCommandHelp|findCommand|findTopic|commandIDs|getAllCommands|getPluginsList)\b|config\.(commands|topics)\b/.test(readFileSync(join(root, 'dist', file), 'utf8'))
  }
  const routes = {fast: hooked.length === 0 && other.length === 0, why: [...hooked, ...other], helpFlags: [...new Set([...(o.additionalHelpFlags ?? []), '--help'])], ids}
  const file = join(root, 'dist', 'routes.json')
  writeFileSync(`${file}.tmp`, JSON.stringify(routes) + '\n')
  renameSync(`${file}.tmp`, file)
}
