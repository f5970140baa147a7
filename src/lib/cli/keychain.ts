/**
 * keychain (cli): the default keychains plus those of plugins, asked through the oclif hook
 * `keychain`. A plugin's hook answers a Keychain (or a list of them); the hook runs only when a
 * registry actually asks for credentials the built-in keychains lack, and plugins' keychains
 * are asked in the order of their plugin names. A failing plugin is a warning, never fatal.
 */
import type {Config} from '@oclif/core'
import type {Keychain, KeychainRequest, ResolvedCredential} from '../auth/types.js'

/** What a `keychain` hook is called with. */
export interface KeychainHookOptions {
  registry: string
  scopes: string[]
}

/** The hooks ocitool defines for plugins (see docs/plugins.md). */
export interface OcitoolHooks {
  keychain: {
    options: KeychainHookOptions
    return: Keychain | Keychain[] | undefined
  }
}

/**
 * buildKeychain: flags → env → Docker config → containers auth → plugins. The keychain modules
 * load on the first question, so a command talking to an open registry never loads them.
 */
export function buildKeychain(opts: {
  /** oclif's Config, whose plugins' hooks are asked last; none: no plugin is installed (the quick path, ./lean.ts) */
  config?: Config
  flags?: {username: string; password: string}
  /** keychains asked first (copy's per-side credentials) */
  first?: Keychain[]
  warn: (m: string) => void
}): Keychain {
  let inner: Promise<Keychain> | undefined
  return {
    name: 'ocitool',
    async resolve(request) {
      inner ??= import('../auth/keychain.js').then(
        ({MultiKeychain, defaultKeychains}) =>
          new MultiKeychain([...defaultKeychains({flags: opts.flags, first: opts.first, log: opts.warn}), ...(opts.config ? [new PluginKeychain(opts.config, opts.warn)] : [])], {log: opts.warn}),
      )
      return (await inner).resolve(request)
    },
  }
}

/** PluginKeychain asks every plugin's `keychain` hook, then their keychains in plugin-name order. */
export class PluginKeychain implements Keychain {
  readonly name = 'plugins'

  constructor(
    private readonly config: Config,
    private readonly warn: (m: string) => void,
  ) {}

  async resolve(request: KeychainRequest): Promise<ResolvedCredential | undefined> {
    const hasHook = this.config.plugins && [...this.config.plugins.values()].some((p) => p.hooks?.keychain)
    if (!hasHook) return undefined
    const result = await this.config.runHook('keychain' as never, {registry: request.registry, scopes: request.scopes} as never, 30_000, true)
    const failures = (result as unknown as {failures: {plugin: {name: string}; error: Error}[]}).failures
    for (const f of failures) this.warn(`keychain of plugin ${f.plugin.name} failed: ${f.error.message}; skipped`)
    const successes = (result as unknown as {successes: {plugin: {name: string}; result: unknown}[]}).successes
    const sorted = [...successes].sort((a, b) => a.plugin.name.localeCompare(b.plugin.name))
    for (const s of sorted) {
      const keychains = (Array.isArray(s.result) ? s.result : [s.result]).filter(isKeychain)
      for (const k of keychains) {
        try {
          const answer = await k.resolve(request)
          if (answer) return {...answer, source: `plugin ${s.plugin.name}: ${answer.source}`}
        } catch (e) {
          this.warn(`keychain ${k.name} of plugin ${s.plugin.name} failed: ${e instanceof Error ? e.message : String(e)}; skipped`)
        }
      }
    }
    return undefined
  }
}

function isKeychain(x: unknown): x is Keychain {
  return typeof x === 'object' && x !== null && typeof (x as Keychain).resolve === 'function'
}
