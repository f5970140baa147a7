// fast-path: runs one of ocitool's own commands without oclif's plugin discovery. oclif's
// startup (reading its manifest and every core and user plugin's package.json and manifest,
// finding their roots) was a fifth of a short command's time; here the command is found in
// dist/routes.json (written by scripts/build.js from the Config oclif itself loads) and run
// through oclif's own Config and Command code (flags, errors, exit codes and --json stay
// oclif's), with the root plugin as the only plugin.
//
// Anything the fast path does not cover goes to oclif's execute(): help (-h/--help, no
// arguments, a topic), an unknown command, the core plugins' commands (help, plugins,
// autocomplete), installed user plugins (their hooks and commands), NODE_ENV development/test
// (oclif's TypeScript paths), DEBUG/OCITOOL_DEBUG (oclif's debug output), a build whose routes
// say a hook would run, and OCITOOL_NO_FAST_PATH=1.
'use strict'
const {existsSync, readFileSync} = require('node:fs')
const path = require('node:path')

/** route: the command to run fast, or undefined for oclif's path. */
function route(argv, root) {
  if (process.env.OCITOOL_NO_FAST_PATH || process.env.DEBUG || process.env.OCITOOL_DEBUG) return undefined
  if (['development', 'test'].includes(process.env.NODE_ENV ?? '')) return undefined
  let routes
  try {
    routes = JSON.parse(readFileSync(path.join(root, 'dist', 'routes.json'), 'utf8'))
  } catch {
    return undefined
  }
  if (!routes.fast || argv.length === 0) return undefined
  // oclif's helpAddition: a help flag before `--` shows help
  for (const arg of argv) {
    if (arg === '--') break
    if (routes.helpFlags.includes(arg)) return undefined
  }
  if (argv[0] === '--version') return undefined
  const [id, ...rest] = argv[0].includes(':') ? argv : collate(argv, routes.ids)
  const target = Object.hasOwn(routes.ids, id) ? routes.ids[id] : undefined
  if (!target?.file) return undefined
  return {id: target.id, file: path.join(root, 'dist', target.file), argv: rest}
}

/**
 * collate joins the leading words of argv into a command id as oclif's normalizeArgv does
 * with a space topic separator (help/util.js collateSpacedCmdIDFromArgs): a word that extends a
 * known id or topic joins it; a flag, `a=b`, or a word after a command taking arguments ends
 * it; any other word joins too (oclif then finds no command).
 */
function collate(argv, ids) {
  if (argv.length === 1) return argv
  const usable = new Set(Object.keys(ids).flatMap((id) => id.split(':').map((_, i, a) => a.slice(0, i + 1).join(':'))))
  const final = []
  const join = (s) => (s ? [...final, s] : final).filter(Boolean).join(':')
  const hasArgs = () => {
    const id = join()
    return Boolean(id && Object.hasOwn(ids, id) && ids[id].args)
  }
  for (const arg of argv) {
    if (usable.has(join(arg))) final.push(arg)
    else if (arg.includes('=') || arg.startsWith('-') || hasArgs()) break
    else final.push(arg)
  }
  const id = join()
  return id ? [id, ...argv.slice(id.split(':').length)] : argv
}

/**
 * run runs the routed command as oclif's execute() would once it has found it: init hook,
 * runCommand (prerun, the command, postrun), finally hook, flush, and oclif's error handler.
 * It answers false, having run nothing, when user plugins are installed (oclif's path then).
 */
async function run(r, root, oclif) {
  const {Config, flush, handle} = oclif
  const pjson = packageJson(root)
  const load = async () => {
    const module = require(r.file)
    const cmd = module.default ?? module
    // what oclif's Plugin.findCommand sets on a command class it loads
    cmd.id = r.id
    cmd.plugin = plugin
    cmd.isESM = false
    cmd.relativePath = path.relative(root, r.file).split(path.sep)
    return cmd
  }
  // the root plugin as oclif's Plugin.load leaves it, with only this command: no hooks (the
  // build checked that none would run) and no topics (only help shows them)
  const plugin = {
    name: pjson.name,
    alias: pjson.name,
    version: pjson.version,
    root,
    pjson,
    type: 'core',
    isRoot: true,
    valid: true,
    alreadyLoaded: true,
    hasManifest: true,
    moduleType: pjson.type === 'module' ? 'module' : 'commonjs',
    options: {root, isRoot: true},
    hooks: {},
    topics: [],
    commandIDs: [r.id],
    commands: [{id: r.id, aliases: [], hiddenAliases: [], pluginName: pjson.name, pluginAlias: pjson.name, pluginType: 'core', load}],
  }
  plugin.findCommand = async (id) => (id === r.id ? load() : undefined)
  // oclif's logger is the `debug` package, whose set-up (a tty check, supports-color) cost 8 ms
  // of a short command; its output only ever shows under DEBUG, which takes oclif's own path
  const config = new (fastConfig(Config))({root, plugins: new Map([[plugin.name, plugin]]), logger: silentLogger('oclif')})
  await config.load()
  // a command's static run() loads a Config again from the one runCommand hands it (oclif's
  // path: the same files read twice, 8 ms); here it gets back the one just loaded
  const reload = Config.load
  Config.load = function (opts) {
    return opts === config ? Promise.resolve(config) : reload.call(this, opts)
  }
  if (hasUserPlugins(config.dataDir)) return false
  try {
    await config.runHook('init', {argv: r.argv, id: r.id})
    let error
    try {
      await config.runCommand(r.id, r.argv)
    } catch (e) {
      error = e
      throw e
    } finally {
      await config.runHook('finally', {argv: r.argv, error, id: r.id})
    }
    await flush()
  } catch (e) {
    await handle(e)
  }
  return true
}

/**
 * fastConfig: oclif's Config, which looks for a theme only where there can be one: oclif reads
 * the user's theme.json (absent for nearly everyone) with node:fs/promises, 4.5 ms to load
 * that module when the command itself needs none of it.
 */
function fastConfig(Config) {
  return class extends Config {
    async loadTheme() {
      if (this.pjson.oclif?.theme === undefined && !existsSync(path.resolve(this.configDir, 'theme.json'))) return undefined
      return super.loadTheme()
    }
  }
}

/** silentLogger: a logger of oclif's Logger interface that writes nothing (see run) */
function silentLogger(namespace) {
  const quiet = () => {}
  return {namespace, child: (ns, delimiter = ':') => silentLogger(`${namespace}${delimiter}${ns}`), debug: quiet, error: quiet, info: quiet, trace: quiet, warn: quiet}
}

let pjsonOf
/** packageJson: ocitool's package.json, read once (the quick path and the fast path both need it) */
function packageJson(root) {
  return (pjsonOf ??= JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')))
}

/** commands with a quick path that needs no oclif at all (src/lib/cli/lean.ts, dist/lean.cjs) */
const LEAN_IDS = new Set(['digest', 'manifest', 'config', 'ls', 'blob', 'flatten', 'copy', 'export'])
/** those of them that move blobs (bin/run.js sets V8's flags for transfers first) */
const MOVING = new Set(['blob', 'flatten', 'copy', 'export'])

/**
 * lean: whether to try the routed command on the quick path (dist/lean.cjs): one of LEAN_IDS,
 * and no plugin installed that a keychain hook could come from (oclif's data dir, found as
 * oclif's Config finds it: OCITOOL_DATA_DIR, else $XDG_DATA_HOME or ~/.local/share, then the
 * package's dirname). Windows keeps oclif's path, whose data dir rules differ there.
 */
function lean(r, root) {
  if (!LEAN_IDS.has(r.id) || process.platform === 'win32' || process.env.OCITOOL_NO_LEAN) return false
  let pjson
  try {
    pjson = packageJson(root)
  } catch {
    return false
  }
  const home = process.env.HOME || require('node:os').homedir()
  const data = process.env.OCITOOL_DATA_DIR || path.join(process.env.XDG_DATA_HOME || path.join(home, '.local', 'share'), pjson.oclif?.dirname || pjson.name)
  return hasUserPlugins(data) ? false : {version: pjson.version, moves: MOVING.has(r.id)}
}

/** hasUserPlugins: whether oclif would load plugins from the data dir (anything unreadable but a missing file counts as yes). */
function hasUserPlugins(dataDir) {
  let text
  try {
    text = readFileSync(path.join(dataDir, 'package.json'), 'utf8')
  } catch (e) {
    return e.code !== 'ENOENT'
  }
  try {
    const plugins = JSON.parse(text).oclif?.plugins ?? []
    return !Array.isArray(plugins) || plugins.length > 0
  } catch {
    return true
  }
}

module.exports = {collate, lean, route, run}
