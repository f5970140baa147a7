// podman (and buildah) as the tests run them: rootful, the vfs storage driver, storage in a
// private temporary directory (no daemon, nothing shared with the machine's own images).
// Tests that need them skip with a message naming the Debian package when they are missing.
import {execFileSync} from 'node:child_process'
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
