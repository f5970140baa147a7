// Shared bench helpers: time a command N times (after warm-ups) and report medians.
import {execFile, spawn} from 'node:child_process'
import {existsSync} from 'node:fs'

export function timeOnce(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint()
    const child = spawn(cmd, args, {stdio: ['ignore', 'ignore', 'pipe'], env})
    let err = ''
    child.stderr.on('data', (b) => (err += b))
    child.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6
      if (code !== 0) reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${err}`))
      else resolve(ms)
    })
  })
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

export async function measure(cmd: string, args: string[], runs: number, env?: NodeJS.ProcessEnv): Promise<number> {
  for (let i = 0; i < 2; i++) await timeOnce(cmd, args, env)
  const times: number[] = []
  for (let i = 0; i < runs; i++) times.push(await timeOnce(cmd, args, env))
  return median(times)
}

/** measureInterleaved runs each command once per round, so drift in machine speed hits all alike. */
export async function measureInterleaved(cmds: Record<string, [string, string[]]>, runs: number): Promise<Record<string, number>> {
  const times: Record<string, number[]> = {}
  for (let round = -2; round < runs; round++) {
    for (const [name, [cmd, args]] of Object.entries(cmds)) {
      const ms = await timeOnce(cmd, args)
      if (round >= 0) (times[name] ??= []).push(ms)
    }
  }
  return Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]))
}

export function table(rows: Array<Record<string, string | number>>): string {
  const cols = Object.keys(rows[0])
  const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c] ?? '').length)))
  const line = (vals: string[]) => vals.map((v, i) => v.padEnd(width[i])).join('  ')
  return [line(cols), line(width.map((w) => '-'.repeat(w))), ...rows.map((r) => line(cols.map((c) => String(r[c] ?? ''))))].join('\n')
}

// ---- peers: ocitool beside crane and skopeo, one case at a time, in the same run ----

/** crane (issue 14's bar): CRANE=path, else /tmp/crane-v0.20.2/crane when it is there; undefined skips its columns */
export const crane: string | undefined = process.env.CRANE ?? (existsSync('/tmp/crane-v0.20.2/crane') ? '/tmp/crane-v0.20.2/crane' : undefined)
export const craneNote = crane ? `crane: ${crane}` : 'crane: not found (set CRANE=path, or run /work/shared/peers/build-crane.sh); its columns are left empty'

export interface Run {
  seconds: number
  /** user + sys CPU seconds of the process and its children */
  cpu: number
  rssMiB: number
}

/**
 * timed runs a command under GNU time, for wall time, CPU time and peak RSS. The disk first
 * takes what earlier runs left to write (sync, untimed), so no run pays for the one before it.
 */
export async function timed(cmd: string, args: string[], opts: {stdinFile?: string} = {}): Promise<Run> {
  await new Promise((resolve) => execFile('sync', resolve))
  const argv = opts.stdinFile ? ['sh', '-c', '"$@" < "$0"', opts.stdinFile, cmd, ...args] : [cmd, ...args]
  return new Promise((resolve, reject) => {
    execFile('/usr/bin/time', ['-f', '%e %U %S %M', ...argv], {maxBuffer: 64 * 1024 * 1024}, (err, _out, stderr) => {
      const m = /([\d.]+) ([\d.]+) ([\d.]+) (\d+)\s*$/.exec(stderr)
      if (err || !m) reject(new Error(`${cmd} ${args.join(' ')} failed: ${stderr.slice(-2000)}`))
      else resolve({seconds: Number(m[1]), cpu: Number(m[2]) + Number(m[3]), rssMiB: Number(m[4]) / 1024})
    })
  })
}

export type Tool = 'ocitool' | 'crane' | 'skopeo' | 'floor'

/** inTurn runs a round's tools, reversed every other round, so no tool always goes first */
export async function inTurn(round: number, runs: Array<(() => Promise<void>) | undefined | false | ''>): Promise<void> {
  const list = runs.filter((r): r is () => Promise<void> => typeof r === 'function')
  for (const run of Math.abs(round) % 2 ? [...list].reverse() : list) await run()
}

/** Results collects every run of every case by tool, and prints one table against crane and skopeo. */
export class Results {
  readonly runs: Record<string, Partial<Record<Tool, Run[]>>> = {}

  add(what: string, tool: Tool, run: Run): void {
    ;((this.runs[what] ??= {})[tool] ??= []).push(run)
  }

  clear(): void {
    for (const k of Object.keys(this.runs)) delete this.runs[k]
  }

  /** the table: medians, and the median of each round's own ratio (a round's runs meet the same drift) */
  table(targets: Record<string, string>): string {
    const f = (n: number | undefined, d = 2) => (n === undefined || Number.isNaN(n) ? '' : n.toFixed(d))
    const med = (rs: Run[] | undefined, k: keyof Run) => (rs && rs.length > 0 ? median(rs.map((r) => r[k])) : undefined)
    const ratio = (a: Run[] | undefined, b: Run[] | undefined) => (a && b && b.length === a.length ? median(a.map((x, i) => x.seconds / b[i].seconds)) : undefined)
    const rows = Object.entries(this.runs).map(([what, r]) => ({
      case: what,
      'ocitool s': f(med(r.ocitool, 'seconds')),
      'CPU-s': f(med(r.ocitool, 'cpu')),
      'crane s': f(med(r.crane, 'seconds')),
      'crane CPU-s': f(med(r.crane, 'cpu')),
      '÷crane': f(ratio(r.ocitool, r.crane)),
      'target': targets[what] ?? '',
      'skopeo s': f(med(r.skopeo, 'seconds')),
      '÷skopeo': f(ratio(r.ocitool, r.skopeo)),
      'floor s': f(med(r.floor, 'seconds')),
      'floor ÷crane': f(ratio(r.floor, r.crane)),
      'RSS MiB': f(r.ocitool ? Math.max(...r.ocitool.map((x) => x.rssMiB)) : undefined, 0),
      'crane RSS': f(r.crane ? Math.max(...r.crane.map((x) => x.rssMiB)) : undefined, 0),
      'skopeo RSS': f(r.skopeo ? Math.max(...r.skopeo.map((x) => x.rssMiB)) : undefined, 0),
    }))
    return table(rows)
  }

  /** every run, in order */
  detail(): string {
    const lines: string[] = []
    for (const [what, r] of Object.entries(this.runs)) {
      for (const [who, runs] of Object.entries(r)) lines.push(`  ${what} · ${who}: ${(runs ?? []).map((x) => `${x.seconds.toFixed(2)}s/${x.cpu.toFixed(2)}c`).join(' ')}`)
    }
    return lines.join('\n')
  }
}
