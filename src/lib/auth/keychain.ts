/**
 * auth/keychain: asking several keychains in turn, and the default order ocitool asks them in:
 *
 *   --username/--password flags → environment → ocitool's registries.json (per-registry settings)
 *   → Docker config (and its credential helpers) → containers auth file → plugin keychains (`extra`) → anonymous (undefined)
 *
 * Explicit beats ambient: what the user typed for this command, then what the CI job set, then
 * the files `docker login` and `podman login` wrote. Plugins come after the built-in keychains,
 * so a plugin can add credentials but never silently replace ones the user configured.
 */
import {ContainersAuthKeychain} from './containers-auth.js'
import {DockerConfigKeychain} from './docker-config.js'
import {EnvKeychain} from './env.js'
import {RegistriesFileKeychain} from './scoped.js'
import {staticKeychainFromFlags} from './static.js'
import type {Env, Keychain, KeychainRequest, LogFn, ResolvedCredential} from './types.js'

export interface MultiKeychainOptions {
  log?: LogFn
}

/**
 * MultiKeychain asks each keychain in order and returns the first answer. A keychain that throws
 * is reported through log (`keychain <name> failed: <message>; skipped`) and the next one asked:
 * a broken credential source never stops an anonymous pull.
 */
export class MultiKeychain implements Keychain {
  readonly name = 'multi'
  readonly keychains: readonly Keychain[]
  readonly #log: LogFn

  constructor(keychains: readonly Keychain[], opts: MultiKeychainOptions = {}) {
    this.keychains = [...keychains]
    this.#log = opts.log ?? (() => undefined)
  }

  async resolve(request: KeychainRequest): Promise<ResolvedCredential | undefined> {
    for (const keychain of this.keychains) {
      try {
        const answer = await keychain.resolve(request)
        if (answer) return answer
      } catch (e) {
        this.#log(`keychain ${keychain.name} failed: ${e instanceof Error ? e.message : String(e)}; skipped`)
      }
    }
    return undefined
  }
}

export interface DefaultKeychainOptions {
  /** asked before everything else (copy's --src-creds/--dest-creds, each for its registry) */
  first?: readonly Keychain[]
  /** `--username`/`--password`; both or neither (UsageError otherwise). */
  flags?: {username?: string; password?: string}
  /** the registry the flags are for; without it the flags apply to every registry. */
  registry?: string
  /** default process.env */
  env?: Env
  /** default env.HOME */
  home?: string
  log?: LogFn
  /** plugin keychains, asked after the built-in ones (sorted by the caller, e.g. by plugin name). */
  extra?: readonly Keychain[]
  /** per credential helper call; default 30 s. */
  helperTimeoutMs?: number
}

/** defaultKeychains builds the keychains in the order they are asked (see the file comment). */
export function defaultKeychains(opts: DefaultKeychainOptions = {}): Keychain[] {
  const env = opts.env ?? process.env
  const common = {env, ...(opts.home === undefined ? {} : {home: opts.home}), ...(opts.log ? {log: opts.log} : {})}
  const keychains: Keychain[] = [...(opts.first ?? [])]
  const flags = staticKeychainFromFlags(opts.flags, opts.registry)
  if (flags) keychains.push(flags)
  keychains.push(new EnvKeychain(common))
  keychains.push(new RegistriesFileKeychain(common))
  keychains.push(
    new DockerConfigKeychain(opts.helperTimeoutMs === undefined ? common : {...common, helperTimeoutMs: opts.helperTimeoutMs}),
  )
  keychains.push(new ContainersAuthKeychain(common))
  keychains.push(...(opts.extra ?? []))
  return keychains
}

/** defaultKeychain is defaultKeychains behind one MultiKeychain reporting through opts.log. */
export function defaultKeychain(opts: DefaultKeychainOptions = {}): MultiKeychain {
  return new MultiKeychain(defaultKeychains(opts), opts.log ? {log: opts.log} : {})
}
