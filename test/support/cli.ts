// Runs the ocitool CLI (`node bin/run.js`) as a child process, the way users do, with an
// environment that cannot see the real user's registry credentials.

import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {existsSync} from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import {fileURLToPath} from 'node:url'
import {tmpDir} from './tmp.js'

/** The repository root (this file lives in test/support/). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')

export interface CliOptions {
  /** Added to (and overriding) the sanitised environment; a value of undefined removes the variable. */
  env?: Record<string, string | undefined>
  /** Fed to stdin, which is then closed; stdin is closed at once without it. */
  input?: string | Buffer
  /** Default: the repository root. */
  cwd?: string
  /** SIGKILL the CLI after this many ms (code 124 then). Default 60 000. */
  timeoutMs?: number
}

export interface CliResult {
  /** Exit code; 128+n when killed by signal n, 124 on timeout. */
  code: number
  stdout: string
  stderr: string
  /** stdout exactly as written, for commands that print blobs. */
  stdoutBytes: Buffer
}

const scrubbed = ['XDG_RUNTIME_DIR', 'REGISTRY_AUTH_FILE', 'XDG_CONFIG_HOME', 'DOCKER_AUTH_CONFIG', 'OCITOOL_USERNAME', 'OCITOOL_PASSWORD']

/**
 * runCli spawns `node bin/run.js ...args` (never through a shell) and resolves when it
 * exits. Unless the caller sets HOME, HOME and DOCKER_CONFIG point at a fresh temp dir that
 * is removed afterwards (pass your own DOCKER_CONFIG to inspect what the CLI wrote);
 * XDG_RUNTIME_DIR, REGISTRY_AUTH_FILE and a few other credential sources are unset so the
 * user's real configuration never leaks in.
 */
export async function runCli(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  const given = opts.env ?? {}
  const home = 'HOME' in given ? undefined : await tmpDir('cli-home')
  try {
    const env: NodeJS.ProcessEnv = {...process.env, NO_COLOR: '1'}
    for (const k of scrubbed) delete env[k]
    if (home) env.HOME = home.path
    // DOCKER_CONFIG follows HOME: a caller-given HOME means `$HOME/.docker` is used.
    if (home) env.DOCKER_CONFIG = path.join(home.path, '.docker')
    else delete env.DOCKER_CONFIG
    // the compiled-code cache (bin/compile-cache.cjs) is shared by the runs, as a user's is
    env.XDG_CACHE_HOME = path.join(repoRoot, 'node_modules', '.cache', 'ocitool-test')
    // every CLI run resolves names offline: no test can send a DNS query off this machine
    const guard = path.join(repoRoot, 'test', 'support', 'offline-dns.cjs')
    if (existsSync(guard)) env.NODE_OPTIONS = [env.NODE_OPTIONS, `--require ${guard}`].filter(Boolean).join(' ')
    for (const [k, v] of Object.entries(given)) {
      if (v === undefined) delete env[k]
      else env[k] = v
    }
    return await new Promise<CliResult>((resolve, reject) => {
      const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'run.js'), ...args], {
        cwd: opts.cwd ?? repoRoot, env, stdio: ['pipe', 'pipe', 'pipe'],
      })
      const out: Buffer[] = []
      const err: Buffer[] = []
      child.stdout.on('data', (b: Buffer) => out.push(b))
      child.stderr.on('data', (b: Buffer) => err.push(b))
      child.stdin.on('error', () => {}) // the CLI may exit without reading its input (EPIPE)
      let timedOut = false
      const timer = setTimeout(() => {
        timedOut = true
        child.kill('SIGKILL')
      }, opts.timeoutMs ?? 60_000)
      child.on('error', (e) => {
        clearTimeout(timer)
        reject(e)
      })
      child.on('close', (code, signal) => {
        clearTimeout(timer)
        const stdoutBytes = Buffer.concat(out)
        const sig = signal ? 128 + (os.constants.signals[signal] ?? 0) : 1
        resolve({
          code: timedOut ? 124 : code ?? sig,
          stdout: stdoutBytes.toString('utf8'),
          stderr: Buffer.concat(err).toString('utf8'),
          stdoutBytes,
        })
      })
      child.stdin.end(opts.input)
    })
  } finally {
    await home?.remove()
  }
}

/**
 * sameAnswers runs the CLI twice, as it is and with `other` added to its environment (a switch to
 * another code path: OCITOOL_NO_FAST_PATH, OCITOOL_NO_LEAN), asserts that stdout (byte for byte:
 * a tar or a blob is no text), stderr and the exit code are the same, and returns the first
 * run's result.
 */
export async function sameAnswers(args: string[], other: Record<string, string>, opts: CliOptions = {}): Promise<CliResult> {
  const first = await runCli(args, opts)
  const second = await runCli(args, {...opts, env: {...opts.env, ...other}})
  const show = `ocitool ${args.join(' ')}`
  assert.equal(first.stdout, second.stdout, `${show}: stdout`)
  assert.ok(first.stdoutBytes.equals(second.stdoutBytes), `${show}: stdout bytes`)
  assert.equal(first.stderr, second.stderr, `${show}: stderr`)
  assert.equal(first.code, second.code, `${show}: exit code`)
  return first
}
