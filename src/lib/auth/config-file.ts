/**
 * auth/config-file: reading and writing the JSON files that hold credentials (Docker's
 * config.json, containers' auth.json), and decoding their `auths` entries.
 *
 * Reading is forgiving: a missing file is nothing, a broken one is a warning. Writing is careful:
 * the file is written to a temporary name with mode 0600 in the same directory and renamed over
 * the old one, so a crash never leaves half a file and the secret is never world-readable.
 * Messages never quote file contents: JSON.parse errors embed a snippet of the input, which here
 * can be a password.
 */
import {randomBytes} from 'node:crypto'
import {chmod, mkdir, open, readFile, realpath, rename, rm} from 'node:fs/promises'
import {homedir} from 'node:os'
import {basename, dirname, join} from 'node:path'

import {OcitoolError} from '../errors.js'
import type {Credential, Env, LogFn} from './types.js'

export type JsonObject = Record<string, unknown>

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function errorCode(e: unknown): string | undefined {
  return isObject(e) && typeof e.code === 'string' ? e.code : undefined
}

type Parsed = {ok: true; value: JsonObject | undefined} | {ok: false; problem: string}

async function parseFile(path: string): Promise<Parsed> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (e) {
    const code = errorCode(e)
    if (code === 'ENOENT' || code === 'ENOTDIR') return {ok: true, value: undefined}
    return {ok: false, problem: `cannot be read (${code ?? 'unknown error'})`}
  }
  if (text.trim() === '') return {ok: true, value: {}}
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return {ok: false, problem: 'is not valid JSON'}
  }
  if (!isObject(value)) return {ok: false, problem: 'is not a JSON object'}
  return {ok: true, value}
}

/**
 * readJsonObject returns the object in the file at path, or undefined when there is no file.
 * A file that cannot be read or parsed is reported through log (`<label> <path> is not valid
 * JSON; ignored`) and treated as absent: a broken config never stops a command.
 */
export async function readJsonObject(path: string, label: string, log: LogFn): Promise<JsonObject | undefined> {
  const parsed = await parseFile(path)
  if (parsed.ok) return parsed.value
  log(`${label} ${path} ${parsed.problem}; ignored`)
  return undefined
}

/**
 * readJsonObjectForUpdate is readJsonObject for a file about to be rewritten: a broken file is an
 * error, so that saving a credential never replaces settings the user can still repair.
 */
export async function readJsonObjectForUpdate(path: string, label: string): Promise<JsonObject | undefined> {
  const parsed = await parseFile(path)
  if (parsed.ok) return parsed.value
  throw new OcitoolError(`${label} ${path} ${parsed.problem}`, {
    code: 'CONFIG_INVALID',
    suggestions: [`repair or remove ${path}, then try again`],
  })
}

/** realTarget follows a symlinked config (dotfile managers) so the link survives the rename. */
async function realTarget(path: string): Promise<string> {
  try {
    return await realpath(path)
  } catch {
    return path
  }
}

/**
 * writeFileSecure replaces the file at path with data, mode 0600, atomically: a temporary file in
 * the same directory, fsync, rename. Creates missing directories with mode 0700.
 */
export async function writeFileSecure(path: string, data: string): Promise<void> {
  const target = await realTarget(path)
  const dir = dirname(target)
  await mkdir(dir, {recursive: true, mode: 0o700})
  // Tighten an existing file first, so that even a failed write leaves no readable secret.
  await chmod(target, 0o600).catch(() => undefined)
  const tmp = join(dir, `.${basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`)
  const fh = await open(tmp, 'wx', 0o600)
  try {
    try {
      await fh.writeFile(data, 'utf8')
      await fh.chmod(0o600)
      await fh.sync()
    } finally {
      await fh.close()
    }
    await rename(tmp, target)
  } catch (e) {
    await rm(tmp, {force: true})
    throw e
  }
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined
}

/**
 * decodeBasicAuth splits Docker's `auth` field: base64 of `user:password`, split at the first
 * colon, so passwords may contain colons. Undefined when there is no colon.
 */
export function decodeBasicAuth(auth: string): {username: string; password: string} | undefined {
  const text = Buffer.from(auth.trim(), 'base64').toString('utf8')
  const colon = text.indexOf(':')
  if (colon < 0) return undefined
  return {username: text.slice(0, colon), password: text.slice(colon + 1)}
}

/** encodeBasicAuth is the inverse of decodeBasicAuth. */
export function encodeBasicAuth(username: string, password: string): string {
  return Buffer.from(`${username}:${password}`, 'utf8').toString('base64')
}

/**
 * credentialFromAuthEntry reads one `auths` entry as Docker does: `registrytoken` (a bearer token)
 * wins over `identitytoken` (an OAuth2 refresh token, kept with its username), which wins over a
 * username and password from `auth` or from the `username`/`password` fields. `where` names the
 * entry in warnings, e.g. `docker config /h/.docker/config.json auths["host"]`.
 */
export function credentialFromAuthEntry(entry: unknown, where: string, log: LogFn): Credential | undefined {
  if (!isObject(entry)) {
    log(`${where} is not a JSON object; ignored`)
    return undefined
  }
  const registryToken = str(entry.registrytoken)
  if (registryToken) return {kind: 'registryToken', token: registryToken}

  let username = str(entry.username)
  let password = str(entry.password)
  const auth = str(entry.auth)
  if (auth) {
    const decoded = decodeBasicAuth(auth)
    if (decoded) ({username, password} = decoded)
    else log(`${where}: "auth" is not base64 of user:password; ignored`)
  }
  const identityToken = str(entry.identitytoken)
  if (identityToken) {
    return username ? {kind: 'identityToken', token: identityToken, username} : {kind: 'identityToken', token: identityToken}
  }
  if (password) return {kind: 'basic', username: username ?? '', password}
  return undefined
}

/** onceLog wraps log so that each distinct message is passed on once (keychains are asked per request). */
export function onceLog(log: LogFn | undefined): LogFn {
  const seen = new Set<string>()
  return (msg) => {
    if (seen.has(msg)) return
    seen.add(msg)
    log?.(msg)
  }
}

/** homeDir is options.home, else $HOME (or %USERPROFILE%), else the OS's idea of home. */
export function homeDir(opts: {env?: Env; home?: string}): string {
  const env = opts.env ?? process.env
  return opts.home ?? (env.HOME || env.USERPROFILE || homedir())
}
