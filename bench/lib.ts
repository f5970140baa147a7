// Shared bench helpers: time a command N times (after warm-ups) and report medians.
import {spawn} from 'node:child_process'

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
  const width = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c]).length)))
  const line = (vals: string[]) => vals.map((v, i) => v.padEnd(width[i])).join('  ')
  return [line(cols), line(width.map((w) => '-'.repeat(w))), ...rows.map((r) => line(cols.map((c) => String(r[c]))))].join('\n')
}
