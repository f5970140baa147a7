// What @oclif/core takes from wsl-utils, for the bundle (scripts/bundle.js points oclif's import
// here): `isWsl` at every start (Config.load asks for the platform), and `powerShellPath` only
// when it looks for the shell of a Windows parent process. wsl-utils itself also loads
// powershell-utils and node:child_process when imported (~8 ms of a short command); that now
// happens only on the path that needs it.
export {default as isWsl} from 'is-wsl'

export async function powerShellPath(...args) {
  return (await import('wsl-utils')).powerShellPath(...args)
}
