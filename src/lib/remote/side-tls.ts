/**
 * side-tls: TLS settings for one side of a copy, as skopeo has them: `--src-tls-verify=false`
 * (the source's certificate is not verified, and plain HTTP is allowed, as skopeo's
 * `--tls-verify=false` does), `--dest-cert-dir DIR` (the destination trusts the CA
 * certificates `DIR/*.crt`, as containers' certs.d directories hold them). Each applies to that
 * side's registry only, its token server included; the other registries keep the global
 * settings (`--insecure`, `--ca-file`).
 */
import {readdir, stat} from 'node:fs/promises'
import {join} from 'node:path'
import {normalizeRegistryKey} from '../auth/hosts.js'
import {UsageError} from '../errors.js'
import type {RegistrySettings} from './session.js'

export interface TlsSide {
  /** `src` or `dest`, for messages */
  flag: 'src' | 'dest'
  /** the side's registry host; undefined for a file store (then its flags are refused) */
  registry?: string
  /** `true` or `false`, as given */
  verify?: string
  certDir?: string
}

/** parseVerify reads skopeo's boolean value: true/false (also 1/0, as Go's ParseBool). */
export function parseVerify(value: string, flag: string): boolean {
  const v = value.trim().toLowerCase()
  if (['true', 't', '1'].includes(v)) return true
  if (['false', 'f', '0'].includes(v)) return false
  throw new UsageError(`${flag}: want true or false, got "${value}"`, {code: 'BAD_FLAG'})
}

/** certDirCAs lists DIR/*.crt (sorted); DIR must be a readable directory. */
export async function certDirCAs(dir: string, flag: string): Promise<string[]> {
  const st = await stat(dir).catch(() => undefined)
  if (!st?.isDirectory()) throw new UsageError(`${flag} ${dir}: not a directory`, {code: 'BAD_CERT_DIR'})
  const names = await readdir(dir).catch((e: NodeJS.ErrnoException) => {
    throw new UsageError(`${flag} ${dir}: cannot read it (${e.code ?? e.message})`, {code: 'BAD_CERT_DIR'})
  })
  return names.filter((n) => n.endsWith('.crt')).sort().map((n) => join(dir, n))
}

/**
 * sideRegistrySettings merges each side's TLS flags into per-registry settings (by host as
 * named); undefined when no side has any. Both sides on one registry must agree: one run keeps
 * one connection pool per registry.
 */
export async function sideRegistrySettings(sides: TlsSide[], base: Record<string, RegistrySettings> = {}): Promise<Record<string, RegistrySettings> | undefined> {
  const given = sides.filter((s) => s.verify !== undefined || s.certDir !== undefined)
  if (given.length === 0) return undefined
  const out: Record<string, RegistrySettings> = {...base}
  const seen = new Map<string, {side: TlsSide; settings: RegistrySettings}>()
  for (const s of given) {
    const what = s.verify !== undefined ? `--${s.flag}-tls-verify` : `--${s.flag}-cert-dir`
    if (!s.registry) throw new UsageError(`${what}: the ${s.flag === 'src' ? 'source' : 'destination'} is not a registry`, {code: 'BAD_FLAG'})
    const settings: RegistrySettings = {...out[s.registry]}
    if (s.verify !== undefined) settings.insecure = !parseVerify(s.verify, `--${s.flag}-tls-verify`)
    // the flag's directory instead of the settings file's CAs, as skopeo's --*-cert-dir replaces certs.d
    if (s.certDir !== undefined) settings.caFiles = await certDirCAs(s.certDir, `--${s.flag}-cert-dir`)
    const key = normalizeRegistryKey(s.registry)
    const other = seen.get(key)
    if (other && (other.side.verify !== s.verify || other.side.certDir !== s.certDir)) {
      throw new UsageError(`source and destination are both on ${s.registry}: one run uses one TLS setting per registry; give the same ones (or one side only)`, {code: 'BAD_FLAG'})
    }
    seen.set(key, {side: s, settings})
    out[s.registry] = settings
  }
  return out
}
