/**
 * auth/scoped: credentials for one side of a copy (skopeo's `--src-creds USER:PASS`,
 * `--dest-creds`, `--src-authfile FILE`, `--dest-authfile`), each answering only for the
 * registry of its side, and the per-registry settings file
 * (`$XDG_CONFIG_HOME/ocitool/registries.json`, or `$OCITOOL_REGISTRIES_CONFIG`):
 *
 *   {"registries": {"registry.example.com": {"username": "u", "password": "p"},
 *                   "127.0.0.1:5000": {"authfile": "/path/auth.json"}}}
 *
 * and, per registry, its TLS (./registries-tls.ts).
 *
 * One run keeps one connection state per registry, so both sides on the same registry cannot
 * use different credentials: that is refused (exit 2) instead of silently using one of them.
 */
import {registriesConfigPath} from './registries-tls.js'
import {UsageError} from '../errors.js'
import {credentialFromAuthEntry, isObject, onceLog, readJsonObject} from './config-file.js'
import {lookupKeys, normalizeContainersKey, primaryRepository} from './containers-auth.js'
import {normalizeRegistryKey} from './hosts.js'
import {StaticKeychain} from './static.js'
import type {Env, Keychain, KeychainRequest, LogFn, ResolvedCredential} from './types.js'

/** parseCreds splits skopeo's `USER:PASSWORD` (the password may hold colons). */
export function parseCreds(value: string, flag: string): {username: string; password: string} {
  const colon = value.indexOf(':')
  if (colon <= 0 || colon === value.length - 1) throw new UsageError(`${flag}: want USERNAME:PASSWORD`, {code: 'BAD_CREDS'})
  return {username: value.slice(0, colon), password: value.slice(colon + 1)}
}

/** AuthFileKeychain answers from one auth file (containers auth.json / Docker config `auths`). */
export class AuthFileKeychain implements Keychain {
  readonly name = 'authfile'
  readonly #log: LogFn

  constructor(
    readonly path: string,
    log?: LogFn,
  ) {
    this.#log = onceLog(log)
  }

  async resolve(request: KeychainRequest): Promise<ResolvedCredential | undefined> {
    const file = await readJsonObject(this.path, 'auth file', this.#log)
    const auths = file?.auths
    if (!isObject(auths)) return undefined
    const wanted = lookupKeys(request.registry, primaryRepository(request.scopes))
    for (const key of wanted) {
      for (const raw of Object.keys(auths)) {
        if (normalizeContainersKey(raw) !== key) continue
        const credential = credentialFromAuthEntry(auths[raw], `auth file ${this.path} auths[${JSON.stringify(raw)}]`, this.#log)
        if (credential) return {credential, source: `auth file ${this.path} (auths ${JSON.stringify(raw)})`}
      }
    }
    return undefined
  }
}

/** OnlyFor limits a keychain to one registry. */
class OnlyFor implements Keychain {
  readonly name: string
  readonly #registry: string

  constructor(
    registry: string,
    private readonly inner: Keychain,
  ) {
    this.#registry = normalizeRegistryKey(registry)
    this.name = inner.name
  }

  resolve(request: KeychainRequest): Promise<ResolvedCredential | undefined> {
    if (normalizeRegistryKey(request.registry) !== this.#registry) return Promise.resolve(undefined)
    return this.inner.resolve(request)
  }
}

export interface Side {
  /** `--src` or `--dest`, for messages */
  flag: 'src' | 'dest'
  /** the side's registry host; undefined for a file store (then its flags are refused) */
  registry?: string
  creds?: string
  authfile?: string
}

/** sideKeychains builds the keychains of `--src-creds`/`--dest-creds`/`--*-authfile`, in that order. */
export function sideKeychains(sides: Side[], log?: LogFn): Keychain[] {
  const out: Keychain[] = []
  const given = sides.filter((s) => s.creds !== undefined || s.authfile !== undefined)
  for (const s of given) {
    if (s.creds !== undefined && s.authfile !== undefined) throw new UsageError(`--${s.flag}-creds and --${s.flag}-authfile cannot both be given`)
    if (!s.registry) throw new UsageError(`--${s.flag}-${s.creds === undefined ? 'authfile' : 'creds'}: the ${s.flag === 'src' ? 'source' : 'destination'} is not a registry`)
  }
  if (given.length === 2 && normalizeRegistryKey(given[0].registry!) === normalizeRegistryKey(given[1].registry!) && (given[0].creds !== given[1].creds || given[0].authfile !== given[1].authfile)) {
    throw new UsageError(`source and destination are both on ${given[0].registry}: one run uses one set of credentials per registry; give the same ones (or one side only)`)
  }
  for (const s of given) {
    if (s.creds !== undefined) {
      const c = parseCreds(s.creds, `--${s.flag}-creds`)
      out.push(new StaticKeychain({...c, registry: s.registry, source: `--${s.flag}-creds`}))
    } else {
      out.push(new OnlyFor(s.registry!, new AuthFileKeychain(s.authfile!, log)))
    }
  }
  return out
}

export {registriesConfigPath}

/** RegistriesFileKeychain answers from the per-registry settings file: `username`+`password`, or an `authfile`. */
export class RegistriesFileKeychain implements Keychain {
  readonly name = 'registries-config'
  readonly path: string
  readonly #log: LogFn

  constructor(opts: {env?: Env; home?: string; log?: LogFn} = {}) {
    this.path = registriesConfigPath(opts)
    this.#log = onceLog(opts.log)
  }

  async resolve(request: KeychainRequest): Promise<ResolvedCredential | undefined> {
    const file = await readJsonObject(this.path, 'registries config', this.#log)
    const registries = file?.registries
    if (!isObject(registries)) return undefined
    const host = normalizeRegistryKey(request.registry)
    for (const [key, entry] of Object.entries(registries)) {
      if (normalizeRegistryKey(key) !== host || !isObject(entry)) continue
      const where = `registries config ${this.path} (${JSON.stringify(key)})`
      if (typeof entry.username === 'string' && typeof entry.password === 'string') {
        return {credential: {kind: 'basic', username: entry.username, password: entry.password}, source: where}
      }
      if (typeof entry.authfile === 'string') {
        const answer = await new AuthFileKeychain(entry.authfile, this.#log).resolve(request)
        if (answer) return {...answer, source: `${where}: ${answer.source}`}
      }
      if (entry.username !== undefined || entry.password !== undefined) this.#log(`${where}: needs both "username" and "password"; ignored`)
    }
    return undefined
  }
}
