/**
 * budget: how many blob transfers may run at once, shared by every transfer that holds the same
 * BlobBudget (sync moves many images at once under one global limit). Capacity is in quarter
 * jobs: a blob under 1 MiB costs 1, a larger one 4 (see the engine's runPool).
 */
export class BlobBudget {
  private used = 0
  private waiters = new Set<() => void>()

  /** `jobs` full-size transfers at once (4 units each) */
  constructor(readonly jobs: number) {}

  get capacity(): number {
    return Math.max(1, this.jobs) * 4
  }

  /** tryTake takes `cost` units when they are free (always when nothing runs: no deadlock). */
  tryTake(cost: number): boolean {
    if (this.used > 0 && this.used + cost > this.capacity) return false
    this.used += cost
    return true
  }

  release(cost: number): void {
    this.used -= cost
    const waiting = [...this.waiters]
    this.waiters.clear()
    for (const w of waiting) w()
  }

  /** whenFree calls `fn` once, at the next release */
  whenFree(fn: () => void): void {
    this.waiters.add(fn)
  }

  forget(fn: () => void): void {
    this.waiters.delete(fn)
  }
}
