/**
 * K8sKeychain: registry credentials from Kubernetes pull secrets, as the kubelet finds them for a
 * pod: the imagePullSecrets of a service account plus explicitly named secrets, all read from the
 * namespace, through @kubernetes/client-node (in-cluster config, or KUBECONFIG / ~/.kube/config
 * and its current context).
 */
import {existsSync} from 'node:fs'
import {homedir} from 'node:os'
import {join} from 'node:path'
import type {auth} from 'ocitool'
import {lookup, parseSecret, type Entry} from './dockercfg.js'

export interface K8sOptions {
  /** default: OCITOOL_K8S_NAMESPACE, else `default` */
  namespace?: string
  /** default: OCITOOL_K8S_SERVICE_ACCOUNT, else `default`; `''` reads no service account */
  serviceAccount?: string
  /** default: OCITOOL_K8S_SECRETS (comma-separated) */
  secrets?: string[]
  warn: (message: string) => void
}

/** optionsFromEnv: the settings the keychain hook reads (it is only given a registry and scopes). */
export function optionsFromEnv(env: NodeJS.ProcessEnv, warn: (m: string) => void): K8sOptions {
  return {
    namespace: env.OCITOOL_K8S_NAMESPACE || undefined,
    serviceAccount: env.OCITOOL_K8S_SERVICE_ACCOUNT,
    secrets: env.OCITOOL_K8S_SECRETS ? env.OCITOOL_K8S_SECRETS.split(',').map((s) => s.trim()).filter(Boolean) : undefined,
    warn,
  }
}

/** hasClusterConfig: is there a cluster to ask at all? (Without one the keychain stays silent.) */
export function hasClusterConfig(env: NodeJS.ProcessEnv): boolean {
  if (env.OCITOOL_K8S_DISABLE) return false
  if (env.KUBERNETES_SERVICE_HOST && existsSync('/var/run/secrets/kubernetes.io/serviceaccount/token')) return true
  if (env.KUBECONFIG) return env.KUBECONFIG.split(':').some((f) => f && existsSync(f))
  return existsSync(join(env.HOME ?? homedir(), '.kube', 'config'))
}

interface ApiError {
  code?: number
}

/** loadEntries reads the secrets; a secret that is missing or malformed is a warning naming it. */
export async function loadEntries(o: K8sOptions): Promise<Entry[]> {
  const k8s = await import('@kubernetes/client-node')
  const kc = new k8s.KubeConfig()
  kc.loadFromDefault()
  const api = kc.makeApiClient(k8s.CoreV1Api)
  const namespace = o.namespace ?? 'default'
  const sa = o.serviceAccount ?? 'default'
  const names: string[] = [...(o.secrets ?? [])]
  if (sa !== '') {
    try {
      const account = await api.readNamespacedServiceAccount({name: sa, namespace})
      for (const ref of account.imagePullSecrets ?? []) if (ref.name && !names.includes(ref.name)) names.push(ref.name)
    } catch (e) {
      o.warn(`service account ${namespace}/${sa}: ${describe(e)}; its imagePullSecrets skipped`)
    }
  }
  const entries: Entry[] = []
  for (const name of names) {
    try {
      const secret = await api.readNamespacedSecret({name, namespace})
      entries.push(...parseSecret(secret, `secret ${namespace}/${name} (${secret.type})`))
    } catch (e) {
      o.warn(`secret ${namespace}/${name}: ${describe(e)}; skipped`)
    }
  }
  return entries
}

function describe(e: unknown): string {
  const code = (e as ApiError).code
  if (code === 404) return 'not found'
  if (code === 401 || code === 403) return `access denied (HTTP ${code})`
  if (typeof code === 'number') return `HTTP ${code}`
  return e instanceof Error ? e.message.split('\n')[0] : String(e)
}

/** repositoryOf: the repository of the first `repository:NAME:ACTIONS` scope, for path matching. */
export function repositoryOf(scopes: string[]): string | undefined {
  for (const s of scopes) {
    const m = /^repository(?:\([^)]*\))?:(.+):[^:]*$/.exec(s)
    if (m) return m[1]
  }
  return undefined
}

export class K8sKeychain implements auth.Keychain {
  readonly name = 'k8s'
  private entries?: Promise<Entry[]>

  constructor(private readonly options: K8sOptions) {}

  /** find: the entry the kubelet would use for `registry[/repository]`. */
  async find(target: string): Promise<Entry | undefined> {
    this.entries ??= loadEntries(this.options)
    return lookup(await this.entries, target)
  }

  async resolve(request: auth.KeychainRequest): Promise<auth.ResolvedCredential | undefined> {
    const repo = repositoryOf(request.scopes)
    const entry = await this.find(repo ? `${request.registry}/${repo}` : request.registry)
    return entry && {credential: entry.credential, source: `${entry.source} entry ${entry.key}`}
  }
}
