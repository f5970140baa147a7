/**
 * platform: parsing, printing and matching of image platforms, and picking an index
 * child by platform.
 *
 * Syntax (crane's `--platform`): `os/arch[/variant][:os.version]`, for example
 * `linux/amd64`, `linux/arm64/v8`, `windows/amd64:10.0.17763.1234`. Unlike crane, a bare
 * `os` is refused: it matches every architecture, which is rarely what a user meant. The
 * value `all` is a flag value, not a platform: callers handle it before parsing.
 *
 * Matching (`platformMatches`) follows crane's `Satisfies` with containerd's
 * normalisation: fields missing from `want` match anything; architectures are normalised
 * (x86_64 → amd64, aarch64 → arm64, …); a variant missing from `have` takes its
 * architecture's default before comparing (arm64 → v8, arm → v7, amd64 → v1), so
 * `linux/arm64/v8` finds an entry written as plain `linux/arm64`, and `linux/arm/v7` finds
 * plain `linux/arm` (containerd also reads a bare arm as v7). `os.version` must be equal
 * when wanted; wanted `os.features` and `features` must all be present.
 */
import {UsageError} from '../errors.js'
import type {Descriptor, ImageConfig, ImageIndex, Platform} from './types.js'

const PART = /^[A-Za-z0-9_.+-]+$/

function bad(input: string, problem: string): UsageError {
  return new UsageError(`invalid platform ${JSON.stringify(input)}: ${problem}`, {
    suggestions: ['a platform is os/arch[/variant][:os.version], for example linux/amd64 or linux/arm64/v8'],
  })
}

/** parsePlatform parses `os/arch[/variant][:os.version]` or `os` (any architecture); it throws UsageError naming the problem. */
export function parsePlatform(input: string): Platform {
  const s = input.trim()
  if (s === '') throw bad(input, 'must not be empty')
  const colon = s.indexOf(':')
  const path = colon === -1 ? s : s.slice(0, colon)
  const osVersion = colon === -1 ? undefined : s.slice(colon + 1)
  if (osVersion !== undefined) {
    if (osVersion === '') throw bad(input, 'os.version after ":" is empty')
    if (!PART.test(osVersion)) throw bad(input, `os.version ${JSON.stringify(osVersion)} has invalid characters`)
  }
  const parts = path.split('/')
  // `linux` alone (crane's OS-only form) matches any architecture: architecture '' is "any"
  if (parts.length === 1 && osVersion === undefined) {
    if (!PART.test(parts[0]!)) throw bad(input, `os ${JSON.stringify(parts[0])} has invalid characters`)
    return {os: parts[0]!, architecture: ''}
  }
  if (parts.length === 1) throw bad(input, 'architecture is missing')
  if (parts.length > 3) throw bad(input, 'too many "/" (want os/arch[/variant])')
  const names = ['os', 'architecture', 'variant']
  parts.forEach((p, i) => {
    if (p === '') throw bad(input, `${names[i]} is empty`)
    if (!PART.test(p)) throw bad(input, `${names[i]} ${JSON.stringify(p)} has invalid characters`)
  })
  return {
    os: parts[0]!,
    architecture: parts[1]!,
    ...(parts[2] === undefined ? {} : {variant: parts[2]}),
    ...(osVersion === undefined ? {} : {'os.version': osVersion}),
  }
}

/** formatPlatform prints a platform the way `parsePlatform` reads it: `os/arch[/variant][:os.version]`. */
export function formatPlatform(p: Platform): string {
  if (!p.architecture) return p.os
  let s = `${p.os}/${p.architecture}`
  if (p.variant) s += `/${p.variant}`
  if (p['os.version']) s += `:${p['os.version']}`
  return s
}

const ARCH_ALIASES: Readonly<Record<string, {architecture: string; variant?: string}>> = {
  'x86_64': {architecture: 'amd64'},
  'x86-64': {architecture: 'amd64'},
  'aarch64': {architecture: 'arm64'},
  'armhf': {architecture: 'arm', variant: 'v7'},
  'armel': {architecture: 'arm', variant: 'v6'},
  'i386': {architecture: '386'},
  'i686': {architecture: '386'},
  'x86': {architecture: '386'},
}

const DEFAULT_VARIANT: Readonly<Record<string, string>> = {arm64: 'v8', arm: 'v7', amd64: 'v1'}

function normalArch(p: Pick<Platform, 'architecture' | 'variant'>): {architecture: string; variant?: string} {
  const arch = p.architecture.toLowerCase()
  const alias = ARCH_ALIASES[arch]
  const architecture = alias?.architecture ?? arch
  let variant = p.variant ? p.variant.toLowerCase() : alias?.variant
  // "8" and "v8" are both written in the wild for arm variants.
  if (variant !== undefined && /^[0-9]+$/.test(variant) && (architecture === 'arm' || architecture === 'arm64')) {
    variant = `v${variant}`
  }
  return variant === undefined ? {architecture} : {architecture, variant}
}

function normalOs(os: string): string {
  const o = os.toLowerCase()
  return o === 'macos' ? 'darwin' : o
}

function includesAll(want: readonly string[] | undefined, have: readonly string[] | undefined): boolean {
  if (!want || want.length === 0) return true
  const set = new Set(have ?? [])
  return want.every((w) => set.has(w))
}

/** platformMatches is true when `have` (from an index or a config) satisfies `want` (from the user). */
export function platformMatches(want: Platform, have: Platform): boolean {
  if (want.os && normalOs(want.os) !== normalOs(have.os ?? '')) return false
  const w = normalArch(want)
  const h = normalArch({architecture: have.architecture ?? '', variant: have.variant})
  if (want.architecture && w.architecture !== h.architecture) return false
  if (w.variant !== undefined) {
    const haveVariant = h.variant ?? DEFAULT_VARIANT[h.architecture]
    if (w.variant !== haveVariant) return false
  }
  if (want['os.version'] && want['os.version'] !== have['os.version']) return false
  return includesAll(want['os.features'], have['os.features']) && includesAll(want.features, have.features)
}

/**
 * selectManifest returns the first child of index whose platform matches, in index order
 * (as crane and containerd do), or undefined. Children without a platform are skipped;
 * so are BuildKit attestation manifests, whose platform is `unknown/unknown`.
 */
export function selectManifest(index: ImageIndex, platform: Platform): Descriptor | undefined {
  return index.manifests.find((d) => d.platform !== undefined && platformMatches(platform, d.platform))
}

/** platformOf returns the platform an image config declares. */
export function platformOf(config: ImageConfig): Platform {
  return {
    os: config.os,
    architecture: config.architecture,
    ...(config.variant ? {variant: config.variant} : {}),
    ...(config['os.version'] ? {'os.version': config['os.version']} : {}),
    ...(config['os.features'] ? {'os.features': config['os.features']} : {}),
  }
}
