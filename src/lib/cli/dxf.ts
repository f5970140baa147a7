/**
 * BlobStoreCommand: the base of the `blob` and `alias` commands, which python-dxf users reach
 * for. It reads dxf's environment where ocitool has the setting (flags win over it):
 *   DXF_HOST           the registry of a bare repository name (`fred/datalogger`)
 *   DXF_INSECURE=1     plain HTTP allowed (--insecure)
 *   DXF_SKIPTLSVERIFY=1  no TLS verification (--insecure)
 *   DXF_TLSVERIFY=FILE a CA bundle to trust (--ca-file); `false`/`0`: no TLS verification
 *   REQUESTS_CA_BUNDLE=FILE  the CA bundle when DXF_TLSVERIFY names none (dxf's requests reads it)
 *   DXF_USERNAME, DXF_PASSWORD  credentials (--username/--password)
 *   DXF_AUTHORIZATION  an Authorization value: `Basic …` (user:password) or `Bearer …` (a token)
 *   DXF_TOKEN          a bearer token (`DXF_TOKEN=$(ocitool auth REPO pull)`), ahead of the others
 *   DXF_PLATFORM       the platform of a multi-platform alias (--platform)
 *   DXF_BLOB_INFO=1    `blob pull` writes `DIGEST SIZE` before each blob
 *   DXF_PROGRESS       1: progress on stderr, 0: none, else when stderr is a terminal
 *   DXF_CHUNK_SIZE=N   `blob pull` hands each blob on in pieces of N bytes (dxf's iter_content)
 *   DXF_AUTH_HOST=H    token requests go to H (host[:port]) instead of the realm's host, as dxf
 */
import {Flags} from '@oclif/core'
import type {Keychain} from '../auth/types.js'
import {UsageError} from '../errors.js'
import {parseRepository, type Repository} from '../name/reference.js'
import {parsePlatform} from '../oci/platform.js'
import type {Platform} from '../oci/types.js'
import type {RemoteOptions} from '../remote/session.js'
import {OcitoolCommand} from './command.js'
import {checkCaFiles} from './run-context.js'

type Env = Readonly<Record<string, string | undefined>>

const set = (env: Env, name: string): string | undefined => (env[name] === undefined || env[name] === '' ? undefined : env[name])

/** dxfCredential reads DXF_TOKEN, DXF_USERNAME/DXF_PASSWORD or DXF_AUTHORIZATION as a static keychain (DXF_TOKEN not for `auth`). */
export function dxfKeychain(env: Env, fallback: Keychain, opts: {token?: boolean} = {}): Keychain {
  const token = opts.token === false ? undefined : set(env, 'DXF_TOKEN')
  const username = set(env, 'DXF_USERNAME')
  const password = set(env, 'DXF_PASSWORD')
  const authorization = set(env, 'DXF_AUTHORIZATION')
  return {
    name: 'dxf-env',
    async resolve(request) {
      if (token !== undefined) return {credential: {kind: 'registryToken', token}, source: 'env DXF_TOKEN'}
      if (username !== undefined && password !== undefined) return {credential: {kind: 'basic', username, password}, source: 'env DXF_USERNAME/DXF_PASSWORD'}
      if (authorization !== undefined) {
        const [scheme, value = ''] = authorization.trim().split(/\s+/, 2)
        if (/^basic$/i.test(scheme)) {
          const decoded = Buffer.from(value, 'base64').toString('utf8')
          const colon = decoded.indexOf(':')
          if (colon < 0) throw new UsageError('DXF_AUTHORIZATION: a Basic value is base64 of user:password', {code: 'BAD_AUTHORIZATION'})
          return {credential: {kind: 'basic', username: decoded.slice(0, colon), password: decoded.slice(colon + 1)}, source: 'env DXF_AUTHORIZATION'}
        }
        if (/^bearer$/i.test(scheme) && value) return {credential: {kind: 'registryToken', token: value}, source: 'env DXF_AUTHORIZATION'}
        throw new UsageError('DXF_AUTHORIZATION: expected "Basic …" or "Bearer …"', {code: 'BAD_AUTHORIZATION'})
      }
      return fallback.resolve(request)
    },
  }
}

/** --progress without a default, so DXF_PROGRESS can stand in when it is not given */
export const progressFlag = Flags.string({
  description: 'progress on stderr: auto (a spinner on a terminal), tty, json (one event per line), none (default from DXF_PROGRESS, else auto)',
  options: ['auto', 'tty', 'json', 'none'],
})

export abstract class BlobStoreCommand extends OcitoolCommand {
  protected readonly dxfEnv: Env = process.env

  /** repository parses REPO; a bare name (no registry host) is on DXF_HOST when it is set. */
  protected repository(arg: string): Repository {
    const host = set(this.dxfEnv, 'DXF_HOST')
    return parseRepository(arg, host ? {defaultRegistry: host} : {})
  }

  /** platform: --platform, else DXF_PLATFORM. */
  protected dxfPlatform(flag?: string): Platform | undefined {
    const p = flag ?? set(this.dxfEnv, 'DXF_PLATFORM')
    return p ? parsePlatform(p) : undefined
  }

  /** progressMode: --progress, else DXF_PROGRESS (1 tty, 0 none, else auto). */
  protected dxfProgress(flag?: string): string | undefined {
    if (flag !== undefined) return flag
    const p = set(this.dxfEnv, 'DXF_PROGRESS')
    return p === '1' ? 'tty' : p === '0' ? 'none' : undefined
  }

  /** dxfChunkSize: DXF_CHUNK_SIZE, a positive whole number of bytes (a usage error otherwise). */
  protected dxfChunkSize(): number | undefined {
    const v = set(this.dxfEnv, 'DXF_CHUNK_SIZE')
    if (v === undefined) return undefined
    if (!/^[1-9]\d{0,9}$/.test(v.trim())) throw new UsageError(`DXF_CHUNK_SIZE=${v.slice(0, 40)}: expected a positive number of bytes`, {code: 'BAD_CHUNK_SIZE'})
    return Number(v.trim())
  }

  protected dxfBlobInfo(): boolean {
    return set(this.dxfEnv, 'DXF_BLOB_INFO') === '1'
  }

  /** storeOptions: remoteOptions with dxf's environment beneath the flags (DXF_TOKEN unless `token: false`). */
  protected storeOptions(opts: {token?: boolean} = {}): RemoteOptions {
    const base = this.remoteOptions()
    const env = this.dxfEnv
    const tls = set(env, 'DXF_TLSVERIFY')
    const noVerify = tls !== undefined && ['false', '0'].includes(tls.toLowerCase())
    const insecure = base.insecure || noVerify || set(env, 'DXF_INSECURE') === '1' || set(env, 'DXF_SKIPTLSVERIFY') === '1'
    const tlsFile = tls && !noVerify && tls !== '1' && tls.toLowerCase() !== 'true' ? tls : undefined
    const bundle = tlsFile ? undefined : set(env, 'REQUESTS_CA_BUNDLE')
    const caFiles = base.caFiles ?? (tlsFile ? [tlsFile] : bundle ? [bundle] : undefined)
    if (!base.caFiles) checkCaFiles(caFiles, tlsFile ? 'DXF_TLSVERIFY' : 'REQUESTS_CA_BUNDLE')
    const flagsGiven = this.argv.some((a) => a === '--username' || a.startsWith('--username='))
    const keychain = base.keychain && !flagsGiven ? dxfKeychain(env, base.keychain, opts) : base.keychain
    const authHost = set(env, 'DXF_AUTH_HOST')
    if (authHost !== undefined && !/^[\w.-]+(:\d{1,5})?$|^\[[\da-fA-F:.]+\](:\d{1,5})?$/.test(authHost)) {
      throw new UsageError(`DXF_AUTH_HOST=${authHost.slice(0, 80)}: expected HOST or HOST:PORT`, {code: 'BAD_AUTH_HOST'})
    }
    return {...base, insecure, caFiles, keychain, ...(authHost ? {authHost} : {})}
  }
}
