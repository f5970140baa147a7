/**
 * reference: the image reference grammar of distribution/reference, with Docker Hub
 * normalisation, as crane (go-containerregistry's `name` package) applies it.
 *
 *   reference  := name [":" tag] ["@" digest]
 *   name       := [registry "/"] path
 *   registry   := host [":" port]; host := dns-name | IPv4 | "[" IPv6 "]"
 *   path       := component ("/" component)*
 *   component  := [a-z0-9]+ (("." | "_" | "__" | "-"+) [a-z0-9]+)*
 *   tag        := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
 *   digest     := "sha256:" 64 lowercase hex | "sha512:" 128 lowercase hex
 *
 * Choices, where the grammar leaves room or tools disagree:
 * - The first path component is a registry only if it contains "." or ":", is
 *   `localhost`, or is a bracketed IPv6 address; otherwise the registry is Docker Hub.
 *   (Docker also treats an upper-case first component as a registry; crane does not, and
 *   neither do we: `Foo/bar` is a lower-case error, not registry `Foo`.)
 * - Ports must be 1–65535 (the grammar allows any digits; such a port cannot be dialled,
 *   so `host:99999/x` is refused up front with a clear message).
 * - The 255-character limit applies to the repository path as sent to the registry
 *   (`library/ubuntu`), as current distribution/reference and the registry itself check
 *   it; the registry host is not counted.
 * - Docker Hub: `docker.io`, `index.docker.io` and `registry-1.docker.io` (any case) all
 *   normalise to registry `index.docker.io`, API host `registry-1.docker.io`, and a
 *   one-component path gets `library/`.
 * - `name:tag@digest` keeps both: the digest is what is fetched, the tag is for display.
 * - Other registry names are kept as written (host names are not lower-cased).
 */
import {BlockList, isIPv6} from 'node:net'

import {UsageError} from '../errors.js'
import {digestProblem} from '../oci/digest.js'

/** DOCKER_HUB_REGISTRY is the normalised registry name of Docker Hub. */
export const DOCKER_HUB_REGISTRY = 'index.docker.io'
/** DOCKER_HUB_API_HOST is the host that serves Docker Hub's registry API. */
export const DOCKER_HUB_API_HOST = 'registry-1.docker.io'
/** DEFAULT_TAG is the tag of a reference that names neither a tag nor a digest. */
export const DEFAULT_TAG = 'latest'
/** MAX_REPOSITORY_LENGTH caps the repository path (without the registry). */
export const MAX_REPOSITORY_LENGTH = 255

const HUB_ALIASES: ReadonlySet<string> = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io'])
const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/
const HOST_LABEL = /^[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?$/
const TAG = /^\w[\w.-]{0,127}$/
const IMAGE_ID = /^[a-f0-9]{64}$/
const SCHEME = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//

/** ParseReferenceOptions changes the defaults of `parseReference` and `parseRepository`. */
export interface ParseReferenceOptions {
  /** Registry for names without one (default Docker Hub). */
  defaultRegistry?: string
  /** Refuse a reference without an explicit tag or digest instead of defaulting to `latest`. */
  requireTagOrDigest?: boolean
}

/** isDockerHub is true when registry (as written or normalised) is Docker Hub. */
export function isDockerHub(registry: string): boolean {
  return HUB_ALIASES.has(registry.toLowerCase())
}

/** apiHostOf returns the host[:port] that serves a registry's API. */
export function apiHostOf(registry: string): string {
  return isDockerHub(registry) ? DOCKER_HUB_API_HOST : registry
}

/** registryApiHost is `apiHostOf` under the name the commands use. */
export const registryApiHost = apiHostOf

/** Repository is a registry plus a repository path: what `ls` lists and blobs live in. */
export class Repository {
  /** The registry as written, or `index.docker.io` for Docker Hub. */
  readonly registry: string
  /** The host[:port] to send API requests to (`registry-1.docker.io` for Docker Hub). */
  readonly apiHost: string
  /** The repository path, e.g. `library/ubuntu`. */
  readonly repository: string
  /** `registry/repository`. */
  readonly name: string

  /** Use `parseRepository`; the constructor does not validate its arguments. */
  constructor(registry: string, repository: string) {
    this.registry = registry
    this.apiHost = apiHostOf(registry)
    this.repository = repository
    this.name = `${registry}/${repository}`
  }

  /** isDockerHub is true for repositories on Docker Hub. */
  get isDockerHub(): boolean {
    return this.registry === DOCKER_HUB_REGISTRY
  }

  /** context names the repository in error messages: `registry/repository`. */
  context(): string {
    return this.name
  }

  toString(): string {
    return this.name
  }

  toJSON(): string {
    return this.toString()
  }

  /** withTag returns a reference to tag in this repository (UsageError for a bad tag). */
  withTag(tag: string): Reference {
    checkTag(tag, tag, 'tag')
    return new Reference(this.registry, this.repository, tag, undefined)
  }

  /** withDigest returns a reference to digest in this repository (UsageError for a bad digest). */
  withDigest(digest: string): Reference {
    checkDigest(digest, digest, 'digest')
    return new Reference(this.registry, this.repository, undefined, digest)
  }
}

/** Reference names one manifest: a repository plus a tag, a digest, or both. */
export class Reference extends Repository {
  /** The tag, `latest` when neither tag nor digest was given. Kept for display when a digest is present. */
  readonly tag?: string
  /** The digest; when present it is what gets fetched. */
  readonly digest?: string
  /** What to ask the registry for: the digest if present, else the tag. */
  readonly identifier: string

  /** Use `parseReference`; the constructor does not validate its arguments. */
  constructor(registry: string, repository: string, tag: string | undefined, digest: string | undefined) {
    super(registry, repository)
    if (tag !== undefined) this.tag = tag
    if (digest !== undefined) this.digest = digest
    this.identifier = digest ?? tag ?? DEFAULT_TAG
  }

  /** repo returns the repository without tag or digest. */
  repo(): Repository {
    return new Repository(this.registry, this.repository)
  }

  /** toString is the full form: `registry/repository:tag`, `…@digest` or `…:tag@digest`. */
  override toString(): string {
    const tag = this.tag === undefined ? '' : `:${this.tag}`
    const digest = this.digest === undefined ? '' : `@${this.digest}`
    return `${this.name}${tag}${digest}`
  }

  /** withTag returns a reference to tag in the same repository, without a digest. */
  override withTag(tag: string): Reference {
    return super.withTag(tag)
  }

  /** withDigest returns a reference to digest in the same repository, keeping the tag for display. */
  override withDigest(digest: string): Reference {
    checkDigest(digest, digest, 'digest')
    return new Reference(this.registry, this.repository, this.tag, digest)
  }
}

type What = 'reference' | 'repository' | 'registry' | 'tag' | 'digest'

function fail(what: What, input: string, problem: string): never {
  throw new UsageError(`invalid ${what} ${JSON.stringify(input)}: ${problem}`)
}

/** characterProblem finds whitespace, control or non-ASCII characters, which no part of a reference allows. */
function characterProblem(s: string): string | undefined {
  if (/\s/.test(s)) return 'must not contain whitespace'
  if (/[\u0000-\u001f\u007f]/.test(s)) return 'must not contain control characters'
  if (/[^\u0020-\u007e]/.test(s)) return 'must contain only ASCII characters'
  const scheme = SCHEME.exec(s)
  if (scheme) return `drop ${JSON.stringify(scheme[0])}: a reference has no URL scheme`
  return undefined
}

function checkTag(tag: string, input: string, what: What): void {
  if (tag === '') fail(what, input, 'tag after ":" is empty')
  if (tag.length > 128) fail(what, input, `tag is longer than 128 characters (${tag.length})`)
  if (!TAG.test(tag)) {
    fail(what, input, `tag ${JSON.stringify(tag)} is invalid: use letters, digits, "_", "." and "-", not starting with "." or "-"`)
  }
}

function checkDigest(digest: string, input: string, what: What): void {
  if (digest === '') fail(what, input, 'digest after "@" is empty')
  const problem = digestProblem(digest)
  if (problem !== undefined) fail(what, input, problem)
}

/** hostProblem says what is wrong with `host[:port]`, or undefined when it is valid. */
function hostProblem(hostport: string): string | undefined {
  let host = hostport
  let port: string | undefined
  if (hostport.startsWith('[')) {
    const end = hostport.indexOf(']')
    if (end === -1) return 'IPv6 address has no closing "]"'
    const address = hostport.slice(1, end)
    if (!/^[0-9a-fA-F:]+$/.test(address) || !isIPv6(address)) return `${JSON.stringify(address)} is not an IPv6 address`
    const rest = hostport.slice(end + 1)
    if (rest !== '' && !rest.startsWith(':')) return `unexpected ${JSON.stringify(rest)} after the IPv6 address`
    host = ''
    port = rest === '' ? undefined : rest.slice(1)
  } else {
    const colon = hostport.indexOf(':')
    if (colon !== -1) {
      if (hostport.indexOf(':', colon + 1) !== -1) return 'IPv6 addresses need brackets, like [::1]:5000'
      host = hostport.slice(0, colon)
      port = hostport.slice(colon + 1)
    }
    if (host === '') return 'registry host is empty'
    const bad = host.split('.').find((label) => !HOST_LABEL.test(label))
    if (bad !== undefined) {
      return bad === ''
        ? `registry host ${JSON.stringify(host)} has an empty label`
        : `registry host ${JSON.stringify(host)} is invalid: use letters, digits, "-" and "."`
    }
  }
  if (port !== undefined) {
    if (port === '') return 'port after ":" is empty'
    if (!/^[0-9]+$/.test(port)) return `port ${JSON.stringify(port)} must be a number`
    const n = Number(port)
    if (n < 1 || n > 65535) return `port ${port} is out of range (1-65535)`
  }
  return undefined
}

function normaliseRegistry(registry: string): string {
  return isDockerHub(registry) ? DOCKER_HUB_REGISTRY : registry
}

function pathProblem(path: string): string | undefined {
  if (path === '') return 'repository name is empty'
  if (path.startsWith('/')) return 'repository name starts with "/"'
  if (path.endsWith('/')) return 'repository name ends with "/"'
  if (path.includes('//')) return 'repository name has an empty component ("//")'
  const bad = path.split('/').find((c) => !COMPONENT.test(c))
  if (bad === undefined) return undefined
  const lower = path.toLowerCase()
  if (lower !== path && lower.split('/').every((c) => COMPONENT.test(c))) return 'repository name must be lowercase'
  return (
    `repository component ${JSON.stringify(bad)} is invalid: use lowercase letters and digits, ` +
    'separated by ".", "_", "__" or "-"'
  )
}

/** looksLikeRegistry: the docker rule for whether the first component names a registry. */
function looksLikeRegistry(first: string): boolean {
  return first.includes('.') || first.includes(':') || first === 'localhost' || first.startsWith('[')
}

interface Parts {
  registry: string
  repository: string
  tag?: string
  digest?: string
}

function split(given: string, what: 'reference' | 'repository', opts: ParseReferenceOptions): Parts {
  // skopeo's transport prefix names the same thing: `docker://host/repo:tag`
  const input = given.startsWith('docker://') ? given.slice('docker://'.length) : given
  if (input === '') fail(what, given, 'must not be empty')
  const chars = characterProblem(input)
  if (chars !== undefined) fail(what, input, chars)

  let rest = input
  let digest: string | undefined
  const at = input.indexOf('@')
  if (at !== -1) {
    if (input.indexOf('@', at + 1) !== -1) fail(what, input, 'more than one "@"')
    digest = input.slice(at + 1)
    rest = input.slice(0, at)
    checkDigest(digest, input, what)
  }

  const lastSlash = rest.lastIndexOf('/')
  if (rest.startsWith('[') && lastSlash === -1) fail(what, input, 'a registry needs a repository after it, like [::1]:5000/name')
  let tag: string | undefined
  const lastColon = rest.lastIndexOf(':')
  if (lastColon > lastSlash) {
    tag = rest.slice(lastColon + 1)
    rest = rest.slice(0, lastColon)
    checkTag(tag, input, what)
  }
  if (rest === '') fail(what, input, 'repository name is empty')
  if (IMAGE_ID.test(input)) fail(what, input, 'a 64-character hex string is an image ID, not a repository name')

  let registry: string
  let path: string
  const slash = rest.indexOf('/')
  if (slash !== -1 && looksLikeRegistry(rest.slice(0, slash))) {
    registry = rest.slice(0, slash)
    path = rest.slice(slash + 1)
    const problem = hostProblem(registry)
    if (problem !== undefined) fail(what, input, problem)
  } else {
    registry = opts.defaultRegistry === undefined ? DOCKER_HUB_REGISTRY : parseRegistry(opts.defaultRegistry)
    path = rest
  }

  const problem = pathProblem(path)
  if (problem !== undefined) fail(what, input, problem)
  registry = normaliseRegistry(registry)
  if (registry === DOCKER_HUB_REGISTRY && !path.includes('/')) path = `library/${path}`
  if (path.length > MAX_REPOSITORY_LENGTH) {
    fail(what, input, `repository name is longer than ${MAX_REPOSITORY_LENGTH} characters (${path.length})`)
  }
  return {registry, repository: path, ...(tag === undefined ? {} : {tag}), ...(digest === undefined ? {} : {digest})}
}

/**
 * parseReference parses an image reference such as `ubuntu`, `ghcr.io/a/b:1.0` or
 * `localhost:5000/x@sha256:…`; it throws UsageError naming the problem and the input.
 * Without tag or digest the tag is `latest`, unless `requireTagOrDigest` is set.
 */
export function parseReference(input: string, opts: ParseReferenceOptions = {}): Reference {
  const p = split(input, 'reference', opts)
  if (p.tag === undefined && p.digest === undefined) {
    if (opts.requireTagOrDigest) fail('reference', input, 'a tag or digest is required')
    return new Reference(p.registry, p.repository, DEFAULT_TAG, undefined)
  }
  return new Reference(p.registry, p.repository, p.tag, p.digest)
}

/** parseRepository parses a repository without tag or digest, such as `ghcr.io/a/b` (for `ls`). */
export function parseRepository(input: string, opts: Pick<ParseReferenceOptions, 'defaultRegistry'> = {}): Repository {
  const p = split(input, 'repository', opts)
  if (p.digest !== undefined) fail('repository', input, 'a repository has no digest; drop "@…"')
  if (p.tag !== undefined) fail('repository', input, `a repository has no tag; drop ":${p.tag}"`)
  return new Repository(p.registry, p.repository)
}

/**
 * parseRegistry checks `host[:port]` (IPv6 in brackets) and returns it, with Docker Hub's
 * aliases normalised to `index.docker.io` (for `catalog`).
 */
export function parseRegistry(input: string): string {
  if (input === '') fail('registry', input, 'must not be empty')
  const chars = characterProblem(input)
  if (chars !== undefined) fail('registry', input, chars)
  if (input.includes('/')) fail('registry', input, 'a registry is host[:port], without a path')
  if (input.includes('@')) fail('registry', input, 'a registry is host[:port], without credentials or digest')
  const problem = hostProblem(input)
  if (problem !== undefined) fail('registry', input, problem)
  return normaliseRegistry(input)
}

let privateAddresses: BlockList | undefined
/** the loopback and RFC 1918 ranges, made on first use (not when a command loads) */
function privateRanges(): BlockList {
  if (privateAddresses) return privateAddresses
  const list = new BlockList()
  list.addSubnet('127.0.0.0', 8, 'ipv4')
  list.addSubnet('10.0.0.0', 8, 'ipv4')
  list.addSubnet('172.16.0.0', 12, 'ipv4')
  list.addSubnet('192.168.0.0', 16, 'ipv4')
  list.addAddress('::1', 'ipv6')
  return (privateAddresses = list)
}

const IPV4 = /^(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$/

/**
 * isInsecureByDefault is true for registries that get plain-HTTP fallback without
 * `--insecure`, as crane does: `localhost`, `*.localhost`, `*.local`, loopback
 * (127.0.0.0/8, ::1) and RFC 1918 private addresses (10/8, 172.16/12, 192.168/16).
 * host may carry a port and IPv6 brackets.
 */
export function isInsecureByDefault(host: string): boolean {
  let h = host.trim().toLowerCase()
  if (h.startsWith('[')) {
    const end = h.indexOf(']')
    h = h.slice(1, end === -1 ? undefined : end)
  } else if (h.indexOf(':') !== -1 && h.indexOf(':') === h.lastIndexOf(':')) {
    h = h.slice(0, h.indexOf(':'))
  }
  if (h === 'localhost' || h.endsWith('.localhost') || h.endsWith('.local')) return true
  if (IPV4.test(h)) return privateRanges().check(h, 'ipv4')
  if (isIPv6(h)) return privateRanges().check(h, 'ipv6')
  return false
}
