/**
 * progress: renders transfer events on stderr. `tty`: an ora spinner with blob counts, bytes and
 * rate; `json`: one JSON object per line, for CI systems; `none`: silent. `auto` is tty when
 * stderr is a terminal, none otherwise. ora loads only when a spinner is shown.
 */
import type {TransferEvent} from '../transfer/engine.js'

export type ProgressMode = 'auto' | 'tty' | 'json' | 'none'

export interface ProgressRenderer {
  onEvent: (e: TransferEvent) => void
  /** stop the spinner (success or failure) and print a summary line on a terminal */
  stop(ok: boolean): void
}

export async function progressRenderer(mode: ProgressMode, label: string): Promise<ProgressRenderer> {
  const resolved = mode === 'auto' ? (process.stderr.isTTY ? 'tty' : 'none') : mode
  if (resolved === 'none') return {onEvent: () => {}, stop: () => {}}
  if (resolved === 'json') return jsonRenderer()
  return ttyRenderer(label)
}

function jsonRenderer(): ProgressRenderer {
  // bytes events are many: emit at most one per blob per 100 ms, and the last one always
  const lastEmit = new Map<string, number>()
  const write = (o: object) => process.stderr.write(`${JSON.stringify({time: new Date().toISOString(), ...o})}\n`)
  let totals = {blobs: 0, bytes: 0, copied: 0, skipped: 0, mounted: 0, transferred: 0}
  return {
    onEvent(e) {
      if (e.type === 'blob-bytes') {
        totals.transferred += e.bytes
        const now = Date.now()
        if (e.done < e.size && now - (lastEmit.get(e.digest) ?? 0) < 100) return
        lastEmit.set(e.digest, now)
      }
      if (e.type === 'plan') totals = {...totals, blobs: e.blobs, bytes: e.bytes}
      if (e.type === 'blob-done') totals[e.outcome]++
      write({event: e.type, ...withoutType(e)})
    },
    stop(ok) {
      write({event: 'done', ok, ...totals})
    },
  }
}

async function ttyRenderer(label: string): Promise<ProgressRenderer> {
  const {default: ora} = await import('ora')
  const spinner = ora({text: label, stream: process.stderr}).start()
  const started = Date.now()
  let blobs = 0
  let bytes = 0
  let done = 0
  let moved = 0
  let skipped = 0
  let mounted = 0
  let last = 0
  const render = (force = false) => {
    const now = Date.now()
    if (!force && now - last < 100) return
    last = now
    const secs = Math.max(0.001, (now - started) / 1000)
    spinner.text = `${label}: ${done}/${blobs} blobs, ${size(moved)} of ${size(bytes)} (${size(moved / secs)}/s)${skipped ? `, ${skipped} present` : ''}${mounted ? `, ${mounted} mounted` : ''}`
  }
  return {
    onEvent(e) {
      if (e.type === 'plan') {
        blobs = e.blobs
        bytes = e.bytes
      } else if (e.type === 'blob-bytes') moved += e.bytes
      else if (e.type === 'blob-done') {
        done++
        if (e.outcome === 'skipped') skipped++
        if (e.outcome === 'mounted') mounted++
      } else if (e.type === 'manifest') spinner.text = `${label}: writing manifest ${e.digest.slice(0, 19)}`
      render(e.type !== 'blob-bytes')
    },
    stop(ok) {
      render(true)
      if (ok) spinner.succeed(`${label}: ${done} blobs (${skipped} present, ${mounted} mounted), ${size(moved)} in ${((Date.now() - started) / 1000).toFixed(1)} s`)
      else spinner.fail(`${label}: failed`)
    },
  }
}

function withoutType(e: TransferEvent): Record<string, unknown> {
  const {type: _t, ...rest} = e
  return rest
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
