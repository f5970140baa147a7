/**
 * location: how users name where an image lives, in skopeo's transport syntax:
 *   registry reference (`host/repo:tag`, `docker://host/repo:tag`)
 *   `oci:DIR[:TAG]`, `oci-archive:FILE[:TAG]`, `docker-archive:FILE[:REF]`, `dir:DIR`
 * `-` as the FILE of an archive means stdout when writing (reading needs random access).
 */
import {UsageError} from '../errors.js'
import {type Reference, parseReference} from '../name/reference.js'

export type Location =
  | {kind: 'registry'; ref: Reference}
  | {kind: 'oci'; path: string; tag?: string}
  | {kind: 'oci-archive'; path: string; tag?: string}
  | {kind: 'docker-archive'; path: string; ref?: string; legacy?: boolean}
  | {kind: 'dir'; path: string}

const TAG = /^[\w][\w.-]{0,127}$/

/** parseLocation reads a SRC or DST argument. */
export function parseLocation(input: string): Location {
  const m = /^(docker|oci|oci-archive|docker-archive|dir):(.*)$/.exec(input)
  if (!m) return {kind: 'registry', ref: parseReference(input)}
  const [, transport, rest] = m
  if (rest === '') throw new UsageError(`invalid location "${input}": ${transport}: needs a ${transport === 'docker' ? 'reference' : 'path'}`)
  switch (transport) {
    case 'docker':
      return {kind: 'registry', ref: parseReference(rest.replace(/^\/\//, ''))}
    case 'dir':
      return {kind: 'dir', path: rest}
    case 'oci':
    case 'oci-archive': {
      const {path, suffix} = splitSuffix(rest)
      if (suffix !== undefined && !TAG.test(suffix)) throw new UsageError(`invalid location "${input}": "${suffix}" is not a valid tag`)
      return {kind: transport, path, tag: suffix}
    }
    default: {
      // docker-archive:FILE[:REF] where REF is a reference like repo:tag; FILE has no colon
      const colon = rest.indexOf(':')
      if (colon < 0) return {kind: 'docker-archive', path: rest}
      const ref = rest.slice(colon + 1)
      if (ref !== '') parseReference(ref) // validates; kept as written
      return {kind: 'docker-archive', path: rest.slice(0, colon), ref: ref || undefined}
    }
  }
}

/** splitSuffix splits `path:tag` at the last colon, unless what follows is a path. */
function splitSuffix(s: string): {path: string; suffix?: string} {
  const i = s.lastIndexOf(':')
  if (i <= 0 || s.slice(i + 1).includes('/')) return {path: s}
  return {path: s.slice(0, i), suffix: s.slice(i + 1)}
}

/** describe renders a location as users write it. */
export function describeLocation(l: Location): string {
  switch (l.kind) {
    case 'registry':
      return l.ref.toString()
    case 'dir':
      return `dir:${l.path}`
    case 'docker-archive':
      return `docker-archive:${l.path}${l.ref ? `:${l.ref}` : ''}`
    default:
      return `${l.kind}:${l.path}${l.tag ? `:${l.tag}` : ''}`
  }
}
