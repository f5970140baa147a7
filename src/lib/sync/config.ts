/**
 * config: `sync --config FILE.yaml`, many sources in one run, with per-registry settings:
 *
 *   registries:
 *     registry.example.com: {concurrency: 8, requests-per-second: 20, chunk-size: 16777216}
 *     mirror.internal:5000: {insecure: true}
 *   defaults: {digest-tags: false}          # applied to every source
 *   sources:
 *     - src: registry.example.com/team/
 *       dst: mirror.internal:5000/team/
 *       include: ['v.*']
 *       exclude: ['.*-rc.*']
 *       semver: '>=1.0'
 *       newest: 5
 *       newest-by: created                  # or semver (the default)
 *       platforms: [linux/amd64, linux/arm64]   # or all
 *       referrers: true
 *
 * Unknown keys are errors (a typo must not silently copy everything).
 */
import * as fs from 'node:fs'
import {parse as parseYaml} from 'yaml'
import {UsageError} from '../errors.js'
import {parsePlatform} from '../oci/platform.js'
import type {RegistrySettings} from '../remote/session.js'
import {compileFilter} from './filters.js'
import type {SyncSpec} from './spec.js'

export interface SyncConfig {
  specs: SyncSpec[]
  registries: Record<string, RegistrySettings>
}

const SOURCE_KEYS = ['src', 'dst', 'include', 'exclude', 'semver', 'newest', 'newest-by', 'platforms', 'referrers', 'digest-tags']
const REGISTRY_KEYS = ['insecure', 'concurrency', 'requests-per-second', 'chunk-size']

/** loadConfig reads and checks a sync config file. */
export function loadConfig(file: string): SyncConfig {
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch (e) {
    throw new UsageError(`config ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`)
  }
  let doc: unknown
  try {
    doc = parseYaml(text)
  } catch (e) {
    throw new UsageError(`config ${file}: not valid YAML: ${(e as Error).message.split('\n')[0]}`)
  }
  return parseConfig(doc, file)
}

export function parseConfig(doc: unknown, file: string): SyncConfig {
  const top = object(doc, file)
  keys(top, ['sources', 'registries', 'defaults'], file)
  const defaults = top.defaults === undefined ? {} : object(top.defaults, `${file}: defaults`)
  keys(defaults, SOURCE_KEYS.filter((k) => k !== 'src' && k !== 'dst'), `${file}: defaults`)
  if (!Array.isArray(top.sources) || top.sources.length === 0) throw new UsageError(`config ${file}: "sources" must be a list of at least one {src, dst}`)
  const specs = top.sources.map((s, i) => {
    const where = `${file}: sources[${i}]`
    const o = {...defaults, ...object(s, where)}
    keys(o, SOURCE_KEYS, where)
    return source(o, where)
  })
  const registries: Record<string, RegistrySettings> = {}
  const regs = top.registries === undefined ? {} : object(top.registries, `${file}: registries`)
  for (const [host, v] of Object.entries(regs)) {
    const where = `${file}: registries.${host}`
    const o = object(v ?? {}, where)
    keys(o, REGISTRY_KEYS, where)
    registries[host] = {
      ...(o.insecure !== undefined ? {insecure: bool(o.insecure, `${where}.insecure`)} : {}),
      ...(o.concurrency !== undefined ? {concurrency: int(o.concurrency, `${where}.concurrency`)} : {}),
      ...(o['requests-per-second'] !== undefined ? {requestsPerSecond: num(o['requests-per-second'], `${where}.requests-per-second`)} : {}),
      ...(o['chunk-size'] !== undefined ? {chunkSize: int(o['chunk-size'], `${where}.chunk-size`)} : {}),
    }
  }
  return {specs, registries}
}

function source(o: Record<string, unknown>, where: string): SyncSpec {
  const spec: SyncSpec = {src: str(o.src, `${where}.src`), dst: str(o.dst, `${where}.dst`)}
  if (o.include !== undefined) spec.include = strings(o.include, `${where}.include`)
  if (o.exclude !== undefined) spec.exclude = strings(o.exclude, `${where}.exclude`)
  if (o.semver !== undefined) spec.semver = String(o.semver)
  if (o.newest !== undefined) spec.newest = int(o.newest, `${where}.newest`)
  if (o['newest-by'] !== undefined) {
    if (o['newest-by'] !== 'semver' && o['newest-by'] !== 'created') throw new UsageError(`config ${where}.newest-by: semver or created`)
    spec.newestBy = o['newest-by']
  }
  if (o.platforms !== undefined) spec.platforms = o.platforms === 'all' ? 'all' : strings(o.platforms, `${where}.platforms`).map((p) => parsePlatform(p))
  if (o.referrers !== undefined) spec.referrers = bool(o.referrers, `${where}.referrers`)
  if (o['digest-tags'] !== undefined) spec.digestTags = bool(o['digest-tags'], `${where}.digest-tags`)
  try {
    compileFilter(spec)
  } catch (e) {
    throw new UsageError(`config ${where}: ${(e as Error).message}`)
  }
  return spec
}

function object(v: unknown, where: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new UsageError(`config ${where}: expected a mapping`)
  return v as Record<string, unknown>
}

function keys(o: Record<string, unknown>, allowed: string[], where: string): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) throw new UsageError(`config ${where}: unknown key "${k}" (known: ${allowed.join(', ')})`)
}

function str(v: unknown, where: string): string {
  if (typeof v !== 'string' || v === '') throw new UsageError(`config ${where}: expected a string`)
  return v
}

function strings(v: unknown, where: string): string[] {
  const list = Array.isArray(v) ? v : [v]
  return list.map((x, i) => (typeof x === 'string' || typeof x === 'number' ? String(x) : str(undefined, `${where}[${i}]`)))
}

function int(v: unknown, where: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new UsageError(`config ${where}: expected a whole number ≥ 1`)
  return v
}

function num(v: unknown, where: string): number {
  if (typeof v !== 'number' || !(v > 0)) throw new UsageError(`config ${where}: expected a number > 0`)
  return v
}

function bool(v: unknown, where: string): boolean {
  if (typeof v !== 'boolean') throw new UsageError(`config ${where}: expected true or false`)
  return v
}
