// ensurePackages: make sure the Debian packages that provide these commands are installed,
// installing them with apt-get when missing and running as root. Used by npm test and the
// quick start, so a fresh machine needs nothing installed by hand.
import {execFileSync} from 'node:child_process'

/** command → Debian package */
export const TEST_PACKAGES = {'docker-registry': 'docker-registry', skopeo: 'skopeo', umoci: 'umoci', htpasswd: 'apache2-utils', openssl: 'openssl', pigz: 'pigz', zstd: 'zstd', jq: 'jq', tree: 'tree'}

export function have(cmd) {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], {stdio: 'ignore'})
    return true
  } catch {
    return false
  }
}

export function ensurePackages(commands) {
  const missing = [...new Set(Object.entries(commands).filter(([cmd]) => !have(cmd)).map(([, pkg]) => pkg))]
  if (missing.length === 0) return
  if (process.getuid?.() !== 0 || !have('apt-get')) {
    const names = Object.entries(commands).filter(([cmd]) => !have(cmd)).map(([cmd, pkg]) => (cmd === pkg ? cmd : `${cmd} (package ${pkg})`))
    const how = have('apt-get') ? `sudo apt-get install ${missing.join(' ')}, or run this as root to have them installed` : `on Debian or Ubuntu: apt-get install ${missing.join(' ')}; elsewhere, put these commands on PATH from your system's packages`
    throw new Error(`missing commands: ${names.join(', ')} (${how})`)
  }
  console.error(`installing Debian packages: ${missing.join(' ')}`)
  const env = {...process.env, DEBIAN_FRONTEND: 'noninteractive'}
  execFileSync('apt-get', ['update', '-qq'], {stdio: ['ignore', 'ignore', 'inherit'], env})
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], {stdio: ['ignore', 'ignore', 'inherit'], env})
}
