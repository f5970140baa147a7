/**
 * auth/registries-tls: the TLS part of the per-registry settings file (`registries.json`, see
 * ./scoped.ts), read synchronously when a command builds its options, so every registry can
 * have its own: `"insecure": true` (TLS not verified, plain HTTP allowed; `false` verifies it
 * even under --insecure), `"cafile": FILE` (or a list) and `"certdir": DIR` (its `*.crt`), CAs
 * trusted for that registry alone (and its token server). Kept apart from the keychains, which
 * load lazily, so that a command's start stays cheap.
 */
import {readFileSync, readdirSync, statSync} from 'node:fs'
import {homedir} from 'node:os'
import {join} from 'node:path'
import {UsageError} from '../errors.js'
import type {RegistrySettings} from '../remote/session.js'
import {normalizeRegistryKey} from './hosts.js'
import type {Env} from './types.js'

/** registriesConfigPath: `$OCITOOL_REGISTRIES_CONFIG`, else `$XDG_CONFIG_HOME/ocitool/registries.json` (`~/.config/…`). */
export function registriesConfigPath(opts: {env?: Env; home?: string} = {}): string {
  const env = opts.env ?? process.env
  if (env.OCITOOL_REGISTRIES_CONFIG) return env.OCITOOL_REGISTRIES_CONFIG
  const home = opts.home ?? (env.HOME || env.USERPROFILE || homedir())
  return join(env.XDG_CONFIG_HOME || join(home, '.config'), 'ocitool', 'registries.json')
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/**
 * registriesFileTls reads the TLS settings of the per-registry settings file, by registry host;
 * undefined when there are none. A setting of the wrong type, or a CA file or directory that is
 * not there, is a usage error (the file is read before any request); a file that is not JSON is
 * left to the keychain, which warns once and ignores it.
 */
export function registriesFileTls(opts: {env?: Env; home?: string} = {}): Record<string, RegistrySettings> | undefined {
  const path = registriesConfigPath(opts)
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch {
    return undefined
  }
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch {
    return undefined
  }
  const registries = isObject(doc) ? doc.registries : undefined
  if (!isObject(registries)) return undefined
  const out: Record<string, RegistrySettings> = {}
  for (const [key, entry] of Object.entries(registries)) {
    if (!isObject(entry)) continue
    const where = `registries config ${path} (${JSON.stringify(key)})`
    const settings: RegistrySettings = {}
    if (entry.insecure !== undefined) {
      if (typeof entry.insecure !== 'boolean') throw new UsageError(`${where}: "insecure" must be true or false`, {code: 'CONFIG_INVALID'})
      settings.insecure = entry.insecure
    }
    const files: string[] = []
    if (entry.cafile !== undefined) {
      const list = Array.isArray(entry.cafile) ? entry.cafile : [entry.cafile]
      if (!list.every((f) => typeof f === 'string')) throw new UsageError(`${where}: "cafile" must be a file name or a list of them`, {code: 'CONFIG_INVALID'})
      for (const f of list as string[]) {
        if (!isFile(f)) throw new UsageError(`${where}: cafile ${f}: no such file`, {code: 'CONFIG_INVALID'})
        files.push(f)
      }
    }
    if (entry.certdir !== undefined) {
      if (typeof entry.certdir !== 'string') throw new UsageError(`${where}: "certdir" must be a directory name`, {code: 'CONFIG_INVALID'})
      let names: string[]
      try {
        names = readdirSync(entry.certdir)
      } catch {
        throw new UsageError(`${where}: certdir ${entry.certdir}: not a readable directory`, {code: 'CONFIG_INVALID'})
      }
      files.push(...names.filter((n) => n.endsWith('.crt')).sort().map((n) => join(entry.certdir as string, n)))
    }
    if (files.length > 0) settings.caFiles = files
    if (settings.insecure !== undefined || settings.caFiles) out[normalizeRegistryKey(key)] = settings
  }
  return Object.keys(out).length > 0 ? out : undefined
}

function isFile(f: string): boolean {
  try {
    return statSync(f).isFile()
  } catch {
    return false
  }
}
