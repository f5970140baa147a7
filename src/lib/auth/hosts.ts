/**
 * auth/hosts: registry names as credential stores write them, reduced to one comparable form.
 *
 * Docker config keys come in many spellings for the same registry: `https://index.docker.io/v1/`,
 * `index.docker.io`, `docker.io`, `registry-1.docker.io`, `http://host:5000`, `host:5000`,
 * `https://host:5000/v2/`. normalizeRegistryKey strips the scheme and path, lower-cases the host
 * and folds every Docker Hub name into `index.docker.io`.
 */

/** The registry host that stands for Docker Hub after normalisation (go-containerregistry's name too). */
export const dockerHubRegistry = 'index.docker.io'

/** The key `docker login` uses for Docker Hub in `auths` and in credential helpers. */
export const dockerHubAuthKey = 'https://index.docker.io/v1/'

/** Names users and tools write for Docker Hub; all normalise to {@link dockerHubRegistry}. */
export const dockerHubAliases: readonly string[] = ['index.docker.io', 'docker.io', 'registry-1.docker.io']

const schemePattern = /^[a-z][a-z0-9+.-]*:\/\//i

/**
 * normalizeRegistryKey returns the registry host (with port) that a config key or user-typed
 * registry names: no scheme, no path, lower case, Docker Hub names folded into `index.docker.io`.
 * `https://host:5000/v2/` → `host:5000`; `docker.io` → `index.docker.io`.
 */
export function normalizeRegistryKey(key: string): string {
  let host = key.trim().replace(schemePattern, '')
  const slash = host.indexOf('/')
  if (slash >= 0) host = host.slice(0, slash)
  host = host.toLowerCase()
  return dockerHubAliases.includes(host) ? dockerHubRegistry : host
}

/** isDockerHub is true when key names Docker Hub in any of its spellings. */
export function isDockerHub(key: string): boolean {
  return normalizeRegistryKey(key) === dockerHubRegistry
}

/** sameRegistry is true when two keys name the same registry once normalised. */
export function sameRegistry(a: string, b: string): boolean {
  return normalizeRegistryKey(a) === normalizeRegistryKey(b)
}

/**
 * helperServerUrls lists the server URLs to ask a credential helper for, in order: Docker stores
 * Docker Hub under `https://index.docker.io/v1/` and other registries under the bare host;
 * Docker before 1.11 stored `https://host`, which some keychains still hold.
 */
export function helperServerUrls(registry: string): string[] {
  const host = normalizeRegistryKey(registry)
  return host === dockerHubRegistry ? [dockerHubAuthKey] : [host, `https://${host}`]
}

/** storeServerUrl is the server URL `docker login` writes for a registry (helpers and `auths`). */
export function storeServerUrl(registry: string): string {
  const host = normalizeRegistryKey(registry)
  return host === dockerHubRegistry ? dockerHubAuthKey : host
}

/**
 * matchingKeys returns the keys of a Docker-style `auths` map that name registry, best first:
 * the key `docker login` would have written, then the rest in file order.
 */
export function matchingKeys(keys: Iterable<string>, registry: string): string[] {
  const host = normalizeRegistryKey(registry)
  const preferred = storeServerUrl(registry)
  const found = [...keys].filter((k) => normalizeRegistryKey(k) === host)
  return found.sort((a, b) => Number(b === preferred) - Number(a === preferred))
}
