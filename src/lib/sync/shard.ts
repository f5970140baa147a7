/**
 * shard: `--shard I/N` gives each of N processes a disjoint part of a sync, by repository, with
 * no coordinator: a repository belongs to shard hash(registry/repository) mod N. The hash
 * depends on the name only, so every shard decides the same from its own catalog read, and a
 * repository added later does not move the others. A Kubernetes Indexed Job gives each pod
 * JOB_COMPLETION_INDEX; the count comes from OCITOOL_SHARDS (see docs/sync.md).
 */
import {createHash} from 'node:crypto'
import {UsageError} from '../errors.js'

export interface Shard {
  /** 0-based */
  index: number
  count: number
}

/** parseShard reads `I/N` (0 ≤ I < N). */
export function parseShard(s: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(s.trim())
  if (!m) throw new UsageError(`invalid shard "${s}": expected I/N, e.g. 0/3`)
  const index = Number(m[1])
  const count = Number(m[2])
  if (count < 1 || index >= count) throw new UsageError(`invalid shard "${s}": I must be from 0 to N-1`)
  return {index, count}
}

/** shardFromEnv: JOB_COMPLETION_INDEX (Kubernetes Indexed Job) with OCITOOL_SHARDS, when both are set. */
export function shardFromEnv(env: NodeJS.ProcessEnv): Shard | undefined {
  const index = env.JOB_COMPLETION_INDEX
  const count = env.OCITOOL_SHARDS
  if (index === undefined || index === '') return undefined
  if (!count) throw new UsageError('JOB_COMPLETION_INDEX is set but OCITOOL_SHARDS (the number of shards) is not')
  return parseShard(`${index}/${count}`)
}

/** inShard: whether the repository `name` (registry/repository) belongs to this shard. */
export function inShard(name: string, shard: Shard): boolean {
  if (shard.count === 1) return true
  const h = createHash('sha256').update(name).digest().readUInt32BE(0)
  return h % shard.count === shard.index
}
