/**
 * run-context: what a command run takes from the process, shared by the oclif commands
 * (OcitoolCommand) and the quick path (./lean.ts), which must not load oclif: the remote
 * options handed to the core, Ctrl-C as an AbortSignal, a closed stdout, CA files checked
 * before any request.
 */
import {setMaxListeners} from 'node:events'
import {statSync} from 'node:fs'
import type {Config} from '@oclif/core'
import {registriesFileTls} from '../auth/registries-tls.js'
import type {Keychain} from '../auth/types.js'
import {ExitCode, UsageError} from '../errors.js'
import type {RemoteOptions} from '../remote/session.js'
import {buildKeychain} from './keychain.js'

export interface RemoteFlags {
  insecure?: boolean
  caFiles?: string[]
  /** --username with a password (flag or stdin) */
  credentials?: {username: string; password: string}
  /** oclif's Config, for the plugins' keychains; none on the quick path (no plugin installed) */
  config?: Config
  /** keychains asked first (copy's per-side credentials) */
  firstKeychains?: Keychain[]
  /** instead of the default keychains */
  keychain?: Keychain
  /** trace requests on stderr */
  verbose?: boolean
  warn: (message: string) => void
  signal: AbortSignal
  /** ocitool's version, for the User-Agent */
  version: string
}

/** remoteOptionsOf: the core's RemoteOptions for a command's global flags; CA files are checked first. */
export function remoteOptionsOf(f: RemoteFlags): RemoteOptions {
  checkCaFiles(f.caFiles, '--ca-file')
  const registries = registriesFileTls()
  return {
    insecure: f.insecure,
    caFiles: f.caFiles,
    ...(registries ? {registries} : {}),
    keychain: f.keychain ?? buildKeychain({config: f.config, flags: f.credentials, first: f.firstKeychains, warn: f.warn}),
    log: f.verbose ? (m) => process.stderr.write(`${m}\n`) : undefined,
    warn: f.warn,
    signal: f.signal,
    userAgent: `ocitool/${f.version}`,
  }
}

/**
 * watchProcess: SIGINT and SIGTERM abort `abort` (every request of a transfer listens on its
 * signal), a second one exits at once (130); a closed stdout (`| head`) ends the run quietly.
 */
export function watchProcess(abort: AbortController): void {
  setMaxListeners(0, abort.signal)
  let interrupts = 0
  const onSignal = (signal: NodeJS.Signals) => {
    interrupts++
    if (interrupts > 1) process.exit(ExitCode.Interrupted)
    abort.abort(new Error(`interrupted by ${signal}`))
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0)
  })
}

/** checkCaFiles refuses CA files that are not readable files (`--ca-file`, DXF_TLSVERIFY), before any request. */
export function checkCaFiles(files: string[] | undefined, what: string): void {
  for (const f of files ?? []) {
    let ok = false
    try {
      ok = statSync(f).isFile()
    } catch {
      // reported below
    }
    if (!ok) throw new UsageError(`${what} ${f}: no such file`, {code: 'BAD_CA_FILE'})
  }
}
