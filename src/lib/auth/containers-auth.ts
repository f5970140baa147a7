/**
 * auth/containers-auth: the containers-auth.json(5) file of podman, skopeo and buildah.
 *
 * Files, in order, the first holding a credential for the request winning (as podman reads them):
 *  1. `$REGISTRY_AUTH_FILE` (or the `authFile` option), else `$XDG_RUNTIME_DIR/containers/auth.json`;
 *  2. `${XDG_CONFIG_HOME:-$HOME/.config}/containers/auth.json`.
 * (podman goes on to `~/.docker/config.json`; the Docker config keychain covers that.)
 *
 * `auths` keys are a host (`quay.io`) or a namespace (`quay.io/org`, `quay.io/org/app`). For
 * `quay.io/org/app` the keys tried are `quay.io/org/app`, `quay.io/org`, `quay.io`: the most
 * specific wins. The repository comes from the request's scopes; when several repositories are
 * in one request (copy with cross-repository mounts), the first one being pushed is used, else
 * the first one. Credential helpers in auth.json (`credHelpers`) are not supported.
 */
import {join} from 'node:path'

import {credentialFromAuthEntry, homeDir, isObject, onceLog, readJsonObject} from './config-file.js'
import {normalizeRegistryKey} from './hosts.js'
import type {Env, Keychain, KeychainRequest, LogFn, ResolvedCredential} from './types.js'

export interface ContainersAuthOptions {
  /** environment: REGISTRY_AUTH_FILE, XDG_RUNTIME_DIR, XDG_CONFIG_HOME, HOME. Default process.env. */
  env?: Env
  /** default env.HOME */
  home?: string
  /** overrides $REGISTRY_AUTH_FILE (e.g. an `--authfile` flag) */
  authFile?: string
  log?: LogFn
}

/** containersAuthPaths lists the auth files to read, in order, without duplicates. */
export function containersAuthPaths(opts: ContainersAuthOptions = {}): string[] {
  const env = opts.env ?? process.env
  const paths: string[] = []
  const primary = opts.authFile || env.REGISTRY_AUTH_FILE
  if (primary) paths.push(primary)
  else if (env.XDG_RUNTIME_DIR) paths.push(join(env.XDG_RUNTIME_DIR, 'containers', 'auth.json'))
  const configHome = env.XDG_CONFIG_HOME || join(homeDir(opts), '.config')
  const fallback = join(configHome, 'containers', 'auth.json')
  if (!paths.includes(fallback)) paths.push(fallback)
  return paths
}

/** A `repository:NAME:ACTIONS` scope, parsed. */
export interface RepositoryScope {
  repository: string
  actions: string[]
}

/** parseRepositoryScopes keeps the repository scopes (also `repository(plugin):…`) of a token request. */
export function parseRepositoryScopes(scopes: readonly string[]): RepositoryScope[] {
  const result: RepositoryScope[] = []
  for (const scope of scopes) {
    const first = scope.indexOf(':')
    const last = scope.lastIndexOf(':')
    if (first < 0 || last <= first) continue
    if (!/^repository(\(.*\))?$/.test(scope.slice(0, first))) continue
    const repository = scope.slice(first + 1, last)
    if (repository === '') continue
    result.push({repository, actions: scope.slice(last + 1).split(',').filter(Boolean)})
  }
  return result
}

/** primaryRepository is the repository whose namespace keys apply: the first pushed, else the first. */
export function primaryRepository(scopes: readonly string[]): string | undefined {
  const parsed = parseRepositoryScopes(scopes)
  const pushed = parsed.find((s) => s.actions.includes('push') || s.actions.includes('*'))
  return (pushed ?? parsed[0])?.repository
}

/**
 * normalizeContainersKey brings an auth.json key to `host[/path]` form: the host normalised as
 * Docker config keys are (`docker.io/library/x` → `index.docker.io/library/x`), no trailing slash.
 * A key with a scheme is a legacy Docker-style key and stands for the whole registry.
 */
export function normalizeContainersKey(key: string): string {
  const trimmed = key.trim()
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed)) return normalizeRegistryKey(trimmed)
  const slash = trimmed.indexOf('/')
  if (slash < 0) return normalizeRegistryKey(trimmed)
  const host = normalizeRegistryKey(trimmed.slice(0, slash))
  const path = trimmed.slice(slash + 1).replace(/\/+$/, '')
  return path === '' ? host : `${host}/${path}`
}

/** lookupKeys lists the normalised keys to try for a repository, most specific first, the host last. */
export function lookupKeys(registry: string, repository?: string): string[] {
  const host = normalizeRegistryKey(registry)
  const keys: string[] = []
  if (repository) {
    const parts = repository.split('/').filter(Boolean)
    for (let n = parts.length; n > 0; n--) keys.push(`${host}/${parts.slice(0, n).join('/')}`)
  }
  keys.push(host)
  return keys
}

/** ContainersAuthKeychain answers from podman/skopeo auth files; the files are read per request. */
export class ContainersAuthKeychain implements Keychain {
  readonly name = 'containers-auth'
  readonly paths: string[]
  readonly #log: LogFn

  constructor(opts: ContainersAuthOptions = {}) {
    this.paths = containersAuthPaths(opts)
    this.#log = onceLog(opts.log)
  }

  async resolve(request: KeychainRequest): Promise<ResolvedCredential | undefined> {
    if (normalizeRegistryKey(request.registry) === '') return undefined
    const wanted = lookupKeys(request.registry, primaryRepository(request.scopes))
    for (const path of this.paths) {
      const file = await readJsonObject(path, 'containers auth file', this.#log)
      const auths = file?.auths
      if (!isObject(auths)) continue
      const byKey = new Map<string, string[]>()
      for (const raw of Object.keys(auths)) {
        const k = normalizeContainersKey(raw)
        byKey.set(k, [...(byKey.get(k) ?? []), raw])
      }
      for (const key of wanted) {
        for (const raw of byKey.get(key) ?? []) {
          const where = `containers auth file ${path} auths[${JSON.stringify(raw)}]`
          const credential = credentialFromAuthEntry(auths[raw], where, this.#log)
          if (credential) return {credential, source: `containers auth file ${path} (auths ${JSON.stringify(raw)})`}
        }
      }
    }
    return undefined
  }
}
