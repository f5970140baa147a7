/**
 * auth/types: what a keychain answers for a registry host.
 *
 * A credential is one of:
 *  - basic: a username and password (sent as Basic, or exchanged for a bearer token);
 *  - identityToken: an OAuth2 refresh token (Docker's `identitytoken`), exchanged at the
 *    token endpoint with `grant_type=refresh_token`;
 *  - registryToken: a bearer token used as it is (Docker's `registrytoken`, `DXF_TOKEN`);
 *  - accessToken: an identity provider's OAuth2 access token (`ACCESS_TOKEN`, as appendlayer
 *    and Azure Container Registry use it): exchanged at the token realm's sibling `exchange`
 *    endpoint (ACR's `/oauth2/exchange`) for a refresh token, then as identityToken; a realm
 *    without that endpoint (404/405) gets it as a bearer token as it is.
 */
export type Credential =
  | {kind: 'basic'; username: string; password: string}
  | {kind: 'identityToken'; token: string; username?: string}
  | {kind: 'registryToken'; token: string}
  | {kind: 'accessToken'; token: string}

/** Where a credential came from, for `--verbose` and `auth get` (never the secret itself). */
export interface ResolvedCredential {
  credential: Credential
  source: string
}

export interface KeychainRequest {
  /** registry host as users write it, with port: `127.0.0.1:5000`, `registry-1.docker.io`. */
  registry: string
  /** scopes the operation wants, e.g. `repository:library/ubuntu:pull`. May be empty. */
  scopes: string[]
}

/** Keychain: one source of credentials. Answers undefined when it has nothing for the host. */
export interface Keychain {
  readonly name: string
  resolve(request: KeychainRequest): Promise<ResolvedCredential | undefined>
}

/** Environment variables as keychains read them (`process.env` by default; tests pass their own). */
export type Env = Readonly<Record<string, string | undefined>>

/** Warnings go through this callback: the core never prints. */
export type LogFn = (msg: string) => void
