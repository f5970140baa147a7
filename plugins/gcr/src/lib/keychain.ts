/**
 * GcrKeychain: credentials for gcr.io, *.gcr.io and *-docker.pkg.dev (plus the hosts in
 * OCITOOL_GCR_HOSTS, comma-separated: proxies, tests), as the user `oauth2accesstoken` with an
 * OAuth2 access token from, in order:
 *  1. application default credentials (google-auth-library), when GOOGLE_APPLICATION_CREDENTIALS
 *     is set or gcloud's application_default_credentials.json exists (the GCE metadata server is
 *     not probed: that would stall every run off Google Cloud);
 *  2. `gcloud auth print-access-token`, when gcloud is on PATH.
 * A source that fails is a warning and the next is tried. Tokens are fetched once per process.
 */
import {execFile} from 'node:child_process'
import {existsSync} from 'node:fs'
import {homedir} from 'node:os'
import {delimiter, join} from 'node:path'
import type {auth} from 'ocitool'

export function isGoogleRegistry(registry: string, env: NodeJS.ProcessEnv = process.env): boolean {
  const host = registry.toLowerCase()
  const extra = (env.OCITOOL_GCR_HOSTS ?? '').split(',').map((h) => h.trim().toLowerCase()).filter(Boolean)
  if (extra.includes(host)) return true
  const name = host.replace(/:\d+$/, '')
  return name === 'gcr.io' || name.endsWith('.gcr.io') || /^[a-z0-9-]+-docker\.pkg\.dev$/.test(name)
}

function adcFile(env: NodeJS.ProcessEnv): string | undefined {
  if (env.GOOGLE_APPLICATION_CREDENTIALS) return env.GOOGLE_APPLICATION_CREDENTIALS
  const dir = env.CLOUDSDK_CONFIG ?? join(env.HOME ?? homedir(), '.config', 'gcloud')
  const f = join(dir, 'application_default_credentials.json')
  return existsSync(f) ? f : undefined
}

function onPath(cmd: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir && existsSync(join(dir, cmd))) return join(dir, cmd)
  }
  return undefined
}

async function fromAdc(file: string): Promise<string> {
  const {GoogleAuth} = await import('google-auth-library')
  const client = await new GoogleAuth({keyFilename: file, scopes: ['https://www.googleapis.com/auth/cloud-platform']}).getClient()
  const {token} = await client.getAccessToken()
  if (!token) throw new Error('no access token')
  return token
}

function fromGcloud(gcloud: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(gcloud, ['auth', 'print-access-token'], {timeout: 30_000}, (err, stdout, stderr) => {
      if (err) return reject(new Error(`gcloud auth print-access-token failed: ${String(stderr).trim().split('\n').pop() || err.message}`))
      const token = String(stdout).trim()
      if (!token) return reject(new Error('gcloud auth print-access-token printed nothing'))
      resolve(token)
    })
  })
}

export class GcrKeychain implements auth.Keychain {
  readonly name = 'gcr'
  private token?: Promise<{token: string; source: string} | undefined>

  constructor(
    private readonly warn: (m: string) => void,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  private async fetch(): Promise<{token: string; source: string} | undefined> {
    const file = adcFile(this.env)
    if (file) {
      try {
        return {token: await fromAdc(file), source: `application default credentials (${file})`}
      } catch (e) {
        this.warn(`gcr: application default credentials from ${file}: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}; skipped`)
      }
    }
    const gcloud = onPath('gcloud', this.env)
    if (gcloud) {
      try {
        return {token: await fromGcloud(gcloud), source: 'gcloud auth print-access-token'}
      } catch (e) {
        this.warn(`gcr: ${(e as Error).message}; skipped`)
      }
    }
    return undefined
  }

  async resolve(request: auth.KeychainRequest): Promise<auth.ResolvedCredential | undefined> {
    if (!isGoogleRegistry(request.registry, this.env)) return undefined
    this.token ??= this.fetch()
    const t = await this.token
    return t && {credential: {kind: 'basic', username: 'oauth2accesstoken', password: t.token}, source: t.source}
  }
}
