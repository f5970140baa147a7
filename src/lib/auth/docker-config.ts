/**
 * auth/docker-config: Docker's `config.json` (`$DOCKER_CONFIG/config.json`, else
 * `~/.docker/config.json`) as a keychain, and `saveCredential`/`removeCredential` for
 * `auth login`/`auth logout`.
 *
 * For a registry, a helper applies when `credHelpers` has the host (any spelling), else when
 * `credsStore` is set. The helper is asked first; when it has nothing, or is not installed (a
 * warning), the plain `auths` entry is used, so a config copied from a desktop into CI still works.
 * A helper that fails otherwise is an error (the multi-keychain reports it and moves on).
 */
import {join} from 'node:path'

import {OcitoolError, UsageError, isOcitoolError} from '../errors.js'
import {
  type JsonObject,
  credentialFromAuthEntry,
  encodeBasicAuth,
  homeDir,
  isObject,
  onceLog,
  readJsonObject,
  readJsonObjectForUpdate,
  writeFileSecure,
} from './config-file.js'
import {type HelperOptions, credentialFromHelper, helperErase, helperGet, helperStore} from './cred-helper.js'
import {helperServerUrls, matchingKeys, normalizeRegistryKey, storeServerUrl} from './hosts.js'
import type {Env, Keychain, KeychainRequest, LogFn, ResolvedCredential} from './types.js'

export interface DockerConfigOptions {
  /** environment: DOCKER_CONFIG, HOME and the helpers' PATH. Default process.env. */
  env?: Env
  /** home directory; default env.HOME, then os.homedir(). */
  home?: string
  /** the directory holding config.json; default $DOCKER_CONFIG, then <home>/.docker. */
  configDir?: string
  log?: LogFn
  /** per helper call; default 30 s. */
  helperTimeoutMs?: number
}

/** Where saveCredential/removeCredential wrote: the config file's path, or `helper <name>`. */
export interface CredentialLocation {
  location: string
}

/** dockerConfigPath is the config.json ocitool reads and writes for these options. */
export function dockerConfigPath(opts: DockerConfigOptions = {}): string {
  const env = opts.env ?? process.env
  const dir = opts.configDir ?? (env.DOCKER_CONFIG || join(homeDir(opts), '.docker'))
  return join(dir, 'config.json')
}

/** The credential helper that applies to a registry, and the config setting that chose it. */
export interface HelperChoice {
  name: string
  from: string
}

/** helperFor returns the helper for registry: `credHelpers[host]`, else `credsStore`, else undefined. */
export function helperFor(config: JsonObject, registry: string): HelperChoice | undefined {
  const helpers = config.credHelpers
  if (isObject(helpers)) {
    for (const key of matchingKeys(Object.keys(helpers), registry)) {
      const name = helpers[key]
      if (typeof name === 'string' && name !== '') return {name, from: `credHelpers[${JSON.stringify(key)}]`}
    }
  }
  const store = config.credsStore
  if (typeof store === 'string' && store !== '') return {name: store, from: 'credsStore'}
  return undefined
}

function helperOptions(opts: DockerConfigOptions): HelperOptions {
  const h: HelperOptions = {env: opts.env ?? process.env}
  if (opts.helperTimeoutMs !== undefined) h.timeoutMs = opts.helperTimeoutMs
  return h
}

/** DockerConfigKeychain answers from Docker's config.json and its credential helpers; the file is read per request. */
export class DockerConfigKeychain implements Keychain {
  readonly name = 'docker-config'
  readonly path: string
  readonly #opts: DockerConfigOptions
  readonly #log: LogFn

  constructor(opts: DockerConfigOptions = {}) {
    this.#opts = opts
    this.#log = onceLog(opts.log)
    this.path = dockerConfigPath(opts)
  }

  async resolve(request: KeychainRequest): Promise<ResolvedCredential | undefined> {
    const config = await readJsonObject(this.path, 'docker config', this.#log)
    if (config === undefined) return undefined
    const host = normalizeRegistryKey(request.registry)
    if (host === '') return undefined

    const helper = helperFor(config, host)
    if (helper) {
      const fromHelper = await this.#fromHelper(helper, host)
      if (fromHelper) return fromHelper
    }
    return this.#fromAuths(config, host)
  }

  async #fromHelper(helper: HelperChoice, host: string): Promise<ResolvedCredential | undefined> {
    try {
      for (const url of helperServerUrls(host)) {
        const answer = await helperGet(helper.name, url, helperOptions(this.#opts))
        if (answer) {
          return {
            credential: credentialFromHelper(answer),
            source: `credential helper docker-credential-${helper.name} (${helper.from} in ${this.path})`,
          }
        }
      }
    } catch (e) {
      if (!(isOcitoolError(e) && e.code === 'CREDENTIAL_HELPER_NOT_FOUND')) throw e
      this.#log(`${e.message} (${helper.from} in ${this.path}); skipped`)
    }
    return undefined
  }

  #fromAuths(config: JsonObject, host: string): ResolvedCredential | undefined {
    const auths = config.auths
    if (!isObject(auths)) return undefined
    for (const key of matchingKeys(Object.keys(auths), host)) {
      const where = `docker config ${this.path} auths[${JSON.stringify(key)}]`
      const credential = credentialFromAuthEntry(auths[key], where, this.#log)
      if (credential) return {credential, source: `docker config ${this.path} (auths ${JSON.stringify(key)})`}
    }
    return undefined
  }
}

const secretFields = ['auth', 'username', 'password', 'identitytoken', 'registrytoken'] as const

/** stripSecrets removes credential fields from an auths entry, keeping any others (email, …). */
function stripSecrets(entry: JsonObject): boolean {
  let changed = false
  for (const f of secretFields) {
    if (f in entry) {
      delete entry[f]
      changed = true
    }
  }
  return changed
}

async function loadForUpdate(path: string): Promise<JsonObject> {
  return (await readJsonObjectForUpdate(path, 'docker config')) ?? {}
}

async function writeConfig(path: string, config: JsonObject): Promise<void> {
  try {
    await writeFileSecure(path, `${JSON.stringify(config, null, '\t')}\n`)
  } catch (e) {
    throw new OcitoolError(`writing docker config ${path}`, {code: 'CONFIG_WRITE', cause: e})
  }
}

function registryHost(registry: string): string {
  const host = normalizeRegistryKey(registry)
  if (host === '') throw new UsageError('the registry name is empty')
  return host
}

/**
 * saveCredential stores a username and password for registry where Docker would: in the helper
 * that applies (`credHelpers[host]`, else `credsStore`), else in `auths[<key>].auth` of the config
 * file (Docker Hub's key is `https://index.docker.io/v1/`, others the bare host). Every other key
 * of the file is kept; the file ends up with mode 0600, its directory (when created) 0700. With a
 * helper, the file keeps an empty `auths` entry, as `docker login` leaves it, and loses any stale
 * plaintext for the host.
 */
export async function saveCredential(
  registry: string,
  cred: {username: string; password: string},
  opts: DockerConfigOptions = {},
): Promise<CredentialLocation> {
  const host = registryHost(registry)
  if (cred.username.includes(':')) throw new UsageError('a username cannot contain ":" (HTTP basic authentication splits on it)')
  if (cred.password === '') throw new UsageError('the password is empty')

  const path = dockerConfigPath(opts)
  const config = await loadForUpdate(path)
  const key = storeServerUrl(host)
  const auths: JsonObject = isObject(config.auths) ? config.auths : {}
  const helper = helperFor(config, host)

  if (helper) {
    await helperStore(helper.name, {serverURL: key, username: cred.username, secret: cred.password}, helperOptions(opts))
    let changed = false
    for (const k of matchingKeys(Object.keys(auths), host)) {
      const entry = auths[k]
      if (isObject(entry)) changed = stripSecrets(entry) || changed
    }
    if (!isObject(auths[key])) {
      auths[key] = {}
      changed = true
    }
    if (changed) {
      config.auths = auths
      await writeConfig(path, config)
    }
    return {location: `helper ${helper.name}`}
  }

  const entry: JsonObject = isObject(auths[key]) ? auths[key] : {}
  stripSecrets(entry)
  entry.auth = encodeBasicAuth(cred.username, cred.password)
  auths[key] = entry
  config.auths = auths
  await writeConfig(path, config)
  return {location: path}
}

/**
 * removeCredential forgets registry: erases it from the helper that applies (every server URL
 * form Docker uses) and deletes its `auths` entries (every spelling of the host) from the file.
 * `removed` is false when nothing was stored.
 */
export async function removeCredential(
  registry: string,
  opts: DockerConfigOptions = {},
): Promise<CredentialLocation & {removed: boolean}> {
  const host = registryHost(registry)
  const path = dockerConfigPath(opts)
  const config = await loadForUpdate(path)
  const helper = helperFor(config, host)

  let removed = false
  if (helper) {
    for (const url of helperServerUrls(host)) {
      removed = (await helperErase(helper.name, url, helperOptions(opts))) || removed
    }
  }
  const auths = config.auths
  let changed = false
  if (isObject(auths)) {
    for (const k of matchingKeys(Object.keys(auths), host)) {
      const entry = auths[k]
      if (isObject(entry) && secretFields.some((f) => f in entry)) removed = true
      delete auths[k]
      changed = true
    }
  }
  if (changed) await writeConfig(path, config)
  return {location: helper ? `helper ${helper.name}` : path, removed}
}
