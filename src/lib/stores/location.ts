/**
 * location: how users name where an image lives, in skopeo's transport syntax. This is the one
 * place store names are parsed; every command taking an image or a destination comes here.
 *
 *   registry reference       host/repo:tag, host/repo@sha256:…, docker://host/repo:tag
 *   oci:PATH[:REF]           an OCI image layout directory; REF selects by
 *                            `org.opencontainers.image.ref.name` (`1.0`, `localhost/app:1`)
 *   oci-archive:PATH[:REF]   the same layout in a tar file
 *   docker-archive:PATH[:REF]  a `docker save` tar; REF is a RepoTag (`repo:tag`)
 *   dir:PATH                 a directory of loose files (skopeo's dir: transport)
 *
 * As skopeo does, PATH ends at its first colon and everything after it is REF, so REF may hold
 * colons itself: `oci:lay:myapp:1` is directory `lay`, image `myapp:1`. A colon inside PATH is
 * written `\:` (`oci:my\:dir:1` is directory `my:dir`, image `1`); `dir:` takes the whole rest.
 * `-` as the PATH of an archive is stdin (spooled to a temporary file) or stdout.
 */
import {UsageError} from '../errors.js'
import {type Reference, parseReference} from '../name/reference.js'

export type Location =
  | {kind: 'registry'; ref: Reference}
  | {kind: 'oci'; path: string; tag?: string}
  | {kind: 'oci-archive'; path: string; tag?: string}
  | {kind: 'docker-archive'; path: string; ref?: string; legacy?: boolean}
  | {kind: 'dir'; path: string}

/** The transports a store name may start with. */
export const TRANSPORTS = ['docker', 'oci', 'oci-archive', 'docker-archive', 'dir'] as const
const TRANSPORT = /^(docker|oci|oci-archive|docker-archive|dir):(.*)$/s

/**
 * An `org.opencontainers.image.ref.name` as skopeo accepts it in `oci:PATH:REF`: components of
 * alphanumerics joined by `-._:@+` (or `--`), separated by `/`.
 */
const COMPONENT = '[A-Za-z0-9]+(?:(?:[-._:@+]|--)[A-Za-z0-9]+)*'
const REF_NAME = new RegExp(`^${COMPONENT}(?:/${COMPONENT})*$`)

/** isStoreName: whether `input` starts with a transport (`oci:`, `docker-archive:`, …). */
export function isStoreName(input: string): boolean {
  return TRANSPORT.test(input)
}

/** parseLocation reads a SRC or DST argument. */
export function parseLocation(input: string): Location {
  const m = TRANSPORT.exec(input)
  if (!m) return {kind: 'registry', ref: parseReference(input)}
  const [, transport, rest] = m
  if (rest === '') throw new UsageError(`invalid location "${input}": ${transport}: needs a ${transport === 'docker' ? 'reference' : 'path'}`)
  switch (transport) {
    case 'docker':
      return {kind: 'registry', ref: parseReference(rest.replace(/^\/\//, ''))}
    case 'dir':
      return {kind: 'dir', path: unescapePath(rest)}
    case 'oci':
    case 'oci-archive': {
      const {path, ref} = splitPath(input, rest)
      if (ref !== undefined && !REF_NAME.test(ref)) {
        throw new UsageError(`invalid location "${input}": "${ref}" is not a valid image name in a layout`, {
          suggestions: [`a path with a colon is written with \\: (${transport}:my\\:dir:${ref})`],
        })
      }
      return {kind: transport, path, ...(ref === undefined ? {} : {tag: ref})}
    }
    default: {
      // docker-archive:PATH[:REF], REF a reference such as repo:tag (kept as written)
      const {path, ref} = splitPath(input, rest)
      if (ref !== undefined) {
        try {
          parseReference(ref)
        } catch (e) {
          throw new UsageError(`invalid location "${input}": "${ref}" is not a valid image reference`, {
            cause: e,
            suggestions: [`a path with a colon is written with \\: (docker-archive:my\\:file.tar:${ref})`],
          })
        }
      }
      return {kind: 'docker-archive', path, ...(ref === undefined ? {} : {ref})}
    }
  }
}

/**
 * fileLocation: a `--tarball` or PATH argument, either a store name (`oci-archive:FILE:REF`) or
 * a plain file path, taken as a docker archive (a path is taken whole: colons and all).
 */
export function fileLocation(input: string): Location {
  return isStoreName(input) ? parseLocation(input) : {kind: 'docker-archive', path: input}
}

/**
 * byDigestIn: where crane's `flatten IMG` and `index filter IMG` push without `-t`: the source's
 * own repository, by digest only (copy's `byDigest`). Only a registry source has one.
 */
export function byDigestIn(src: Location, what: string): Location {
  if (src.kind !== 'registry') throw new UsageError(`${what} ${describeLocation(src)}: a local image needs --tag (where to write the result)`)
  return {kind: 'registry', ref: src.ref.withTag(src.ref.tag ?? 'latest')}
}

/** splitPath splits `PATH[:REF]` at the first colon not written `\:`; an empty REF is none. */
function splitPath(input: string, rest: string): {path: string; ref?: string} {
  let path = ''
  for (let i = 0; i < rest.length; i++) {
    const c = rest[i]
    if (c === '\\' && rest[i + 1] === ':') {
      path += ':'
      i++
    } else if (c === ':') {
      if (path === '') throw new UsageError(`invalid location "${input}": no path before the colon`)
      const ref = rest.slice(i + 1)
      return ref === '' ? {path} : {path, ref}
    } else path += c
  }
  return {path}
}

function unescapePath(p: string): string {
  return p.replaceAll('\\:', ':')
}

function escapePath(p: string): string {
  return p.replaceAll(':', '\\:')
}

/** describeLocation renders a location as users write it (a colon in a path as `\:`). */
export function describeLocation(l: Location): string {
  switch (l.kind) {
    case 'registry':
      return l.ref.toString()
    case 'dir':
      return `dir:${l.path}`
    case 'docker-archive':
      return `docker-archive:${escapePath(l.path)}${l.ref ? `:${l.ref}` : ''}`
    default:
      return `${l.kind}:${escapePath(l.path)}${l.tag ? `:${l.tag}` : ''}`
  }
}
