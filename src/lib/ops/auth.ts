/** auth: log in (checking the credentials against the registry first), log out, show what would be sent. */
import {StaticKeychain} from '../auth/static.js'
import {removeCredential, saveCredential} from '../auth/docker-config.js'
import type {Keychain, ResolvedCredential} from '../auth/types.js'
import {AuthError, NotFoundError, UsageError} from '../errors.js'
import {type RemoteOptions, withSession} from '../remote/session.js'
import {drain} from '../remote/transport/http.js'
import {repositoryScope} from '../remote/transport/scope.js'
import type {Reference, Repository} from '../name/reference.js'

export interface LoginOptions extends RemoteOptions {
  /** skip asking the registry whether the credentials work */
  noVerify?: boolean
}

/** login checks username/password against `registry` (as `docker login` does), then stores them. */
export async function login(registry: string, apiHost: string, cred: {username: string; password: string}, options: LoginOptions): Promise<{location: string}> {
  if (!options.noVerify) {
    const keychain = new StaticKeychain({registry, username: cred.username, password: cred.password})
    await withSession({...options, keychain}, async (s) => {
      const t = s.transport(registry, apiHost)
      await t.base()
      if (!t.auth.scheme) return // the registry asks for no credentials
      const res = await t.request({method: 'GET', path: '/v2/', scopes: [], expect: [200], context: {subject: registry}})
      await drain(res.body)
    })
  }
  return saveCredential(registry, cred)
}

export function logout(registry: string): Promise<{location: string; removed: boolean}> {
  return removeCredential(registry)
}

/** get answers what the keychain holds for `registry`, in a credential helper's shape. */
export async function get(registry: string, keychain: Keychain): Promise<{ServerURL: string; Username: string; Secret: string; source: string}> {
  const found: ResolvedCredential | undefined = await keychain.resolve({registry, scopes: []})
  if (!found) throw new NotFoundError(`credentials not found for ${registry}`, {code: 'NO_CREDENTIALS'})
  const c = found.credential
  const [Username, Secret] = c.kind === 'basic' ? [c.username, c.password] : c.kind === 'identityToken' ? ['<token>', c.token] : ['', c.token]
  return {ServerURL: registry, Username, Secret, source: found.source}
}

export interface TokenOptions extends RemoteOptions {
  push?: boolean
  /** the actions asked for on the repository (python-dxf's `auth REPO ACTION...`), instead of pull[+push] */
  actions?: Array<'pull' | 'push' | 'delete' | '*'>
  mount?: Repository[]
}

/** token gets the Authorization value the registry wants for pulling (and pushing) `repo`. */
export async function token(repo: Repository | Reference, options: TokenOptions): Promise<{header: string; scheme: string; token?: string}> {
  return withSession(options, async (s) => {
    const t = s.transport(repo.registry, repo.apiHost)
    await t.base()
    const actions = options.actions?.length ? options.actions : options.push ? (['pull', 'push'] as const) : (['pull'] as const)
    const scopes = [repositoryScope(repo.repository, ...actions)]
    for (const m of options.mount ?? []) {
      if (m.registry !== repo.registry) throw new UsageError(`--mount ${m.name}: must be on ${repo.registry}`)
      scopes.push(repositoryScope(m.repository, 'pull'))
    }
    if (!t.auth.scheme) throw new AuthError(`${repo.registry}: the registry asks for no credentials; there is no token to get`, {code: 'NO_AUTH'})
    const header = await t.auth.header(scopes)
    if (!header) throw new AuthError(`unauthorized: ${repo.registry}: no credentials for its ${t.auth.scheme} authentication (ocitool auth login ${repo.registry})`)
    const [scheme, value] = header.split(' ', 2)
    return {header, scheme: scheme.toLowerCase(), token: scheme === 'Bearer' ? value : undefined}
  })
}
