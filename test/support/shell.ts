// Runs a command line exactly as a user types it (pipes, `$(…)`, `&&`), through bash, with an
// `ocitool` on PATH that is the built CLI: the seed documents' lines are tested as written.
// The environment is sanitised as runCli's is: no real credentials, offline DNS.

import {spawn} from 'node:child_process'
import {existsSync} from 'node:fs'
import * as fs from 'node:fs/promises'
import * as path from 'node:path'
import type {CliResult} from './cli.js'
import {repoRoot} from './cli.js'
import {tmpDir} from './tmp.js'

const scrubbed = ['XDG_RUNTIME_DIR', 'REGISTRY_AUTH_FILE', 'XDG_CONFIG_HOME', 'DOCKER_AUTH_CONFIG', 'OCITOOL_USERNAME', 'OCITOOL_PASSWORD', 'ACCESS_TOKEN', 'REFRESH_TOKEN']

let binDir: Promise<string> | undefined

/** ocitoolBin is a directory holding an `ocitool` script that runs the built CLI (made once). */
export function ocitoolBin(): Promise<string> {
  binDir ??= (async () => {
    const dir = await tmpDir('ocitool-bin')
    const script = path.join(dir.path, 'ocitool')
    await fs.writeFile(script, `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(path.join(repoRoot, 'bin', 'run.js'))} "$@"\n`, {mode: 0o755})
    return dir.path
  })()
  return binDir
}

export interface ShellOptions {
  /** Added to the sanitised environment (undefined removes a variable). */
  env?: Record<string, string | undefined>
  cwd: string
  input?: string | Buffer
  timeoutMs?: number
}

/**
 * sh runs `line` with `bash -o pipefail -c` in cwd, `ocitool` on PATH, HOME and DOCKER_CONFIG
 * in a fresh temp dir unless given; resolves with the exit code and output (never rejects on
 * a non-zero exit).
 */
export async function sh(line: string, opts: ShellOptions): Promise<CliResult> {
  const given = opts.env ?? {}
  const home = 'HOME' in given ? undefined : await tmpDir('sh-home')
  try {
    const env: NodeJS.ProcessEnv = {...process.env, NO_COLOR: '1'}
    for (const k of scrubbed) delete env[k]
    for (const k of Object.keys(env)) if (k.startsWith('DXF_')) delete env[k]
    if (home) {
      env.HOME = home.path
      env.DOCKER_CONFIG = path.join(home.path, '.docker')
    }
    env.PATH = `${await ocitoolBin()}:${env.PATH ?? '/usr/bin:/bin'}`
    env.XDG_CACHE_HOME = path.join(repoRoot, 'node_modules', '.cache', 'ocitool-test')
    const guard = path.join(repoRoot, 'test', 'support', 'offline-dns.cjs')
    if (existsSync(guard)) env.NODE_OPTIONS = [process.env.NODE_OPTIONS, `--require ${guard}`].filter(Boolean).join(' ')
    for (const [k, v] of Object.entries(given)) {
      if (v === undefined) delete env[k]
      else env[k] = v
    }
    return await new Promise<CliResult>((resolve, reject) => {
      const child = spawn('bash', ['-o', 'pipefail', '-c', line], {cwd: opts.cwd, env, stdio: ['pipe', 'pipe', 'pipe']})
      const out: Buffer[] = []
      const err: Buffer[] = []
      child.stdout.on('data', (b: Buffer) => out.push(b))
      child.stderr.on('data', (b: Buffer) => err.push(b))
      child.stdin.on('error', () => {})
      let timedOut = false
      const timer = setTimeout(() => {
        timedOut = true
        child.kill('SIGKILL')
      }, opts.timeoutMs ?? 60_000)
      child.on('error', (e) => {
        clearTimeout(timer)
        reject(e)
      })
      child.on('close', (code) => {
        clearTimeout(timer)
        const stdoutBytes = Buffer.concat(out)
        resolve({code: timedOut ? 124 : code ?? 1, stdout: stdoutBytes.toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), stdoutBytes})
      })
      child.stdin.end(opts.input)
    })
  } finally {
    await home?.remove()
  }
}
