/**
 * dockercfg: the registry entries of kubernetes.io/dockerconfigjson and kubernetes.io/dockercfg
 * secrets, and the kubelet's way of choosing among them (pkg/credentialprovider/keyring.go):
 * a key is `[scheme://]host[:port][/path]`; it matches an image `host[:port]/repo` when the hosts
 * have the same number of dot-separated parts and each part matches as a glob (`*.gcr.io`
 * matches `eu.gcr.io`, not `a.b.gcr.io`), the ports are equal, and the key's path is a prefix of
 * the image's path. The most specific key (the longest, as the kubelet's reverse sort puts it
 * first) wins.
 */
import type {auth} from 'ocitool'

export interface Entry {
  /** the key as written in the secret */
  key: string
  credential: auth.Credential
  /** where it came from: `secret NAMESPACE/NAME (TYPE)` */
  source: string
}

/** parseSecret returns the entries of one secret, or throws when its data is not what its type says. */
export function parseSecret(secret: {type?: string; data?: Record<string, string>}, source: string): Entry[] {
  const data = secret.data ?? {}
  let auths: unknown
  if (secret.type === 'kubernetes.io/dockerconfigjson') {
    const raw = data['.dockerconfigjson']
    if (raw === undefined) throw new Error('no .dockerconfigjson key')
    const doc = parseJson(raw)
    auths = (doc as {auths?: unknown}).auths
    if (typeof auths !== 'object' || auths === null) throw new Error('.dockerconfigjson has no "auths" object')
  } else if (secret.type === 'kubernetes.io/dockercfg') {
    const raw = data['.dockercfg']
    if (raw === undefined) throw new Error('no .dockercfg key')
    auths = parseJson(raw)
    if (typeof auths !== 'object' || auths === null || Array.isArray(auths)) throw new Error('.dockercfg is not a JSON object')
  } else {
    throw new Error(`type ${secret.type ?? '(none)'} is not kubernetes.io/dockerconfigjson or kubernetes.io/dockercfg`)
  }
  const out: Entry[] = []
  for (const [key, value] of Object.entries(auths as Record<string, unknown>)) {
    const credential = toCredential(value)
    if (credential) out.push({key, credential, source})
  }
  return out
}

function parseJson(base64: string): unknown {
  const text = Buffer.from(base64, 'base64').toString('utf8')
  try {
    return JSON.parse(text)
  } catch (e) {
    throw new Error(`malformed JSON: ${e instanceof Error ? e.message : String(e)}`)
  }
}

function toCredential(v: unknown): auth.Credential | undefined {
  if (typeof v !== 'object' || v === null) return undefined
  const e = v as {username?: string; password?: string; auth?: string; identitytoken?: string; registrytoken?: string}
  if (e.registrytoken) return {kind: 'registryToken', token: e.registrytoken}
  if (e.identitytoken) return {kind: 'identityToken', token: e.identitytoken, username: e.username}
  let {username, password} = e
  if (e.auth) {
    const decoded = Buffer.from(e.auth, 'base64').toString('utf8')
    const i = decoded.indexOf(':')
    if (i > 0) {
      username = decoded.slice(0, i)
      password = decoded.slice(i + 1)
    }
  }
  if (username === undefined || password === undefined) return undefined
  return {kind: 'basic', username, password}
}

interface Parsed {
  host: string
  port: string
  path: string
}

/**
 * parseLocation parses a config key or an image location as the kubelet's parseSchemelessURL
 * does; a key's leading `/v1` or `/v2` is dropped (Docker treats `host/v1/` as the host).
 */
export function parseLocation(s: string): Parsed {
  let rest = s.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '')
  const slash = rest.indexOf('/')
  let path = ''
  if (slash >= 0) {
    path = rest.slice(slash)
    rest = rest.slice(0, slash)
  }
  if (path.startsWith('/v1/') || path.startsWith('/v2/')) path = path.slice(3)
  if (path === '/') path = ''
  const m = /^(.*?)(?::(\d+))?$/.exec(rest)!
  return {host: m[1].toLowerCase(), port: m[2] ?? '', path}
}

/** the keyring key of a config key: `host[:port][/path]`, as the kubelet indexes it */
export function normalizeKey(key: string): string {
  const k = parseLocation(key)
  const host = DOCKER_HUB.has(k.host) && !k.port ? 'docker.io' : k.host
  return `${host}${k.port ? `:${k.port}` : ''}${k.path}`
}

function globPart(glob: string, s: string): boolean {
  const re = new RegExp(`^${glob.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^.]*')}$`)
  return re.test(s)
}

const DOCKER_HUB = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io'])

/** matches: does config key `key` apply to `target` (`host[:port][/repo]`)? (kubelet's URLsMatch) */
export function matches(key: string, target: string): boolean {
  const k = parseLocation(normalizeKey(key))
  const t = parseLocation(target)
  const th = DOCKER_HUB.has(t.host) && !t.port ? 'docker.io' : t.host
  const kp = k.host.split('.')
  const tp = th.split('.')
  if (kp.length !== tp.length) return false
  if (!kp.every((p, i) => globPart(p, tp[i]))) return false
  if (k.port !== t.port) return false
  return t.path.startsWith(k.path)
}

/**
 * lookup: the entry for target. Like the kubelet, keys are tried in reverse lexicographic order,
 * which puts the most specific first (`host/a/b` before `host/a` before `host`, `eu.gcr.io`
 * before `*.gcr.io`); entries under the same key keep the order they were added in, so
 * explicit secrets beat the service account's.
 */
export function lookup(entries: Entry[], target: string): Entry | undefined {
  const found = entries.map((e, i) => ({e, i, key: normalizeKey(e.key)})).filter(({e}) => matches(e.key, target))
  found.sort((a, b) => (a.key === b.key ? a.i - b.i : a.key < b.key ? 1 : -1))
  return found[0]?.e
}
