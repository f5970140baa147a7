/**
 * not-found: the `command_not_found` hook. An unknown command is a usage error (exit 2) on one
 * line, naming the closest command ids (edit distance), instead of oclif's two-line warning and
 * exit 127; nothing is prompted, so scripts see the same answer as people.
 */
import type {Hook} from '@oclif/core'

const hook: Hook<'command_not_found'> = async function (opts) {
  // oclif joins every leading word into the id (`lss foo` → `lss:foo`): the unknown command is
  // the known topic words, if any, and one word more
  const words = opts.id.split(':')
  let n = 0
  while (n < words.length - 1 && opts.config.findTopic(words.slice(0, n + 1).join(':'))) n++
  const typed = words.slice(0, n + 1).join(' ')
  const ids = [...new Set([...opts.config.commandIDs, ...opts.config.commands.flatMap((c) => c.aliases)])]
    .filter((id) => !opts.config.findCommand(id)?.hidden)
    .map((id) => id.replaceAll(':', ' '))
  const scored = ids.map((id) => ({id, d: distance(typed, id)})).sort((a, b) => a.d - b.d || a.id.localeCompare(b.id))
  const limit = Math.max(2, Math.floor(typed.length / 3))
  const close = scored.filter((s) => s.d <= limit || s.id.startsWith(`${typed} `)).slice(0, 3).map((s) => `"${s.id}"`)
  const hint = close.length > 0 ? ` (did you mean ${close.join(' or ')}? see: ${opts.config.bin} help)` : ` (see: ${opts.config.bin} help)`
  process.stderr.write(`Error: unknown command "${typed}"${hint}\n`)
  process.exitCode = 2
  return true
}

export default hook

/** distance: Levenshtein edit distance (two short strings). */
function distance(a: string, b: string): number {
  let prev = Array.from({length: b.length + 1}, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const cur = [i]
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1))
    prev = cur
  }
  return prev[b.length]
}
