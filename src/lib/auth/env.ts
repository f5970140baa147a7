/**
 * auth/env: credentials from environment variables, for CI.
 *
 * Precedence, first match wins:
 *  1. `OCITOOL_USERNAME` + `OCITOOL_PASSWORD`: basic credentials. These names belong to ocitool,
 *     so setting them is the clearest statement of intent.
 *  2. `REFRESH_TOKEN`: an OAuth2 refresh token (identityToken), exchanged by the transport with
 *     `grant_type=refresh_token`; `OCITOOL_USERNAME`, when set, goes with it.
 *  3. `ACCESS_TOKEN`: an OAuth2 access token (accessToken): exchanged by the transport at the
 *     realm's `exchange` endpoint (ACR's `/oauth2/exchange`) for a refresh token, as appendlayer
 *     does; sent as a bearer token as it is where the realm has no such endpoint.
 *  (2 before 3 as in appendlayer, which uses REFRESH_TOKEN when both are set.)
 *
 * `OCITOOL_REGISTRY`, when set, limits all of them to that registry. Without it they are offered
 * to every registry a command talks to: ACCESS_TOKEN and REFRESH_TOKEN are common names, so set
 * OCITOOL_REGISTRY when other tools' tokens may be in the environment. Empty values count as unset.
 */
import {normalizeRegistryKey} from './hosts.js'
import type {Credential, Env, Keychain, KeychainRequest, LogFn, ResolvedCredential} from './types.js'

export const envVars = {
  username: 'OCITOOL_USERNAME',
  password: 'OCITOOL_PASSWORD',
  accessToken: 'ACCESS_TOKEN',
  refreshToken: 'REFRESH_TOKEN',
  registry: 'OCITOOL_REGISTRY',
} as const

export interface EnvKeychainOptions {
  /** default process.env */
  env?: Env
  log?: LogFn
}

/** EnvKeychain reads credentials from an environment (process.env by default) on every request. */
export class EnvKeychain implements Keychain {
  readonly name = 'env'
  readonly #env: Env
  readonly #log: LogFn
  #warned = false

  constructor(opts: EnvKeychainOptions = {}) {
    this.#env = opts.env ?? process.env
    this.#log = opts.log ?? (() => undefined)
  }

  #get(name: string): string | undefined {
    const v = this.#env[name]
    return v === undefined || v === '' ? undefined : v
  }

  async resolve(request: KeychainRequest): Promise<ResolvedCredential | undefined> {
    const only = this.#get(envVars.registry)
    if (only !== undefined && normalizeRegistryKey(only) !== normalizeRegistryKey(request.registry)) return undefined

    const username = this.#get(envVars.username)
    const password = this.#get(envVars.password)
    if (username !== undefined && password !== undefined) {
      return found({kind: 'basic', username, password}, `env ${envVars.username}/${envVars.password}`)
    }
    const refreshToken = this.#get(envVars.refreshToken)
    if (refreshToken !== undefined) {
      const credential: Credential =
        username === undefined ? {kind: 'identityToken', token: refreshToken} : {kind: 'identityToken', token: refreshToken, username}
      return found(credential, `env ${envVars.refreshToken}`)
    }
    const accessToken = this.#get(envVars.accessToken)
    if (accessToken !== undefined) return found({kind: 'accessToken', token: accessToken}, `env ${envVars.accessToken}`)
    if ((username === undefined) !== (password === undefined) && !this.#warned) {
      this.#warned = true
      const set = username === undefined ? envVars.password : envVars.username
      const unset = username === undefined ? envVars.username : envVars.password
      this.#log(`${set} is set without ${unset}; ignored`)
    }
    return undefined
  }
}

function found(credential: Credential, source: string): ResolvedCredential {
  return {credential, source}
}
