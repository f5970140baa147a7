// A small HTTPS server speaking the Kubernetes API for the two reads the k8s keychain makes:
// GET /api/v1/namespaces/NS/serviceaccounts/NAME and GET /api/v1/namespaces/NS/secrets/NAME,
// with bearer-token auth and the API's Status objects for 401 and 404. Plus a kubeconfig for it.
import * as fsp from 'node:fs/promises'
import * as https from 'node:https'
import type {AddressInfo} from 'node:net'
import * as path from 'node:path'
import {makeCa, makeServerCert} from '../../../../test/support/certs.js'

export interface FakeApiServer {
  url: string
  kubeconfig: string
  requests: string[]
  serviceAccounts: Map<string, {imagePullSecrets?: {name: string}[]}>
  secrets: Map<string, {type: string; data: Record<string, string>}>
  stop(): Promise<void>
}

const status = (code: number, reason: string, message: string) => ({kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code})

export async function startApiServer(dir: string, token = 'test-token'): Promise<FakeApiServer> {
  const ca = await makeCa(dir, 'fake kube-apiserver CA')
  const cert = await makeServerCert(dir, ca, 'apiserver')
  const serviceAccounts: FakeApiServer['serviceAccounts'] = new Map()
  const secrets: FakeApiServer['secrets'] = new Map()
  const requests: string[] = []
  const server = https.createServer({cert: await fsp.readFile(cert.certFile), key: await fsp.readFile(cert.keyFile)}, (req, res) => {
    requests.push(`${req.method} ${req.url}`)
    const send = (code: number, body: unknown) => {
      res.writeHead(code, {'content-type': 'application/json'})
      res.end(JSON.stringify(body))
    }
    if (req.headers.authorization !== `Bearer ${token}`) return send(401, status(401, 'Unauthorized', 'Unauthorized'))
    const m = /^\/api\/v1\/namespaces\/([^/]+)\/(serviceaccounts|secrets)\/([^/?]+)(\?.*)?$/.exec(req.url ?? '')
    if (req.method !== 'GET' || !m) return send(404, status(404, 'NotFound', 'the server could not find the requested resource'))
    const [, ns, kind, name] = m
    const key = `${ns}/${name}`
    const meta = {name, namespace: ns, uid: `uid-${key}`, resourceVersion: '1'}
    if (kind === 'serviceaccounts') {
      const sa = serviceAccounts.get(key)
      if (!sa) return send(404, status(404, 'NotFound', `serviceaccounts "${name}" not found`))
      return send(200, {kind: 'ServiceAccount', apiVersion: 'v1', metadata: meta, ...sa})
    }
    const s = secrets.get(key)
    if (!s) return send(404, status(404, 'NotFound', `secrets "${name}" not found`))
    return send(200, {kind: 'Secret', apiVersion: 'v1', metadata: meta, type: s.type, data: s.data})
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`
  const kubeconfig = path.join(dir, 'kubeconfig')
  await fsp.writeFile(
    kubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: fake',
      '  cluster:',
      `    server: ${url}`,
      `    certificate-authority: ${ca.certFile}`,
      'users:',
      '- name: tester',
      '  user:',
      `    token: ${token}`,
      'contexts:',
      '- name: other',
      '  context: {cluster: fake, user: nobody}',
      '- name: fake',
      '  context: {cluster: fake, user: tester}',
      'current-context: fake',
      '',
    ].join('\n'),
  )
  return {
    url, kubeconfig, requests, serviceAccounts, secrets,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

/** dockerconfigjson builds a kubernetes.io/dockerconfigjson secret. */
export function dockerConfigJson(auths: Record<string, {username: string; password: string}>) {
  const doc = {auths: Object.fromEntries(Object.entries(auths).map(([k, v]) => [k, {auth: Buffer.from(`${v.username}:${v.password}`).toString('base64')}]))}
  return {type: 'kubernetes.io/dockerconfigjson', data: {'.dockerconfigjson': Buffer.from(JSON.stringify(doc)).toString('base64')}}
}

/** dockercfg builds a legacy kubernetes.io/dockercfg secret. */
export function dockercfg(auths: Record<string, {username: string; password: string}>) {
  return {type: 'kubernetes.io/dockercfg', data: {'.dockercfg': Buffer.from(JSON.stringify(auths)).toString('base64')}}
}
