/** flags: flag definitions shared by several commands, with crane's names. */
import {Flags} from '@oclif/core'
import {UsageError} from '../errors.js'
import {parsePlatform} from '../oci/platform.js'
import type {Platform} from '../oci/types.js'

/** --platform os/arch[/variant][:os.version]: picks a child of an index. */
export const platform = Flags.custom({
  description: 'pick the manifest for this platform from an index (os/arch[/variant])',
  helpValue: 'OS/ARCH[/VARIANT]',
  parse: async (input: string) => parsePlatform(input),
})

/**
 * --stderrthreshold: google/containerregistry's tools (puller, pusher, digester, flattener,
 * appender, importer) all take absl's log threshold; accepted so their command lines run as
 * written. ocitool's stderr holds only warnings, errors and progress, whatever the level.
 */
export const stderrThreshold = Flags.custom({
  description: "containerregistry's tools' log threshold (DEBUG, INFO, WARNING, ERROR, FATAL or 0-3): accepted for their command lines",
  helpValue: 'LEVEL',
  parse: async (input: string) => {
    if (!/^(debug|info|warning|error|fatal|-?[0-3])$/i.test(input)) throw new UsageError(`--stderrthreshold ${input.slice(0, 40)}: expected DEBUG, INFO, WARNING, ERROR, FATAL or 0-3`, {code: 'BAD_THRESHOLD'})
    return input.toUpperCase()
  },
})

/** --max-pages: how many pages of a listing (`ls`, `catalog`) are followed before giving up */
export const maxPages = Flags.integer({
  description: 'follow at most this many pages of the listing (0: no bound); a registry still naming a next page after them is an error (exit 5)',
  default: 1000,
  min: 0,
})

export const fullRef = Flags.boolean({description: 'print the full reference (registry/repository@digest or :tag)'})

/** --platform for transfers: one value, a comma list, or `all`, plus the puller's part flags. */
export const transferPlatformFlags = {
  platform: Flags.string({
    description: 'platform(s) to copy from an index: os/arch[/variant], a comma list, or "all" (the default copies an index whole)',
    helpValue: 'P[,P...]|all',
  }),
  'as-index': Flags.boolean({
    description: 'write the chosen platforms as a new index, even a single one (by default one platform is copied as that image)',
  }),
  os: Flags.string({description: 'platform by parts: operating system (with --architecture; instead of --platform)', helpGroup: 'PLATFORM', exclusive: ['platform']}),
  'os-version': Flags.string({description: 'platform by parts: os.version', helpGroup: 'PLATFORM', dependsOn: ['os']}),
  'os-features': Flags.string({description: 'platform by parts: os.features (comma list)', helpGroup: 'PLATFORM', dependsOn: ['os']}),
  architecture: Flags.string({description: 'platform by parts: CPU architecture', helpGroup: 'PLATFORM', dependsOn: ['os']}),
  variant: Flags.string({description: 'platform by parts: CPU variant', helpGroup: 'PLATFORM', dependsOn: ['architecture']}),
  features: Flags.string({description: 'platform by parts: CPU features (comma list)', helpGroup: 'PLATFORM', dependsOn: ['architecture']}),
}

/** platformsFrom turns the transfer platform flags into the engine's choice. */
export function platformsFrom(f: {platform?: string; os?: string; 'os-version'?: string; 'os-features'?: string; architecture?: string; variant?: string; features?: string}): Platform[] | 'all' | undefined {
  if (f.os) {
    if (!f.architecture) throw new UsageError('--os needs --architecture too')
    const list = (s?: string) => (s ? s.split(',').filter(Boolean) : undefined)
    return [{os: f.os, architecture: f.architecture, variant: f.variant, 'os.version': f['os-version'], 'os.features': list(f['os-features']), features: list(f.features)}]
  }
  if (!f.platform) return undefined
  if (f.platform === 'all') return 'all'
  return f.platform.split(',').map((p) => parsePlatform(p.trim()))
}

export const progress = Flags.string({
  description: 'progress on stderr: auto (a spinner on a terminal), tty, json (one event per line), none',
  options: ['auto', 'tty', 'json', 'none'],
  default: 'auto',
})

export const jobs = Flags.integer({char: 'j', description: 'blobs moved at once', default: 4, min: 1, max: 64})
