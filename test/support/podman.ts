// podman (and buildah) as the tests run them: rootful, the vfs storage driver, storage in a
// private temporary directory (no daemon, nothing shared with the machine's own images).
// Tests that need them skip with a message naming the Debian package when they are missing.
import {execFileSync, spawn} from 'node:child_process'
import {writeFile} from 'node:fs/promises'
import {type RunResult, run} from './exec.js'
import {type TmpDir, tmpDir} from './tmp.js'

function have(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], {stdio: 'ignore'})
    return true
  } catch {
    return false
  }
}

export const podmanMissing = have('podman') ? false : 'podman is not installed (apt-get install podman)'
export const ctrMissing = have('ctr') && have('containerd') ? false : 'containerd is not installed (apt-get install containerd)'

export interface Podman {
  /** runs podman with this storage; rejects with its stderr on a non-zero exit */
  (args: string[]): Promise<RunResult>
  storage: TmpDir
}

/** startPodman makes a private storage for podman commands (remove it with `storage.remove()`). */
export async function startPodman(): Promise<Podman> {
  const storage = await tmpDir('podman')
  const fn = async (args: string[]) => {
    const r = await run('podman', ['--root', `${storage.path}/root`, '--runroot', `${storage.path}/run`, '--storage-driver', 'vfs', '--cgroup-manager', 'cgroupfs', '--events-backend', 'none', ...args])
    if (r.code !== 0) throw new Error(`podman ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`)
    return r
  }
  return Object.assign(fn, {storage})
}

export interface Containerd {
  /** runs ctr against this containerd; rejects with its stderr on a non-zero exit */
  ctr(args: string[]): Promise<RunResult>
  stop(): Promise<void>
}

/** startContainerd runs a private containerd (rootful, its own root, state and socket, no CRI). */
export async function startContainerd(): Promise<Containerd> {
  const dir = await tmpDir('containerd')
  const sock = `${dir.path}/containerd.sock`
  const config = `${dir.path}/config.toml`
  await writeFile(config, `version = 2\nroot = "${dir.path}/root"\nstate = "${dir.path}/state"\n[grpc]\n  address = "${sock}"\n[plugins."io.containerd.grpc.v1.cri"]\n  disable = true\n`)
  const child = spawn('containerd', ['--config', config], {stdio: 'ignore'})
  const ctr = async (args: string[]) => {
    const r = await run('ctr', ['--address', sock, '--namespace', 'ocitool-test', ...args])
    if (r.code !== 0) throw new Error(`ctr ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`)
    return r
  }
  for (let i = 0; ; i++) {
    if ((await run('ctr', ['--address', sock, 'version'])).code === 0) break
    if (i > 50) throw new Error('containerd did not start')
    await new Promise((r) => setTimeout(r, 100))
  }
  return {
    ctr,
    stop: async () => {
      const exited = new Promise((r) => child.once('exit', r))
      child.kill('SIGTERM')
      await exited
      await dir.remove()
    },
  }
}
