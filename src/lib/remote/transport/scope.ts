/**
 * scope: registry token scopes (`repository:NAME:pull,push`, `registry:catalog:*`).
 * Scopes for the same resource merge their actions, so one token request covers them all.
 */

export type Action = 'pull' | 'push' | 'delete' | '*'

export function repositoryScope(repository: string, ...actions: Action[]): string {
  return `repository:${repository}:${actions.join(',')}`
}

export const CATALOG_SCOPE = 'registry:catalog:*'

interface ParsedScope {
  resource: string // `repository:NAME`
  actions: Set<string>
}

function parse(scope: string): ParsedScope | undefined {
  const last = scope.lastIndexOf(':')
  if (last <= 0) return undefined
  return {resource: scope.slice(0, last), actions: new Set(scope.slice(last + 1).split(',').filter(Boolean))}
}

/** mergeScopes unions the actions of scopes naming the same resource; the result is sorted. */
export function mergeScopes(scopes: Iterable<string>): string[] {
  const byResource = new Map<string, Set<string>>()
  for (const s of scopes) {
    const p = parse(s)
    if (!p) continue
    const have = byResource.get(p.resource) ?? new Set<string>()
    for (const a of p.actions) have.add(a)
    byResource.set(p.resource, have)
  }
  return [...byResource.entries()]
    .map(([resource, actions]) => `${resource}:${[...actions].sort().join(',')}`)
    .sort()
}

/** covers is true when every action of every wanted scope is in `have`. */
export function covers(have: string[], want: string[]): boolean {
  const granted = new Map<string, Set<string>>()
  for (const s of have) {
    const p = parse(s)
    if (p) granted.set(p.resource, p.actions)
  }
  for (const s of want) {
    const p = parse(s)
    if (!p) continue
    const g = granted.get(p.resource)
    if (!g) return false
    if (g.has('*')) continue
    for (const a of p.actions) if (!g.has(a)) return false
  }
  return true
}

/** repositoriesOf lists the repository names named by scopes (for namespace-keyed keychains). */
export function repositoriesOf(scopes: string[]): string[] {
  return scopes
    .map(parse)
    .filter((p): p is ParsedScope => p !== undefined && p.resource.startsWith('repository:'))
    .map((p) => p.resource.slice('repository:'.length))
}
