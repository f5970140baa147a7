/**
 * OcitoolCommand: the base of every command. It owns the global flags (registry access,
 * credentials, --verbose), wires the core's log/warn callbacks to stderr, turns Ctrl-C into an
 * AbortSignal, and renders every failure as one line with the exit code of its class.
 */
import {Command, Flags, type Interfaces} from '@oclif/core'
import {UsageError} from '../errors.js'
import type {Keychain} from '../auth/types.js'
import type {RemoteOptions} from '../remote/session.js'
import type {TransferEvent} from '../transfer/engine.js'
import type {BatchRender} from './batch.js'
import {describeFailure} from './failure.js'
import {remoteOptionsOf, watchProcess} from './run-context.js'
import type {ProgressMode} from './progress.js'

export type BaseFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof OcitoolCommand)['baseFlags'] & T['flags']>

export abstract class OcitoolCommand extends Command {
  static override baseFlags = {
    insecure: Flags.boolean({
      description: 'allow plain HTTP and skip TLS verification for every registry',
      helpGroup: 'REGISTRY',
    }),
    'ca-file': Flags.string({
      description: 'PEM file of a CA to trust for registry TLS (repeatable)',
      multiple: true, multipleNonGreedy: true,
      helpGroup: 'REGISTRY',
    }),
    username: Flags.string({description: 'registry user name (overrides stored credentials)', helpGroup: 'REGISTRY'}),
    password: Flags.string({description: 'registry password or token (prefer --password-stdin)', helpGroup: 'REGISTRY', dependsOn: ['username']}),
    'password-stdin': Flags.boolean({description: 'read the registry password from stdin', helpGroup: 'REGISTRY', exclusive: ['password']}),
    verbose: Flags.boolean({char: 'v', description: 'trace requests and show error causes on stderr (secrets redacted)', helpGroup: 'GLOBAL'}),
  }

  protected verbose = false
  protected readonly abort = new AbortController()
  private base?: {insecure?: boolean; 'ca-file'?: string[]; username?: string; password?: string; 'password-stdin'?: boolean}
  private stdinPassword?: string

  /** password from --password-stdin or --password */
  protected password(): string | undefined {
    return this.stdinPassword ?? this.base?.password
  }

  override async init(): Promise<void> {
    await super.init()
    this.verbose = this.argv.includes('--verbose') || this.argv.includes('-v')
    watchProcess(this.abort)
  }

  /** parseCommand parses and remembers the global flags for remoteOptions(); `positional` is every argument in order. */
  protected async parseCommand<T extends typeof Command>(cmd: T): Promise<{args: Interfaces.InferredArgs<T['args']>; flags: BaseFlags<T>; argv: unknown[]; positional: string[]}> {
    // `-` is a file name here (stdin or stdout, read by the core when it needs it): oclif would
    // otherwise read all of stdin into any argument left out (and into a `-` of allowStdin flags)
    for (const arg of Object.values((cmd as {args?: Record<string, {ignoreStdin?: boolean}>}).args ?? {})) arg.ignoreStdin = true
    const parsed = (await this.parse(cmd as never)) as unknown as {args: Interfaces.InferredArgs<T['args']>; flags: BaseFlags<T>; argv: unknown[]; positional: string[]}
    // every argument as given, in order (oclif's argv sorts a repeated argument next to its first use)
    const raw = (parsed as unknown as {raw: Array<{type: string; input: string}>}).raw
    parsed.positional = raw.filter((t) => t.type === 'arg').map((t) => t.input)
    this.base = parsed.flags as typeof this.base
    if (this.base?.['password-stdin']) this.stdinPassword = (await readStdin()).replace(/\r?\n$/, '')
    return parsed
  }

  /** remoteOptions wires flags, keychains and stderr callbacks for the core. */
  protected remoteOptions(extra: {keychain?: Keychain; firstKeychains?: Keychain[]} = {}): RemoteOptions {
    const b = this.base ?? {}
    const password = this.stdinPassword ?? b.password
    return remoteOptionsOf({
      insecure: b.insecure,
      caFiles: b['ca-file'],
      credentials: b.username !== undefined && password !== undefined ? {username: b.username, password} : undefined,
      config: this.config,
      firstKeychains: extra.firstKeychains,
      keychain: extra.keychain,
      verbose: this.verbose,
      warn: (m) => this.warnLine(m),
      signal: this.abort.signal,
      version: this.config.version,
    })
  }

  /**
   * withProgress runs a transfer with progress on stderr as --progress asks (silent under
   * --json), and stops the spinner however the transfer ends.
   */
  protected async withProgress<T>(mode: string | undefined, label: string, fn: (onEvent: (e: TransferEvent) => void) => Promise<T>): Promise<T> {
    const {progressRenderer} = await import('./progress.js')
    const progress = await progressRenderer((this.jsonEnabled() ? 'none' : (mode ?? 'auto')) as ProgressMode, label)
    let ok = false
    try {
      const result = await fn(progress.onEvent)
      ok = true
      return result
    } finally {
      progress.stop(ok)
    }
  }

  /** batchInputs: the command's inputs, read from stdin for `-` (see ./batch.ts) */
  protected async batchInputs(args: string[]): Promise<string[]> {
    if (args.includes('-') && this.base?.['password-stdin']) throw new UsageError('"-" and --password-stdin both read stdin; give the inputs as arguments')
    const {inputsOf} = await import('./batch.js')
    return inputsOf(args)
  }

  /**
   * runBatch runs `fn` for every input concurrently in one session and prints each outcome in
   * input order (see ./batch.ts); the exit code is the worst of the inputs'.
   */
  protected async runBatch<R>(inputs: string[], concurrency: number, fn: (input: string, options: RemoteOptions) => Promise<R>, render: BatchRender<R>): Promise<void> {
    const {runBatch} = await import('./batch.js')
    const ctx = {json: this.jsonEnabled(), remote: this.remoteOptions(), aborted: () => this.abort.signal.aborted, concurrency}
    const worst = await runBatch(ctx, inputs, fn, render)
    if (worst !== 0) process.exitCode = worst
  }

  /** warnLine writes one warning to stderr (silent under --json). */
  protected warnLine(message: string): void {
    if (this.jsonEnabled()) return
    process.stderr.write(`Warning: ${message}\n`)
  }

  /** writeOut writes data to stdout exactly (no newline added). */
  protected writeOut(data: string | Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => {
      process.stdout.write(data, (e) => (e ? reject(e) : resolve()))
    })
  }

  protected override async catch(err: Error & {exitCode?: number; oclif?: {exit?: number}}): Promise<unknown> {
    // oclif's own exit(0) (--help, --version)
    if (err.oclif?.exit === 0) return
    const {exitCode, code, message} = describeFailure(err, this.abort.signal.aborted, this.id ? `${this.config.bin} ${this.id.replaceAll(':', ' ')}` : undefined)
    process.exitCode = exitCode
    if (this.jsonEnabled()) {
      this.logJson({error: {code, message, exitCode}})
    }
    process.stderr.write(`Error: ${message}\n`)
    if (this.verbose) process.stderr.write(`${describeCauses(err)}\n`)
    return undefined
  }
}

function describeCauses(err: unknown): string {
  const lines: string[] = []
  let cur: unknown = err
  for (let depth = 0; cur && depth < 6; depth++) {
    const e = cur as Error
    lines.push(depth === 0 ? (e.stack ?? String(e)) : `Caused by: ${e.stack ?? String(e)}`)
    cur = e.cause
  }
  return lines.join('\n')
}

function readStdin(): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    process.stdin.on('data', (c: Buffer) => chunks.push(c))
    process.stdin.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    process.stdin.on('error', reject)
  })
}
