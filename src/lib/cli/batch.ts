/**
 * batch (command side): many inputs in one run, as arguments or `-` (one per line on stdin;
 * blank lines and `#` comments skipped). Each input's outcome prints in input order, as soon as
 * every earlier input has finished: a line `INPUT VALUE` (under --json, one JSON object per line
 * with `input`), or for a failure `Error: INPUT: message` on stderr (under --json also
 * `{"input", "error"}` on stdout). The run exits with the worst exit code of its inputs.
 */
import * as ops from '../ops/batch.js'
import type {RemoteOptions} from '../remote/session.js'
import {UsageError} from '../errors.js'
import {describeFailure} from './failure.js'

export interface BatchRender<R> {
  /** the text line(s) for an input that worked, without the final newline */
  text: (input: string, value: R) => string
  /** the JSON object for it (`input` is added first) */
  json: (input: string, value: R) => Record<string, unknown>
}

export interface BatchContext {
  json: boolean
  remote: RemoteOptions
  aborted: () => boolean
  concurrency: number
}

/** isBatch: more than one input, or `-` */
export function isBatch(inputs: string[]): boolean {
  return inputs.length > 1 || inputs[0] === '-'
}

/** inputsOf returns the arguments, or with `-` the lines of stdin. */
export async function inputsOf(args: string[], stdin: NodeJS.ReadableStream = process.stdin): Promise<string[]> {
  if (!args.includes('-')) return args
  if (args.length > 1) throw new UsageError('"-" reads the inputs from stdin and stands alone')
  const chunks: Buffer[] = []
  for await (const c of stdin) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c))
  const lines = Buffer.concat(chunks)
    .toString('utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
  if (lines.length === 0) throw new UsageError('no inputs on stdin')
  return lines
}

/** runBatch runs `fn` for every input in one session and prints as above; returns the worst exit code. */
export async function runBatch<R>(ctx: BatchContext, inputs: string[], fn: (input: string, options: RemoteOptions) => Promise<R>, render: BatchRender<R>): Promise<number> {
  let worst = 0
  let out = ''
  const flush = () => {
    if (out !== '') process.stdout.write(out)
    out = ''
  }
  await ops.batch(inputs, ctx.remote, fn, {
    concurrency: ctx.concurrency,
    onOutcome: (o) => {
      if (o.ok) {
        out += ctx.json ? `${JSON.stringify({input: o.input, ...render.json(o.input, o.value)})}\n` : `${render.text(o.input, o.value)}\n`
      } else {
        const f = describeFailure(o.error as Error, ctx.aborted())
        worst = worse(worst, f.exitCode)
        if (ctx.json) out += `${JSON.stringify({input: o.input, error: {code: f.code, message: f.message, exitCode: f.exitCode}})}\n`
        flush()
        process.stderr.write(`Error: ${o.input}: ${f.message}\n`)
      }
      // lines leave in bursts, not one write per input
      if (out.length > 16 * 1024) flush()
    },
  })
  flush()
  await new Promise<void>((resolve) => process.stdout.write('', () => resolve()))
  return worst
}

/** worse: 130 (interrupted) over everything, then the higher code */
function worse(a: number, b: number): number {
  if (a === 130 || b === 130) return 130
  return Math.max(a, b)
}

/** documentJson: a document for a --json line: parsed when it is JSON, else its text */
export function documentJson(bytes: Uint8Array): unknown {
  const text = Buffer.from(bytes).toString('utf8')
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

/** documentLine: a document on one line: JSON without the whitespace between its tokens; anything else as a JSON string */
export function documentLine(bytes: Uint8Array): string {
  const text = Buffer.from(bytes).toString('utf8')
  try {
    JSON.parse(text)
  } catch {
    return JSON.stringify(text)
  }
  return compactJson(text)
}

/** compactJson drops the whitespace between a JSON document's tokens, keeping every other byte. */
function compactJson(s: string): string {
  let out = ''
  let inString = false
  let start = 0
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (inString) {
      if (c === 0x5c) i++
      else if (c === 0x22) inString = false
    } else if (c === 0x22) inString = true
    else if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) {
      out += s.slice(start, i)
      start = i + 1
    }
  }
  return out + s.slice(start)
}
