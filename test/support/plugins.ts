// Plugin tests link first-party plugins (plugins/NAME) into a throw-away oclif data dir, so the
// user's real plugins and settings are never read or touched.
import * as path from 'node:path'
import {repoRoot, runCli} from './cli.js'

/** pluginEnv: an environment whose oclif data, cache and config dirs live under `dir`. */
export function pluginEnv(dir: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    OCITOOL_DATA_DIR: path.join(dir, 'data'),
    OCITOOL_CACHE_DIR: path.join(dir, 'cache'),
    OCITOOL_CONFIG_DIR: path.join(dir, 'config'),
    // linked ESM plugins make oclif warn on every run
    OCLIF_DISABLE_LINKED_ESM_WARNING: '1',
    ...extra,
  }
}

/** linkPlugins runs `ocitool plugins link` for each plugin name; a failure throws with its stderr. */
export async function linkPlugins(env: Record<string, string>, ...names: string[]): Promise<void> {
  for (const name of names) {
    const r = await runCli(['plugins', 'link', '--no-install', path.join(repoRoot, 'plugins', name)], {env})
    if (r.code !== 0) throw new Error(`plugins link ${name} exited ${r.code}: ${r.stderr}`)
  }
}
