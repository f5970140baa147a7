/**
 * auth/cred-helper: the docker-credential-helpers protocol. A helper is a program
 * `docker-credential-<name>` on PATH taking one argument:
 *
 *  - `get`: server URL on stdin → `{"ServerURL", "Username", "Secret"}` on stdout. Username
 *    `<token>` means Secret is an identity token. A miss exits non-zero with
 *    `credentials not found in native keychain`.
 *  - `store`: `{"ServerURL", "Username", "Secret"}` on stdin.
 *  - `erase`: server URL on stdin.
 *  - `list`: `{"<server URL>": "<username>", ...}` on stdout.
 *
 * Helpers write their error messages to stdout (sometimes stderr); both are read. Every call has
 * a timeout (30 s by default) because helpers can wait on a locked desktop keychain.
 */
import {spawn} from 'node:child_process'

import {OcitoolError} from '../errors.js'
import type {Credential, Env} from './types.js'

export const helperTimeoutMs = 30_000
const notFoundMessage = 'credentials not found in native keychain'
const maxOutput = 1 << 20

export interface HelperOptions {
  /** environment of the helper; its PATH is where the helper is looked up. Default process.env. */
  env?: Env
  timeoutMs?: number
}

/** A credential as a helper stores it. */
export interface HelperCredential {
  serverURL: string
  username: string
  secret: string
}

/** CredentialHelperNotFoundError: `docker-credential-<name>` is not on PATH (or not executable). */
export class CredentialHelperNotFoundError extends OcitoolError {
  readonly helper: string
  constructor(helper: string, options: {cause?: unknown} = {}) {
    super(`credential helper docker-credential-${helper} not found on PATH`, {
      code: 'CREDENTIAL_HELPER_NOT_FOUND',
      cause: options.cause,
      suggestions: [`install docker-credential-${helper}, or remove it from the Docker config (credsStore / credHelpers)`],
    })
    this.name = 'CredentialHelperNotFoundError'
    this.helper = helper
  }
}

/** helperProgram returns `docker-credential-<name>`, refusing names that would be a path. */
export function helperProgram(name: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) {
    throw new OcitoolError(`credential helper name ${JSON.stringify(name)} is not valid`, {code: 'CREDENTIAL_HELPER'})
  }
  return `docker-credential-${name}`
}

/** What a helper call produced. */
export interface RunResult {
  code: number | null
  stdout: string
  stderr: string
}

/** runHelper runs `docker-credential-<name> <action>` with input on stdin. */
export function runHelper(name: string, action: string, input: string, opts: HelperOptions = {}): Promise<RunResult> {
  const program = helperProgram(name)
  const timeoutMs = opts.timeoutMs ?? helperTimeoutMs
  return new Promise((resolve, reject) => {
    let settled = false
    let timer: NodeJS.Timeout | undefined
    const finish = (fn: () => void) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      fn()
    }
    const child = spawn(program, [action], {env: {...(opts.env ?? process.env)}, stdio: ['pipe', 'pipe', 'pipe']})
    const out: Buffer[] = []
    const err: Buffer[] = []
    let size = 0
    const collect = (into: Buffer[]) => (chunk: Buffer) => {
      size += chunk.length
      if (size > maxOutput) {
        child.kill('SIGKILL')
        finish(() => reject(new OcitoolError(`credential helper ${program} ${action} wrote too much output`, {code: 'CREDENTIAL_HELPER'})))
      } else into.push(chunk)
    }
    child.stdout.on('data', collect(out))
    child.stderr.on('data', collect(err))
    child.stdin.on('error', () => undefined) // a helper may exit without reading stdin
    timer = setTimeout(() => {
      child.kill('SIGKILL')
      finish(() =>
        reject(
          new OcitoolError(`credential helper ${program} ${action} timed out after ${Math.round(timeoutMs / 1000)}s`, {
            code: 'CREDENTIAL_HELPER',
            suggestions: ['unlock the system keychain, or check that the helper works: ' + `echo <server> | ${program} get`],
          }),
        ),
      )
    }, timeoutMs)
    child.on('error', (e: NodeJS.ErrnoException) => {
      finish(() =>
        reject(
          e.code === 'ENOENT'
            ? new CredentialHelperNotFoundError(name, {cause: e})
            : new OcitoolError(`cannot run credential helper ${program} ${action} (${e.code ?? e.message})`, {
                code: 'CREDENTIAL_HELPER',
                cause: e,
              }),
        ),
      )
    })
    child.on('close', (code) => {
      finish(() => resolve({code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8')}))
    })
    child.stdin.end(input)
  })
}

/** helperMessage is the helper's own one-line explanation of a failure (never a secret: only on failure). */
function helperMessage(r: RunResult): string {
  const text = (r.stdout.trim() || r.stderr.trim()).split('\n')[0] ?? ''
  const short = text.length > 200 ? `${text.slice(0, 200)}…` : text
  return short || `exit code ${r.code ?? 'signal'}`
}

function isNotFound(r: RunResult): boolean {
  return `${r.stdout}\n${r.stderr}`.toLowerCase().includes(notFoundMessage)
}

function failure(name: string, action: string, r: RunResult): OcitoolError {
  return new OcitoolError(`credential helper docker-credential-${name} ${action} failed: ${helperMessage(r)}`, {
    code: 'CREDENTIAL_HELPER',
  })
}

/** helperGet asks a helper for serverURL; undefined when it has nothing (or an empty secret). */
export async function helperGet(name: string, serverURL: string, opts: HelperOptions = {}): Promise<HelperCredential | undefined> {
  const r = await runHelper(name, 'get', serverURL, opts)
  if (r.code !== 0) {
    if (isNotFound(r)) return undefined
    throw failure(name, 'get', r)
  }
  let body: unknown
  try {
    body = JSON.parse(r.stdout)
  } catch {
    // The output holds a secret: do not quote it.
    throw new OcitoolError(`credential helper docker-credential-${name} get answered something that is not JSON`, {code: 'CREDENTIAL_HELPER'})
  }
  const o = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>
  const secret = typeof o.Secret === 'string' ? o.Secret : ''
  if (secret === '') return undefined
  return {
    serverURL: typeof o.ServerURL === 'string' ? o.ServerURL : serverURL,
    username: typeof o.Username === 'string' ? o.Username : '',
    secret,
  }
}

/** helperStore saves a credential in a helper. */
export async function helperStore(name: string, cred: HelperCredential, opts: HelperOptions = {}): Promise<void> {
  const input = JSON.stringify({ServerURL: cred.serverURL, Username: cred.username, Secret: cred.secret})
  const r = await runHelper(name, 'store', input, opts)
  if (r.code !== 0) throw failure(name, 'store', r)
}

/** helperErase removes serverURL from a helper; false when it held nothing for it. */
export async function helperErase(name: string, serverURL: string, opts: HelperOptions = {}): Promise<boolean> {
  const r = await runHelper(name, 'erase', serverURL, opts)
  if (r.code === 0) return true
  if (isNotFound(r)) return false
  throw failure(name, 'erase', r)
}

/** helperList returns the server URLs a helper holds, with their usernames. */
export async function helperList(name: string, opts: HelperOptions = {}): Promise<Record<string, string>> {
  const r = await runHelper(name, 'list', '', opts)
  if (r.code !== 0) throw failure(name, 'list', r)
  let body: unknown
  try {
    body = JSON.parse(r.stdout)
  } catch {
    throw new OcitoolError(`credential helper docker-credential-${name} list answered something that is not JSON`, {code: 'CREDENTIAL_HELPER'})
  }
  const result: Record<string, string> = {}
  if (typeof body === 'object' && body !== null) {
    for (const [k, v] of Object.entries(body)) if (typeof v === 'string') result[k] = v
  }
  return result
}

/** credentialFromHelper maps a helper's answer to a Credential: Username `<token>` marks an identity token. */
export function credentialFromHelper(h: HelperCredential): Credential {
  return h.username === '<token>'
    ? {kind: 'identityToken', token: h.secret}
    : {kind: 'basic', username: h.username, password: h.secret}
}
