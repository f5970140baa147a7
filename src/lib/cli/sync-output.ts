/** sync-output: the text form of a sync report (one line per tag, then totals). */
import type {SyncReport} from '../sync/report.js'

export function renderReport(r: SyncReport): string {
  const lines: string[] = []
  for (const repo of r.repositories) {
    if (repo.error) lines.push(`failed   ${repo.source} → ${repo.destination}: ${repo.error}`)
    for (const t of repo.tags) {
      const what = t.file ?? `${repo.destination}:${t.tag}`
      if (t.status === 'failed') lines.push(`failed   ${what}: ${t.reason ?? 'unknown error'}`)
      else lines.push(`${t.status.padEnd(8)} ${what} ${t.digest ?? ''}${t.status === 'copied' || t.status === 'copy' ? ` (${size(t.bytes)})` : ''}`.trimEnd())
    }
  }
  const x = r.totals
  const head = r.dryRun ? `plan: ${x.copy} to copy, ${x.current} current` : `${x.copied} copied, ${x.current} current`
  lines.push(`${head}, ${x.failed} failed in ${x.repositories} repositories; blobs: ${x.blobs.copied} ${r.dryRun ? 'to upload' : 'uploaded'} (${size(x.bytes)}), ${x.blobs.mounted} ${r.dryRun ? 'to mount' : 'mounted'}, ${x.blobs.skipped} present${r.dryRun ? '' : `; ${r.seconds.toFixed(1)} s`}`)
  return lines.join('\n')
}

function size(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let i = 0
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024
    i++
  }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`
}
