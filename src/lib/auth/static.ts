/**
 * auth/static: credentials given explicitly, typically `--username` and `--password` flags.
 *
 * With `registry`, the keychain answers for that registry only (the registry of the command the
 * flags were given to); without it, for every registry the command talks to.
 */
import {UsageError} from '../errors.js'
import {normalizeRegistryKey} from './hosts.js'
import type {Keychain, KeychainRequest, ResolvedCredential} from './types.js'

export interface StaticKeychainOptions {
  username: string
  password: string
  /** answer only for this registry (any spelling normalizeRegistryKey understands). */
  registry?: string
  /** shown as ResolvedCredential.source; default `--username/--password flags`. */
  source?: string
}

/** StaticKeychain answers a fixed username and password. */
export class StaticKeychain implements Keychain {
  readonly name = 'flags'
  readonly #username: string
  readonly #password: string
  readonly #registry: string | undefined
  readonly #source: string

  constructor(opts: StaticKeychainOptions) {
    if (opts.username.includes(':')) throw new UsageError('a username cannot contain ":" (HTTP basic authentication splits on it)')
    if (opts.password === '') throw new UsageError('the password is empty')
    this.#username = opts.username
    this.#password = opts.password
    this.#registry = opts.registry === undefined ? undefined : normalizeRegistryKey(opts.registry)
    this.#source = opts.source ?? '--username/--password flags'
  }

  async resolve(request: KeychainRequest): Promise<ResolvedCredential | undefined> {
    if (this.#registry !== undefined && normalizeRegistryKey(request.registry) !== this.#registry) return undefined
    return {credential: {kind: 'basic', username: this.#username, password: this.#password}, source: this.#source}
  }
}

/**
 * staticKeychainFromFlags builds the keychain for `--username`/`--password`: undefined when
 * neither flag is given, a UsageError when only one is.
 */
export function staticKeychainFromFlags(
  flags: {username?: string; password?: string} | undefined,
  registry?: string,
): StaticKeychain | undefined {
  const username = flags?.username
  const password = flags?.password
  if (username === undefined && password === undefined) return undefined
  if (username === undefined || password === undefined) {
    throw new UsageError('--username and --password must be given together', {
      suggestions: ['for a token, give it as --password with the username the registry expects'],
    })
  }
  return new StaticKeychain(registry === undefined ? {username, password} : {username, password, registry})
}
