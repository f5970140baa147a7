// A promise wrapper around child_process.execFile for the external tools the tests drive
// (skopeo, openssl, htpasswd, umoci). Never throws on a non-zero exit: callers look at `code`.

import {execFile} from 'node:child_process'

export interface RunResult {
  code: number
  stdout: string
  stderr: string
  stdoutBytes: Buffer
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv
  cwd?: string
  input?: string | Buffer
  /** Kill the tool (SIGKILL) after this many milliseconds; the result then has code 124. Default 60 s. */
  timeoutMs?: number
}

/**
 * run executes `cmd args` without a shell and resolves with its exit code and output. A
 * tool that cannot be started rejects; a tool that fails resolves with its code.
 */
export function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      cmd,
      args,
      {
        encoding: 'buffer',
        env: opts.env ?? process.env,
        cwd: opts.cwd,
        timeout: opts.timeoutMs ?? 60_000,
        killSignal: 'SIGKILL',
        maxBuffer: 64 * 1024 * 1024,
      },
      (err, stdout, stderr) => {
        const e = err as (NodeJS.ErrnoException & {code?: string | number; killed?: boolean}) | null
        if (e && typeof e.code === 'string') return reject(new Error(`${cmd}: ${e.message}`, {cause: e}))
        const code = e ? (e.killed ? 124 : typeof e.code === 'number' ? e.code : 1) : 0
        resolve({code, stdout: stdout.toString('utf8'), stderr: stderr.toString('utf8'), stdoutBytes: stdout})
      },
    )
    if (opts.input !== undefined) child.stdin?.end(opts.input)
    else child.stdin?.end()
  })
}

/** runOk is run() that rejects with the tool's stderr when it exits non-zero. */
export async function runOk(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const r = await run(cmd, args, opts)
  if (r.code !== 0) throw new Error(`${cmd} ${redact(args).join(' ')} exited ${r.code}: ${r.stderr.trim()}`)
  return r
}

/** redact hides the value after any `--*creds` flag, so passwords never reach error messages. */
export function redact(args: string[]): string[] {
  return args.map((a, i) => {
    if (/^--[\w-]*creds=/.test(a)) return a.replace(/=.*/, '=***')
    return i > 0 && /^--[\w-]*creds$/.test(args[i - 1]) ? '***' : a
  })
}
