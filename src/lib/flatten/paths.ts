/**
 * paths: names inside an image's root filesystem, as flatten's planner (plan.ts) and the file
 * tree of `diff --files` (layer-files.ts) see them: a tar name made a path relative to the root,
 * its ancestors and parent, and where a path lands when the image's own symlinks are followed
 * without leaving the root.
 */

/**
 * normalizeEntryPath turns a tar name into a path relative to the root: no `./`, no leading or
 * doubled `/`, `.` and `..` resolved lexically. Undefined when it climbs above the root.
 * The root itself is ''.
 */
export function normalizeEntryPath(name: string): string | undefined {
  const parts: string[] = []
  for (const seg of name.split('/')) {
    if (seg === '' || seg === '.') continue
    if (seg === '..') {
      if (parts.length === 0) return undefined
      parts.pop()
      continue
    }
    parts.push(seg)
  }
  return parts.join('/')
}

/** ancestorsOf lists the proper ancestors of a path, the root ('') first. */
export function ancestorsOf(path: string): string[] {
  const out = ['']
  for (let i = path.indexOf('/'); i >= 0; i = path.indexOf('/', i + 1)) out.push(path.slice(0, i))
  return out
}

export const parentOf = (path: string) => path.slice(0, Math.max(0, path.lastIndexOf('/')))

/** symlinks followed while resolving one path, at most (Linux's MAXSYMLINKS); more is a loop */
const MAX_SYMLINK_HOPS = 40

/**
 * resolveInRoot: where creating something in directory `dir` of the flattened filesystem lands
 * when its symlinks (`symlinks`: path → target) are followed inside the root, as a container
 * sees it: an absolute target starts again at the root and `..` stops at the root (containerd's
 * fs.RootPath does the same). `escapes` says whether a tool that follows symlinks as the kernel
 * does (GNU tar, Python's tarfile) would have left the extraction root on the way (an absolute
 * target, or `..` above the root): flatten then writes the entry at `path` instead (issue 12,
 * item 5: `var/run -> /run`, then `var/run/x`, is written as `run/x`). A symlink that stays
 * inside (`lib -> usr/lib`, then `lib/x`) does not escape; such entries are kept as written.
 * Undefined for a loop (more than 40 links followed, as Linux's MAXSYMLINKS).
 */
export function resolveInRoot(dir: string, symlinks: ReadonlyMap<string, string>): {path: string; escapes: boolean} | undefined {
  let rest = dir === '' ? [] : dir.split('/')
  const at: string[] = []
  let hops = 0
  let escapes = false
  while (rest.length > 0) {
    const seg = rest[0]
    rest = rest.slice(1)
    if (seg === '' || seg === '.') continue
    if (seg === '..') {
      if (at.length === 0) escapes = true
      at.pop()
      continue
    }
    at.push(seg)
    const target = symlinks.get(at.join('/'))
    if (target === undefined) continue
    if (++hops > MAX_SYMLINK_HOPS) return undefined
    at.pop()
    if (target.startsWith('/') || target === '') {
      escapes = true
      at.length = 0
    }
    rest = [...target.split('/'), ...rest]
  }
  return {path: at.join('/'), escapes}
}
