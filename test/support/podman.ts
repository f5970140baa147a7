// podman, buildah and containerd as the tests run them: rootful, the vfs storage driver (the
// native snapshotter for containerd), storage in a private temporary directory: no daemon or
// image store shared with the machine, nothing left behind. npm test installs their Debian
// packages (scripts/ensure-packages.js, INTEROP_PACKAGES); only on a machine that can install
// nothing (not root and no apt-get) do their tests skip, with a hint naming the package.
import {execFileSync, spawn} from 'node:child_process'
import {mkdir, writeFile} from 'node:fs/promises'
import {dirname} from 'node:path'
import {type RunResult, run} from './exec.js'
import {onExit, type TmpDir, tmpDir} from './tmp.js'

function have(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], {stdio: 'ignore'})
    return true
  } catch {
    return false
  }
}

/**
 * interopSkip is a node:test `skip` value: false (run) unless a command is missing on a
 * machine that could not have installed it (not root and no apt-get); there it is the hint.
 * Where npm test installs packages, a missing command is a failure of the test, not a skip.
 */
export function interopSkip(cmds: string[], pkg: string): false | string {
  const missing = cmds.filter((c) => !have(c))
  if (missing.length === 0) return false
  if (process.getuid?.() === 0 || have('apt-get')) return false
  return `${missing.join(', ')} not installed and this machine can install nothing (not root, no apt-get): install the Debian package ${pkg} (rootful) to run this test`
}

export const podmanMissing = interopSkip(['podman'], 'podman')
export const buildahMissing = interopSkip(['buildah'], 'buildah')
export const ctrMissing = interopSkip(['ctr', 'containerd'], 'containerd')

function need(cmd: string, pkg: string): void {
  if (!have(cmd)) throw new Error(`${cmd} is not installed: npm test installs it (apt-get install ${pkg}, as root)`)
}

export interface Podman {
  /** runs podman with this storage; rejects with its stderr on a non-zero exit */
  (args: string[]): Promise<RunResult>
  storage: TmpDir
}

/** The storage flags podman and buildah share: a private root and runroot, the vfs driver. */
function storageArgs(storage: TmpDir): string[] {
  return ['--root', `${storage.path}/root`, '--runroot', `${storage.path}/run`, '--storage-driver', 'vfs']
}

/** The environment of podman and buildah: credentials only from the storage's own auth.json. */
function toolEnv(storage: TmpDir): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {...process.env, REGISTRY_AUTH_FILE: `${storage.path}/auth.json`, TMPDIR: storage.path}
  for (const k of ['XDG_RUNTIME_DIR', 'DOCKER_CONFIG']) delete env[k]
  return env
}

/** startPodman makes a private storage for podman commands (remove it with `storage.remove()`). */
export async function startPodman(): Promise<Podman> {
  need('podman', 'podman')
  const storage = await tmpDir('podman')
  await writeFile(`${storage.path}/auth.json`, '{"auths":{}}\n')
  const fn = async (args: string[]) => {
    const r = await run('podman', [...storageArgs(storage), '--tmpdir', `${storage.path}/tmp`, '--cgroup-manager', 'cgroupfs', '--events-backend', 'none', ...args], {env: toolEnv(storage)})
    if (r.code !== 0) throw new Error(`podman ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`)
    return r
  }
  return Object.assign(fn, {storage})
}

export interface Buildah {
  /** runs buildah with this storage; rejects with its stderr on a non-zero exit */
  (args: string[]): Promise<RunResult>
  storage: TmpDir
}

/**
 * startBuildah makes a private storage for buildah commands (remove it with `storage.remove()`),
 * or uses podman's (`startBuildah(podman.storage)`), so podman sees what buildah commits.
 */
export async function startBuildah(shared?: TmpDir): Promise<Buildah> {
  need('buildah', 'buildah')
  const storage = shared ?? (await tmpDir('buildah'))
  if (!shared) await writeFile(`${storage.path}/auth.json`, '{"auths":{}}\n')
  const fn = async (args: string[]) => {
    const r = await run('buildah', [...storageArgs(storage), ...args], {env: toolEnv(storage)})
    if (r.code !== 0) throw new Error(`buildah ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`)
    return r
  }
  return Object.assign(fn, {storage})
}

/** The files buildScratchImage puts under /app, and their bytes. */
export const scratchFiles = {'app/hello.txt': Buffer.from('hello from buildah\n'), 'app/data.bin': Buffer.from(Array.from({length: 5000}, (_, i) => (i * 7919) % 251))}

/**
 * buildScratchImage builds `name` with buildah as a user would (`from scratch`, `copy` a
 * directory, `config`, `commit --timestamp 0`) and returns the image ID (config digest, hex).
 * More commit destinations (`oci:DIR:REF`, `docker-archive:FILE:REF`) get the same image.
 */
export async function buildScratchImage(buildah: Buildah, ctx: string, name: string, more: string[] = []): Promise<string> {
  for (const [file, bytes] of Object.entries(scratchFiles)) {
    await mkdir(dirname(`${ctx}/${file}`), {recursive: true})
    await writeFile(`${ctx}/${file}`, bytes)
  }
  const container = (await buildah(['from', '--quiet', 'scratch'])).stdout.trim()
  await buildah(['copy', '--quiet', container, `${ctx}/app`, '/app'])
  await buildah(['config', '--env', 'GREETING=hello', '--label', 'org.ocitool.test=buildah', '--cmd', '/app/hello.txt', container])
  const id = (await buildah(['commit', '--quiet', '--timestamp', '0', container, name])).stdout.trim()
  for (const dest of more) await buildah(['commit', '--quiet', '--timestamp', '0', container, dest])
  await buildah(['rm', container])
  return id
}

export interface Containerd {
  /** runs ctr against this containerd; rejects with its stderr on a non-zero exit */
  ctr(args: string[]): Promise<RunResult>
  stop(): Promise<void>
}

/**
 * startContainerd runs a private containerd (rootful, its own root, state and socket in a temp
 * dir, no CRI), never the machine's: ctr always gets this socket. Stopped by its pid.
 */
export async function startContainerd(): Promise<Containerd> {
  need('containerd', 'containerd')
  need('ctr', 'containerd')
  const dir = await tmpDir('containerd')
  const sock = `${dir.path}/containerd.sock`
  const config = `${dir.path}/config.toml`
  await writeFile(config, `version = 2\nroot = "${dir.path}/root"\nstate = "${dir.path}/state"\n[grpc]\n  address = "${sock}"\n[plugins."io.containerd.grpc.v1.cri"]\n  disable = true\n`)
  const child = spawn('containerd', ['--config', config], {stdio: 'ignore'})
  const exited = new Promise((r) => child.once('exit', r))
  // if the test process dies first: cleanups run last in, first out, so this kill precedes the removal
  const unregister = onExit(() => {
    if (child.exitCode === null && child.pid) process.kill(child.pid, 'SIGKILL')
  })
  const ctr = async (args: string[]) => {
    // the native snapshotter (plain copies) unpacks on any file system, overlay ones included, as vfs does for podman
    const r = await run('ctr', ['--address', sock, '--namespace', 'ocitool-test', ...args], {env: {...process.env, CONTAINERD_SNAPSHOTTER: 'native'}})
    if (r.code !== 0) throw new Error(`ctr ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`)
    return r
  }
  const stop = async () => {
    unregister()
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      await exited
    }
    await dir.remove()
  }
  for (let i = 0; ; i++) {
    if ((await run('ctr', ['--address', sock, 'version'])).code === 0) break
    if (i > 100 || child.exitCode !== null) {
      await stop()
      throw new Error('containerd did not start')
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  return {ctr, stop}
}
