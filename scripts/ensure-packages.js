// ensurePackages: make sure the Debian packages that provide these commands are installed,
// installing them with apt-get when missing and running as root. Used by npm test and the
// quick start, so a fresh machine needs nothing installed by hand.
import {execFileSync} from 'node:child_process'

/** command → Debian package */
export const TEST_PACKAGES = {'docker-registry': 'docker-registry', skopeo: 'skopeo', umoci: 'umoci', htpasswd: 'apache2-utils', openssl: 'openssl', pigz: 'pigz', zstd: 'zstd', jq: 'jq', tree: 'tree'}

/**
 * The container engines the interop tests drive (rootful, vfs storage, private roots in temp
 * dirs: test/support/podman.ts). Installed like TEST_PACKAGES; only on a machine that cannot
 * install anything (not root and no apt-get) may they be absent, and their tests then skip
 * with a hint (interopSkip in test/support/podman.ts).
 */
export const INTEROP_PACKAGES = {podman: 'podman', buildah: 'buildah', containerd: 'containerd', ctr: 'containerd'}

export function have(cmd) {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], {stdio: 'ignore'})
    return true
  } catch {
    return false
  }
}

/** canInstall: root with apt-get, so missing packages are installed rather than reported. */
export function canInstall() {
  return process.getuid?.() === 0 && have('apt-get')
}

/**
 * ensurePackages installs the packages of the missing commands, or throws naming them and how
 * to get them. Commands in `skippable` are only reported (on stderr) when missing on a machine
 * that is neither root nor has apt-get: their tests skip there.
 */
export function ensurePackages(commands, {skippable = []} = {}) {
  const absent = Object.entries(commands).filter(([cmd]) => !have(cmd))
  if (absent.length === 0) return
  if (!canInstall()) {
    const mayLack = process.getuid?.() !== 0 && !have('apt-get')
    const required = absent.filter(([cmd]) => !(mayLack && skippable.includes(cmd)))
    const skipped = absent.filter(([cmd]) => mayLack && skippable.includes(cmd))
    if (skipped.length > 0) console.error(`not installed, so the tests using them skip: ${describe(skipped)}`)
    if (required.length === 0) return
    const pkgs = [...new Set(required.map(([, pkg]) => pkg))]
    const how = have('apt-get') ? `sudo apt-get install ${pkgs.join(' ')}, or run this as root to have them installed` : `on Debian or Ubuntu: apt-get install ${pkgs.join(' ')}; elsewhere, put these commands on PATH from your system's packages`
    throw new Error(`missing commands: ${describe(required)} (${how})`)
  }
  const missing = [...new Set(absent.map(([, pkg]) => pkg))]
  console.error(`installing Debian packages: ${missing.join(' ')}`)
  const env = {...process.env, DEBIAN_FRONTEND: 'noninteractive'}
  execFileSync('apt-get', ['update', '-qq'], {stdio: ['ignore', 'ignore', 'inherit'], env})
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], {stdio: ['ignore', 'ignore', 'inherit'], env})
}

function describe(entries) {
  return entries.map(([cmd, pkg]) => (cmd === pkg ? cmd : `${cmd} (package ${pkg})`)).join(', ')
}
