/**
 * sync-progress: sync's progress on stderr. `tty`: one spinner line with images done of all,
 * blobs, bytes and rate; `json`: one JSON object per line for the sync-level events (plan, each
 * image started and done, blob retries) and a `progress` line at most once a second with the
 * bytes so far, then `done`; `none`: silent; `auto`: tty on a terminal, else none.
 */
import type {SyncEvent} from '../sync/run.js'
import type {ProgressMode} from './progress.js'

export interface SyncProgress {
  onEvent: (e: SyncEvent) => void
  stop(ok: boolean): void
}

export async function syncProgress(mode: ProgressMode, label: string): Promise<SyncProgress> {
  const resolved = mode === 'auto' ? (process.stderr.isTTY ? 'tty' : 'none') : mode
  if (resolved === 'none') return {onEvent: () => {}, stop: () => {}}
  const t = {images: 0, copy: 0, done: 0, copied: 0, failed: 0, current: 0, blobs: 0, bytes: 0}
  const started = Date.now()
  const count = (e: SyncEvent) => {
    if (e.type === 'sync-plan') Object.assign(t, {images: e.images, copy: e.copy, current: e.current})
    else if (e.type === 'image-done') {
      t.done++
      if (e.status === 'failed') t.failed++
      else t.copied++
    } else if (e.type === 'blob-done') t.blobs++
    else if (e.type === 'blob-bytes') t.bytes += e.bytes
  }
  if (resolved === 'json') {
    const write = (o: object) => process.stderr.write(`${JSON.stringify({time: new Date().toISOString(), ...o})}\n`)
    let last = 0
    return {
      onEvent(e) {
        count(e)
        if (e.type === 'sync-plan' || e.type === 'image-start' || e.type === 'image-done' || e.type === 'blob-retry') {
          const {type, ...rest} = e
          write({event: type, ...rest})
        } else if (e.type === 'blob-bytes' && Date.now() - last >= 1000) {
          last = Date.now()
          write({event: 'progress', images: t.done, of: t.copy, bytes: t.bytes})
        }
      },
      stop(ok) {
        write({event: 'done', ok, ...t, seconds: (Date.now() - started) / 1000})
      },
    }
  }
  const {default: ora} = await import('ora')
  const spinner = ora({text: label, stream: process.stderr}).start()
  let last = 0
  const render = () => {
    const secs = Math.max(0.001, (Date.now() - started) / 1000)
    spinner.text = `${label}: ${t.done}/${t.copy} images${t.current ? ` (${t.current} current)` : ''}${t.failed ? `, ${t.failed} failed` : ''}, ${t.blobs} blobs, ${size(t.bytes)} (${size(t.bytes / secs)}/s)`
  }
  return {
    onEvent(e) {
      count(e)
      if (e.type === 'blob-bytes' && Date.now() - last < 100) return
      last = Date.now()
      render()
    },
    stop(ok) {
      render()
      if (ok) spinner.succeed(`${label}: ${t.copied} images copied, ${t.current} current, ${size(t.bytes)} in ${((Date.now() - started) / 1000).toFixed(1)} s`)
      else spinner.fail(`${label}: ${t.failed} failed, ${t.copied} copied`)
    },
  }
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
