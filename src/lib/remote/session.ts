/**
 * session: the registries one operation talks to. One HTTP client (keep-alive agents) and one
 * transport per registry, so tokens and the scheme are learnt once per registry per run.
 */
import type {Keychain} from '../auth/types.js'
import {type ListLimits, RepositoryClient, eachCatalogPage} from './registry.js'
import {RegistryTransport} from './transport/client.js'
import {HttpClient, type HttpOptions} from './transport/http.js'

export interface RemoteOptions extends HttpOptions {
  keychain?: Keychain
  /** shown once: registry Warning headers and non-fatal problems */
  warn?: (message: string) => void
  /** an open session to run in (batch mode: many operations, one connection pool and token cache) */
  session?: Session
  /** settings of particular registries, by host[:port] as named (sync --config) */
  registries?: Record<string, RegistrySettings>
  /** host[:port] every token request goes to instead of the realm's host (python-dxf's DXF_AUTH_HOST) */
  authHost?: string
}

/** RegistrySettings: how one registry is treated (sync's config file, `registries:`). */
export interface RegistrySettings {
  /** plain HTTP allowed, TLS not verified (false: verified even under --insecure) */
  insecure?: boolean
  /** PEM files of CAs trusted for this registry (skopeo's --src-cert-dir/--dest-cert-dir `*.crt`) */
  caFiles?: string[]
  /** requests awaiting an answer at most */
  concurrency?: number
  /** requests started per second at most */
  requestsPerSecond?: number
  /** uploads to this registry in PATCH chunks of this many bytes */
  chunkSize?: number
}

/** Where a repository lives: as a Reference from name/reference has it. */
export interface RepositoryLocation {
  registry: string
  apiHost: string
  repository: string
}

export class Session {
  readonly http: HttpClient
  private readonly transports = new Map<string, RegistryTransport>()

  constructor(readonly options: RemoteOptions = {}) {
    this.http = new HttpClient(options)
  }

  transport(registry: string, apiHost = registry): RegistryTransport {
    let t = this.transports.get(registry)
    if (!t) {
      const own = this.options.registries?.[registry]
      const tls = own && (own.insecure !== undefined || own.caFiles?.length) ? {insecure: own.insecure, caFiles: own.caFiles} : undefined
      t = new RegistryTransport(registry, apiHost, {
        http: this.http,
        keychain: this.options.keychain,
        insecure: own?.insecure ?? this.options.insecure,
        tls,
        warn: this.options.warn,
        maxInFlight: this.options.registries?.[registry]?.concurrency,
        requestsPerSecond: this.options.registries?.[registry]?.requestsPerSecond,
        authHost: this.options.authHost,
      })
      this.transports.set(registry, t)
    }
    return t
  }

  /**
   * warm starts learning a registry's scheme and challenge now (its ping), so a destination is
   * ready when the source has been read; a failure surfaces at the first real request.
   */
  warm(loc: Pick<RepositoryLocation, 'registry' | 'apiHost'>): void {
    this.transport(loc.registry, loc.apiHost).base().catch(() => {})
  }

  repository(loc: RepositoryLocation): RepositoryClient {
    return new RepositoryClient(this.transport(loc.registry, loc.apiHost), loc.repository)
  }

  /** eachCatalogPage hands the registry's repository names to `onPage` a page at a time. */
  eachCatalogPage(registry: string, apiHost: string, onPage: (repositories: string[]) => void, limits: ListLimits = {}): Promise<void> {
    return eachCatalogPage(this.transport(registry, apiHost), onPage, limits)
  }

  close(): void {
    this.http.close()
  }
}

/** withSession runs `fn` with a new session and always closes it (or in `options.session`, left open). */
export async function withSession<T>(options: RemoteOptions, fn: (s: Session) => Promise<T>): Promise<T> {
  // a caller's session is the caller's to close
  if (options.session) return fn(options.session)
  const s = new Session(options)
  try {
    return await fn(s)
  } finally {
    s.close()
  }
}
