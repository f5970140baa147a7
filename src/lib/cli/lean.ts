/**
 * lean: the quick path of the plainest registry queries, `digest IMAGE`, `manifest IMAGE`,
 * `config IMAGE` and `ls REPOSITORY`, of `blob REPO@DIGEST` and `export IMAGE FILE`, and of
 * `copy SRC DST` and `flatten IMAGE [-t DST]` run without a terminal (no progress to show),
 * answered without loading oclif. A script that calls `ocitool digest` in a loop pays the start
 * of a process each time, and oclif's part of it (its bundle, Config.load, the command class,
 * the parser) was a fifth of that time (measured: digest 190 ms through oclif, 151 ms here,
 * `node -e 0` 110 ms).
 *
 * The quick path takes only command lines it understands completely: the command's argument(s)
 * and a few flags (COMMANDS), each at most once. Anything else (another flag, `--json`, `-v`,
 * `--`, an extra argument, `-`, a local image, help, a terminal for copy and flatten) answers
 * false before anything is done, and bin/run.js goes on to oclif, which answers as it always
 * does. The work itself is the same library code the oclif commands call (ops.digest,
 * ops.manifest, ops.config, ops.eachTag, ops.blob, ops.exportImage, ops.copy, ops.flattenImage),
 * with the same remote options, output lines, warnings, one-line errors and exit codes
 * (describeFailure);
 * test/commands/lean.test.ts holds the two paths' answers equal.
 */
import {parsePlatform} from '../oci/platform.js'
import type {Platform} from '../oci/types.js'
import {parseReference, parseRepository} from '../name/reference.js'
import {config} from '../ops/config.js'
import {digest} from '../ops/digest.js'
import {eachTag} from '../ops/list.js'
import {manifest} from '../ops/manifest.js'
import type {RemoteOptions} from '../remote/session.js'
import {byDigestIn, parseLocation} from '../stores/location.js'
import {describeFailure} from './failure.js'
import {remoteOptionsOf, watchProcess} from './run-context.js'

/** What a quick command line says: the argument and the flags, by name. */
interface Line {
  /** the first argument (the only one but for copy's SRC DST) */
  arg: string
  args: string[]
  flags: Map<string, string | true>
  caFiles: string[]
}

/**
 * COMMANDS: what each quick command takes, and what runs it. `flags`: a name with `=` takes a
 * value; `short`: `-X` forms; `args`: how many arguments (default 1); `dash`: `-` may be one
 * (export's FILE: stdout); `quick`: the work for a parsed line, or undefined to leave it to oclif.
 */
const GLOBAL = ['--insecure']
const COMMANDS: Record<string, {flags: string[]; short?: Record<string, string>; args?: number; dash?: boolean; quick: (line: Line) => Quick | undefined}> = {
  digest: {flags: [...GLOBAL, '--full-ref', '--platform='], quick: quickDigest},
  manifest: {flags: [...GLOBAL, '--platform='], quick: (l) => quickDocument('manifest', l)},
  config: {flags: [...GLOBAL, '--platform='], quick: (l) => quickDocument('config', l)},
  ls: {flags: [...GLOBAL, '--full-ref', '--omit-digest-tags', '--max-pages='], short: {'-O': '--omit-digest-tags'}, quick: quickLs},
  blob: {flags: GLOBAL, quick: quickBlob},
  export: {flags: [...GLOBAL, '--platform='], args: 2, dash: true, quick: quickExport},
  copy: {flags: [...GLOBAL, '--jobs='], short: {'-j': '--jobs'}, args: 2, quick: quickCopy},
  flatten: {flags: [...GLOBAL, '--tag=', '--jobs='], short: {'-t': '--tag', '-j': '--jobs'}, quick: quickFlatten},
}

/** parseLine reads argv as the quick path's grammar, or answers undefined (oclif's path then). */
export function parseLine(id: string, argv: string[]): Line | undefined {
  const spec = COMMANDS[id]
  if (!spec) return undefined
  const line: Line = {arg: '', args: [], flags: new Map(), caFiles: []}
  let args = 0
  for (let i = 0; i < argv.length; i++) {
    let a = spec.short?.[argv[i]] ?? argv[i]
    if (!a.startsWith('-') || (a === '-' && spec.dash)) {
      line.args.push(a)
      args++
      continue
    }
    if (a === '-' || a === '--' || !a.startsWith('--')) return undefined
    let value: string | undefined
    const eq = a.indexOf('=')
    if (eq !== -1) {
      value = a.slice(eq + 1)
      a = a.slice(0, eq)
    }
    if (a === '--ca-file') {
      value ??= argv[++i]
      if (value === undefined || value === '' || value.startsWith('-')) return undefined
      line.caFiles.push(value)
      continue
    }
    if (spec.flags.includes(a)) {
      if (value !== undefined || line.flags.has(a)) return undefined
      line.flags.set(a, true)
    } else if (spec.flags.includes(`${a}=`)) {
      value ??= argv[++i]
      if (value === undefined || value === '' || value.startsWith('-') || line.flags.has(a)) return undefined
      line.flags.set(a, value)
    } else {
      return undefined
    }
  }
  if (args !== (spec.args ?? 1) || line.args.some((a) => a === '')) return undefined
  line.arg = line.args[0]
  return line
}

/**
 * runLean runs `id` with `argv` on the quick path and answers true, or answers false having done
 * nothing when the command line is not one it takes. `version` goes into the User-Agent.
 */
export async function runLean(id: string, argv: string[], version: string): Promise<boolean> {
  // OCITOOL_CONTENT_TYPE=json asks oclif for JSON output, as --json does
  if (process.env.OCITOOL_CONTENT_TYPE !== undefined) return false
  const line = parseLine(id, argv)
  const run = line && COMMANDS[id].quick(line)
  if (!run) return false
  const abort = new AbortController()
  watchProcess(abort)
  try {
    const warn = (m: string) => process.stderr.write(`Warning: ${m}\n`)
    await run(remoteOptionsOf({insecure: line.flags.has('--insecure') || undefined, caFiles: line.caFiles.length > 0 ? line.caFiles : undefined, warn, signal: abort.signal, version}))
  } catch (e) {
    const {exitCode, message} = describeFailure(e as Error, abort.signal.aborted, `ocitool ${id}`)
    process.exitCode = exitCode
    process.stderr.write(`Error: ${message}\n`)
  }
  await new Promise<void>((resolve) => process.stdout.write('', () => resolve()))
  return true
}

type Quick = (options: RemoteOptions) => Promise<void>

/** quickDigest: `digest IMAGE [--full-ref] [--platform P]` of a registry image */
function quickDigest(line: Line): Quick | undefined {
  const platform = platformOf(line)
  if (platform === false) return undefined
  const loc = parsed(parseLocation, line.arg)
  if (loc?.kind !== 'registry') return undefined
  const ref = loc.ref
  return async (options) => {
    const result = await digest(ref, {...options, platform})
    print(line.flags.has('--full-ref') ? result.fullRef : result.digest)
  }
}

/**
 * quickFlatten: `flatten IMAGE [-t DST] [-j N]` between registries with the command's defaults
 * (gzip at level 1, every platform), when stderr is no terminal: oclif's path shows progress there.
 */
function quickFlatten(line: Line): Quick | undefined {
  const jobs = jobsOf(line)
  if (process.stderr.isTTY || jobs === undefined) return undefined
  const tag = line.flags.get('--tag')
  const src = parsed(parseLocation, line.arg)
  const dst = src && parsed((t: string | true | undefined) => (typeof t === 'string' ? parseLocation(t) : byDigestIn(src, 'flatten')), tag)
  if (src?.kind !== 'registry' || dst?.kind !== 'registry') return undefined
  return async (options) => {
    // the flatten machinery (tar, gzip, the transfer engine) loads only for this command
    const {flattenImage} = await import('../ops/flatten.js')
    const result = await flattenImage(src, dst, {...options, compression: 'gzip', jobs, byDigest: tag === undefined, onEvent: () => {}})
    for (const im of result.images) print(im.reference)
  }
}

/** jobsOf: the --jobs of the line (4 when not given; undefined when it is not 1-64: oclif words that) */
function jobsOf(line: Line): number | undefined {
  const jobs = line.flags.get('--jobs')
  if (jobs === undefined) return 4
  return typeof jobs === 'string' && /^[1-9]\d?$/.test(jobs) && Number(jobs) <= 64 ? Number(jobs) : undefined
}

/** quickCopy: `copy SRC DST [-j N]` between registries, without a terminal (oclif's path shows progress there) */
function quickCopy(line: Line): Quick | undefined {
  const jobs = jobsOf(line)
  if (process.stderr.isTTY || jobs === undefined) return undefined
  const src = parsed(parseLocation, line.args[0])
  const dst = parsed(parseLocation, line.args[1])
  if (src?.kind !== 'registry' || dst?.kind !== 'registry' || line.args[0] === '-') return undefined
  return async (options) => {
    // the transfer engine loads only for this command
    const {copy, foreignLayersWarning} = await import('../ops/copy.js')
    const result = await copy(src, dst, {...options, jobs, onEvent: () => {}})
    const foreign = foreignLayersWarning(result)
    if (foreign) options.warn?.(foreign)
    for (const im of result.images) print(im.reference)
  }
}

/**
 * quickExport: `export IMAGE FILE [--platform P]` of a registry image to a file, or to stdout
 * (`-`) when that is no terminal (oclif's path refuses a terminal in its own words). export
 * shows no progress, so a terminal on stderr changes nothing.
 */
function quickExport(line: Line): Quick | undefined {
  const platform = platformOf(line)
  const [image, file] = line.args
  if (platform === false || image === '-' || (file === '-' && process.stdout.isTTY)) return undefined
  const from = parsed(parseLocation, image)
  if (from?.kind !== 'registry') return undefined
  return async (options) => {
    // the flatten machinery loads only for this command
    const {exportImage} = await import('../ops/export.js')
    await exportImage(from, file === '-' ? process.stdout : file, {...options, platform})
  }
}

/** quickBlob: `blob REPO@DIGEST`, the blob's bytes on stdout, verified as they stream */
function quickBlob(line: Line): Quick | undefined {
  const ref = parsed(parseReference, line.arg)
  if (!ref) return undefined
  return async (options) => {
    const {blob} = await import('../ops/blob.js')
    await blob(ref, process.stdout, options)
  }
}

/** quickDocument: `manifest IMAGE` or `config IMAGE` [--platform P], the document's bytes exactly as the registry has them */
function quickDocument(id: 'manifest' | 'config', line: Line): Quick | undefined {
  const platform = platformOf(line)
  const ref = parsed(parseReference, line.arg)
  if (platform === false || !ref) return undefined
  return async (options) => {
    const bytes = id === 'manifest' ? (await manifest(ref, {...options, platform})).bytes : await config(ref, {...options, platform})
    await new Promise<void>((resolve, reject) => process.stdout.write(bytes, (e) => (e ? reject(e) : resolve())))
  }
}

/** platformOf: the --platform of the line (undefined: none; false: one oclif's parser should word the complaint about) */
function platformOf(line: Line): Platform | undefined | false {
  const p = line.flags.get('--platform')
  if (typeof p !== 'string') return undefined
  try {
    return parsePlatform(p)
  } catch {
    return false
  }
}

/** quickLs: `ls REPOSITORY [--full-ref] [-O] [--max-pages N]` */
function quickLs(line: Line): Quick | undefined {
  const pages = line.flags.get('--max-pages')
  if (pages !== undefined && !(typeof pages === 'string' && /^\d{1,9}$/.test(pages))) return undefined
  const repo = parsed(parseRepository, line.arg)
  if (!repo) return undefined
  return async (options) => {
    const full = line.flags.has('--full-ref')
    await eachTag(repo, {...options, omitDigestTags: line.flags.has('--omit-digest-tags'), maxPages: pages === undefined ? 1000 : Number(pages)}, (tags) => {
      if (tags.length > 0) print((full ? tags.map((t) => `${repo.name}:${t}`) : tags).join('\n'))
    })
  }
}

/** parsed: what `parse` makes of `text`, or undefined when it refuses it (oclif's path words the complaint) */
function parsed<T, A>(parse: (text: A) => T, text: A): T | undefined {
  try {
    return parse(text)
  } catch {
    return undefined
  }
}

function print(text: string): void {
  process.stdout.write(`${text}\n`)
}
