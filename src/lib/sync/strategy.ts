/**
 * strategy: what sync asks a registry (remote/probe.ts, as `registry info` does) and how the
 * answers change what it does. Questions are asked once per registry, only when their answer
 * is needed (a run with nothing to copy asks nothing), and kept in the state file, so later
 * runs ask nothing at all:
 *
 *   mount           (destination) learned from the first mount of a blob another repository of
 *                   the destination got in this run (so it is surely there): 201 yes, 202 no; no:
 *                   no cross-repository mount is attempted there again, shared blobs are uploaded.
 *                   (`registry info --write` asks it with a scratch blob; sync writes none.)
 *   chunkedUpload   (destination, when uploads go in chunks) no: blobs go in one PUT; the
 *                   OCI-Chunk-Min-Length it states raises the chunk size (upload.ts also reads
 *                   it from every upload session)
 *   referrers       (source and destination, with `referrers: true`) no: referrers are read and
 *                   written through the fallback tag straight away, with no API request per image
 *
 * The probe writes only into a repository sync writes to anyway, and only an upload session
 * that it cancels: no blob, no tag.
 */
import {type ProbeQuestion, probeRegistry} from '../remote/probe.js'
import type {Session} from '../remote/session.js'
import {apiHostOf} from '../name/reference.js'

/** What sync knows of a registry; undefined: not asked (the default behaviour applies). */
export interface Answers {
  mount?: boolean
  chunkedUpload?: boolean
  chunkMinLength?: number
  referrers?: boolean
}

/** Where the answers are kept between runs (the journal). */
export interface AnswerCache {
  answersFor(registry: string): Answers | undefined
  saveAnswers(registry: string, answers: Answers): void
}

export type StrategyQuestion = 'mount' | 'chunkedUpload' | 'referrers'

export class Strategies {
  private readonly known = new Map<string, Answers>()
  private readonly queue = new Map<string, Promise<unknown>>()
  private readonly learning = new Map<string, Promise<boolean>>()

  constructor(
    private readonly session: Session,
    private readonly cache?: AnswerCache,
  ) {}

  /** the answers known now, asking nothing (dry runs) */
  peek(registry: string): Answers {
    return this.known.get(registry) ?? this.cache?.answersFor(registry) ?? {}
  }

  /** learn keeps what an ordinary request showed */
  learn(registry: string, answers: Answers): void {
    const next = {...this.peek(registry), ...answers}
    this.known.set(registry, next)
    this.cache?.saveAnswers(registry, next)
  }

  /**
   * mount makes a sibling mount with `attempt` (true: 201), unless the registry is known not to
   * mount. While the answer is unknown, one attempt is made at a time and its answer is kept.
   * An attempt that fails (no answer) teaches nothing.
   */
  async mount(registry: string, attempt: () => Promise<boolean>): Promise<boolean> {
    for (;;) {
      const known = this.peek(registry).mount
      if (known === false) return false
      if (known === true) return attempt()
      const pending = this.learning.get(registry)
      if (!pending) break
      await pending.catch(() => undefined)
      if (this.learning.get(registry) === pending) this.learning.delete(registry)
    }
    const p = attempt()
    this.learning.set(registry, p)
    try {
      const ok = await p
      this.learn(registry, {mount: ok})
      return ok
    } finally {
      if (this.learning.get(registry) === p) this.learning.delete(registry)
    }
  }

  /**
   * ask returns the answers for `questions`, probing what is not known yet (one probe at a time
   * per registry, so images starting together wait for the one probe). `repository` is where a
   * probe may write; `mountInto` a second repository for the mount question (without it the
   * mount question is not asked).
   */
  ask(registry: string, questions: StrategyQuestion[], where: {repository: string; mountInto?: string}): Promise<Answers> {
    const run = (this.queue.get(registry) ?? Promise.resolve()).then(async () => {
      const have = this.peek(registry)
      const missing = questions.filter((q) => have[q] === undefined && (q !== 'mount' || where.mountInto !== undefined))
      if (missing.length === 0) return have
      const info = await probeRegistry(this.session, registry, apiHostOf(registry), {repository: where.repository, mountInto: where.mountInto, questions: missing as ProbeQuestion[]})
      const next: Answers = {...have}
      for (const q of missing) {
        const c = info[q]
        // an unclear answer (an error) is not kept: the default applies and the next run asks again
        if (c.supported !== undefined) next[q] = c.supported
      }
      if (info.chunkMinLength !== undefined) next.chunkMinLength = info.chunkMinLength
      this.known.set(registry, next)
      this.cache?.saveAnswers(registry, next)
      return next
    })
    this.queue.set(registry, run.catch(() => undefined))
    return run
  }
}
