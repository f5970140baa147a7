/**
 * batch: one operation over many inputs (`digest a b c`, `digest -`), run concurrently in one
 * session, so every input shares one connection pool and one token per registry and scope.
 * Outcomes are handed back in input order, each as soon as every earlier input has finished;
 * a failing input is an outcome like any other and does not stop the rest.
 */
import {Session, type RemoteOptions} from '../remote/session.js'

export type BatchOutcome<R> = {index: number; input: string; ok: true; value: R} | {index: number; input: string; ok: false; error: unknown}

/** batch runs `fn` for every input with `options.session` set to one shared session. */
export async function batch<R>(
  inputs: string[],
  remote: RemoteOptions,
  fn: (input: string, options: RemoteOptions) => Promise<R>,
  opts: {concurrency: number; onOutcome: (outcome: BatchOutcome<R>) => void},
): Promise<void> {
  const session = remote.session ?? new Session(remote)
  const options = {...remote, session}
  const done: Array<BatchOutcome<R> | undefined> = []
  let emitted = 0
  let next = 0
  const worker = async () => {
    while (next < inputs.length) {
      const index = next++
      const input = inputs[index]
      try {
        done[index] = {index, input, ok: true, value: await fn(input, options)}
      } catch (error) {
        done[index] = {index, input, ok: false, error}
      }
      while (emitted < inputs.length && done[emitted]) {
        opts.onOutcome(done[emitted]!)
        done[emitted++] = undefined
      }
    }
  }
  try {
    await Promise.all(Array.from({length: Math.max(1, Math.min(opts.concurrency, inputs.length))}, worker))
  } finally {
    if (!remote.session) session.close()
  }
}
