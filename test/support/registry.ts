// Starts the real CNCF distribution registry (Debian `docker-registry`, 2.8) on a free
// 127.0.0.1 port with its own temp dir, in the flavours the tests need: no auth, htpasswd
// basic auth, TLS with a generated CA, and token auth backed by ./token-server.ts.

import {spawn, type ChildProcess} from 'node:child_process'
import * as fs from 'node:fs'
import * as fsp from 'node:fs/promises'
import * as http from 'node:http'
import * as https from 'node:https'
import * as net from 'node:net'
import * as path from 'node:path'
import {makeCa, makeServerCert, type CertPair, type TestCa} from './certs.js'
import {runOk} from './exec.js'
import {onExit, tmpDir} from './tmp.js'
import {defaultPermissions, defaultTokenUsers, startTokenServer, type Grants, type Permissions, type RunningTokenServer} from './token-server.js'

export type Flavour = 'plain' | 'basic' | 'tls' | 'token'

export interface RegistryOptions {
  flavour: Flavour
  /** user → password. Default `{alice: 'alice-secret-pw'}`, plus `bob: 'bob-secret-pw'` for `token`. */
  users?: Record<string, string>
  /** Token flavour: user → repository glob → actions. Default: alice everything, bob pull. */
  permissions?: Permissions
  /** Token flavour: grants for anonymous requests. Default none. */
  anonymous?: Grants
  /** Token flavour: token lifetime in seconds (default 300). */
  tokenExpiresIn?: number
  /** Token flavour: the realm is Azure Container Registry's `/oauth2/token` (see token-server.ts). */
  acr?: boolean
  /** Serve HTTPS with a generated CA. Always on for `tls`; opt-in for `basic` and `token` (the token server then uses HTTPS too). */
  tls?: boolean
  /** Deep-merged into the generated configuration (objects merge, everything else replaces). */
  extraConfig?: Record<string, unknown>
  /** Give up if `GET /v2/` does not answer within this many ms. Default 10 000. */
  startTimeoutMs?: number
}

/** AccessLogEntry is one line of the registry's combined-format access log. */
export interface AccessLogEntry {
  method: string
  /** The request path without the query string. */
  path: string
  /** The request URI as logged, query string included. */
  uri: string
  status: number
  /** Response body bytes, as logged. */
  size: number
  userAgent: string
}

export interface RunningRegistry {
  /** `127.0.0.1:PORT` */
  host: string
  /** `http://127.0.0.1:PORT` or `https://…` */
  url: string
  flavour: Flavour
  tls: boolean
  /** PEM of the CA that signed the registry's (and token server's) certificate, when tls. */
  caFile?: string
  /** A directory holding only `ca.crt`, for skopeo's `--*-cert-dir`, when tls. */
  certDir?: string
  users: Record<string, string>
  /** The registry's temp dir: config.yml, storage under data/, certificates. */
  dir: string
  configFile: string
  pid: number
  tokenServer?: RunningTokenServer
  /** Everything the registry has printed so far (stdout and stderr, in arrival order). */
  logs(): string
  /** Requests parsed from the access log (stdout), oldest first, without the start-up probes. */
  requests(): AccessLogEntry[]
  /** Resolves with the first logged request matching pred; rejects after timeoutMs (default 3 s). */
  waitForRequest(pred: (r: AccessLogEntry) => boolean, timeoutMs?: number): Promise<AccessLogEntry>
  /** SIGTERM, SIGKILL after 3 s, then remove the temp dir and stop the token server. */
  stop(): Promise<void>
}

/** The combined log format that gorilla/handlers writes for every request, 401s included. */
const accessLine = /^\S+ \S+ \S+ \[[^\]]+\] "(\S+) (\S+) HTTP\/[\d.]+" (\d{3}) (\d+|-) "[^"]*" "([^"]*)"/

/** parseAccessLog extracts the requests from registry stdout. */
export function parseAccessLog(text: string): AccessLogEntry[] {
  const out: AccessLogEntry[] = []
  for (const line of text.split('\n')) {
    const m = accessLine.exec(line)
    if (!m) continue
    out.push({method: m[1], uri: m[2], path: m[2].split('?')[0], status: Number(m[3]), size: m[4] === '-' ? 0 : Number(m[4]), userAgent: m[5]})
  }
  return out
}

/** freePort asks the kernel for an unused 127.0.0.1 port (racy: callers retry on EADDRINUSE). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const {port} = srv.address() as net.AddressInfo
      srv.close(() => resolve(port))
    })
  })
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** deepMerge returns base with extra merged in: objects recursively, other values replace. */
export function deepMerge(base: Record<string, unknown>, extra: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {...base}
  for (const [k, v] of Object.entries(extra)) out[k] = isObject(v) && isObject(out[k]) ? deepMerge(out[k] as Record<string, unknown>, v) : v
  return out
}

async function writeHtpasswd(file: string, users: Record<string, string>): Promise<void> {
  const lines: string[] = []
  for (const [user, pw] of Object.entries(users)) lines.push((await runOk('htpasswd', ['-Bbn', user, pw])).stdout.trim())
  await fsp.writeFile(file, lines.join('\n') + '\n', {mode: 0o600})
}

/** A process environment without REGISTRY_* overrides, which distribution would otherwise apply. */
function registryEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('REGISTRY_') && !k.startsWith('OTEL_')) env[k] = v
  return env
}

/** The User-Agent of the start-up probe, whose requests requests() leaves out. */
const probeAgent = 'ocitool-test-support-probe'

/** probe resolves with the HTTP status of GET /v2/, or undefined if nothing answers. */
function probe(url: string, ca?: Buffer): Promise<number | undefined> {
  return new Promise((resolve) => {
    const mod = url.startsWith('https:') ? https : http
    const req = mod.get(`${url}/v2/`, {ca, timeout: 1000, headers: {'user-agent': probeAgent}}, (res) => {
      res.resume()
      resolve(res.statusCode)
    })
    req.on('timeout', () => req.destroy())
    req.on('error', () => resolve(undefined))
  })
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/**
 * startRegistry starts a distribution registry and resolves once `GET /v2/` answers (any
 * status). It rejects with the registry's output if the process exits first or the start
 * timeout passes. Always call `stop()` (an exit hook SIGKILLs it as a last resort).
 */
export async function startRegistry(opts: RegistryOptions): Promise<RunningRegistry> {
  const {flavour} = opts
  const useTls = flavour === 'tls' || (opts.tls ?? false)
  const users = opts.users ?? (flavour === 'token' ? {...defaultTokenUsers} : {alice: 'alice-secret-pw'})
  const tmp = await tmpDir(`registry-${flavour}`)
  const dir = tmp.path
  let tokenServer: RunningTokenServer | undefined
  try {
    let ca: TestCa | undefined
    let serverCert: CertPair | undefined
    if (useTls) {
      ca = await makeCa(dir)
      serverCert = await makeServerCert(dir, ca)
    }
    let auth: Record<string, unknown> | undefined
    if (flavour === 'basic') {
      const file = path.join(dir, 'htpasswd')
      await writeHtpasswd(file, users)
      auth = {htpasswd: {realm: 'ocitool-test', path: file}}
    } else if (flavour === 'token') {
      tokenServer = await startTokenServer({
        users, permissions: opts.permissions ?? defaultPermissions, anonymous: opts.anonymous,
        expiresIn: opts.tokenExpiresIn, tls: serverCert, dir, acr: opts.acr,
      })
      auth = {token: {realm: tokenServer.realm, service: tokenServer.service, issuer: tokenServer.issuer, rootcertbundle: tokenServer.certFile}}
    }

    const startTimeoutMs = opts.startTimeoutMs ?? 10_000
    for (let attempt = 1; ; attempt++) {
      const port = await freePort()
      const config = deepMerge({
        version: '0.1',
        log: {level: 'info', formatter: 'text', accesslog: {disabled: false}},
        storage: {filesystem: {rootdirectory: path.join(dir, 'data')}, delete: {enabled: true}, maintenance: {uploadpurging: {enabled: false}}},
        validation: {manifests: {urls: {allow: ['^https?://']}}},
        http: {addr: `127.0.0.1:${port}`, secret: 'ocitool-test-secret', ...(serverCert ? {tls: {certificate: serverCert.certFile, key: serverCert.keyFile}} : {})},
        ...(auth ? {auth} : {}),
      }, opts.extraConfig ?? {})
      const configFile = path.join(dir, 'config.yml')
      // JSON is valid YAML, and spares us a YAML writer.
      await fsp.writeFile(configFile, JSON.stringify(config, null, 2) + '\n')
      const started = await launch({port, configFile, useTls, ca, startTimeoutMs})
      if (started.kind === 'addr-in-use' && attempt < 5) continue
      if (started.kind !== 'ok') throw new Error(`docker-registry (${flavour}) did not start: ${started.reason}\n${started.output}`)
      const {child, output, stdout} = started
      const host = `127.0.0.1:${port}`
      const unregister = onExit(() => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
      })
      const requests = () => parseAccessLog(stdout()).filter((r) => r.userAgent !== probeAgent)
      return {
        host, url: `${useTls ? 'https' : 'http'}://${host}`, flavour, tls: useTls,
        caFile: ca?.certFile, certDir: ca?.certDir, users, dir, configFile, pid: child.pid!, tokenServer,
        logs: output, requests,
        async waitForRequest(pred, timeoutMs = 3000) {
          const deadline = Date.now() + timeoutMs
          for (;;) {
            const hit = requests().find(pred)
            if (hit) return hit
            if (Date.now() > deadline) throw new Error(`no matching request in the registry access log:\n${stdout()}`)
            await sleep(25)
          }
        },
        async stop() {
          await stopChild(child)
          unregister()
          await tokenServer?.stop()
          await tmp.remove()
        },
      }
    }
  } catch (err) {
    await tokenServer?.stop()
    await tmp.remove()
    throw err
  }
}

type Launch =
  | {kind: 'ok'; child: ChildProcess; output: () => string; stdout: () => string}
  | {kind: 'addr-in-use' | 'failed'; reason: string; output: string}

/** launch spawns the registry and waits for it to answer or die. */
async function launch(a: {port: number; configFile: string; useTls: boolean; ca?: TestCa; startTimeoutMs: number}): Promise<Launch> {
  // setpriv --pdeathsig makes the kernel kill the registry if this Node process dies
  // without running its exit hooks (SIGKILL, OOM); it execs, so the pid is the registry's.
  const registryArgs = ['/usr/bin/docker-registry', 'serve', a.configFile]
  const [cmd, args] = fs.existsSync('/usr/bin/setpriv')
    ? ['/usr/bin/setpriv', ['--pdeathsig', 'KILL', '--', ...registryArgs]]
    : [registryArgs[0], registryArgs.slice(1)]
  const child = spawn(cmd, args, {env: registryEnv(), stdio: ['ignore', 'pipe', 'pipe']})
  let all = ''
  let out = ''
  child.stdout!.setEncoding('utf8').on('data', (s: string) => {
    all += s
    out += s
  })
  child.stderr!.setEncoding('utf8').on('data', (s: string) => {
    all += s
  })
  let spawnError: Error | undefined
  child.on('error', (e) => {
    spawnError = e
  })
  const exited = () => child.exitCode !== null || child.signalCode !== null || spawnError !== undefined
  const url = `${a.useTls ? 'https' : 'http'}://127.0.0.1:${a.port}`
  const ca = a.ca ? await fsp.readFile(a.ca.certFile) : undefined
  const deadline = Date.now() + a.startTimeoutMs
  for (;;) {
    if (exited()) {
      await sleep(50) // let the last output arrive
      const reason = spawnError ? String(spawnError) : `exited with ${child.exitCode ?? child.signalCode}`
      return {kind: /address already in use/.test(all) ? 'addr-in-use' : 'failed', reason, output: all}
    }
    // the answer must be this registry's own (its access log shows the probe): two registries
    // started at once can be handed the same free port, and the one that lost the bind answers
    // nothing but would otherwise take the winner's answer for its own until it exits
    if ((await probe(url, ca)) !== undefined && !exited() && out.includes(probeAgent)) return {kind: 'ok', child, output: () => all, stdout: () => out}
    if (Date.now() > deadline) {
      await stopChild(child)
      return {kind: 'failed', reason: `GET /v2/ did not answer within ${a.startTimeoutMs} ms`, output: all}
    }
    await sleep(50)
  }
}

/** stopChild sends SIGTERM, then SIGKILL after 3 s, and resolves once the process is gone. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000)
  await gone
  clearTimeout(timer)
}

/** isRunning reports whether a process with this pid exists (signal 0 probe). */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}
