/**
 * reclaim: gives the memory of streamed chunks back while blobs move, not in bulk later.
 *
 * Every chunk node:http reads is a fresh 64 KiB allocation outside V8's heap, and its HTTP
 * parser copies each body chunk into another. V8 frees them only when a GC finds their Buffer
 * objects dead, and with the ~10 MB heap of a transfer it runs one only when ~64 MB of them
 * have piled up ("external memory pressure"). The pile is paid in RSS and in page faults: each
 * new MiB touched is 256 faults, and glibc hands the freed pile back to the system only to
 * fault it in again (a 384 MiB copy: 17-41k faults against crane's 900, twice crane's system
 * CPU). A young-generation GC every RECLAIM_BYTES frees the chunks while they are few, and
 * their memory is reused warm (issue 14, measured on that copy: 1.67-1.94 → 1.20-1.33 CPU-s,
 * 101-107 → 71-80 MiB peak RSS, 33-41k → 11-15k faults). A scavenge costs ~0.1-0.5 ms: one
 * per 2 MiB is a few percent of the time the 2 MiB take to move.
 *
 * `gc` is not exposed without `--expose-gc`; setting the flag for a moment and asking a new V8
 * context for its `gc` gives the function without exposing it to any code of ours or a plugin.
 * That costs ~10 ms once, so only transfers past START_BYTES do it.
 */
import v8 from 'node:v8'
import vm from 'node:vm'

const RECLAIM_BYTES = 2 * 1024 * 1024
const START_BYTES = 4 * 1024 * 1024

type Gc = (options: {type: 'minor'}) => void

let gc: Gc | null | undefined
let total = 0
let since = 0

/** reclaim counts `n` bytes streamed (by any transfer of the process) and collects young garbage every RECLAIM_BYTES. */
export function reclaim(n: number): void {
  total += n
  since += n
  if (since < RECLAIM_BYTES || total < START_BYTES) return
  since = 0
  gc ??= exposeGc()
  gc?.({type: 'minor'})
}

function exposeGc(): Gc | null {
  const own = (globalThis as {gc?: unknown}).gc
  if (typeof own === 'function') return own as Gc // node --expose-gc
  try {
    v8.setFlagsFromString('--expose-gc')
    const fn = vm.runInNewContext('gc') as unknown
    return typeof fn === 'function' ? (fn as Gc) : null
  } catch {
    return null // a runtime that refuses the flag streams as before
  } finally {
    v8.setFlagsFromString('--no-expose-gc')
  }
}
