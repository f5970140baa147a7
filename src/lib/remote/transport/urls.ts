/**
 * urls: the URL rules of the transport. Only http(s) is followed (a registry's `Location` or
 * `Link` may name anything, and node throws for other schemes); a credential's origin decides
 * where it may go; a failed request remembers the URL it failed at, so a message after a
 * redirect names the host that failed (issue 12); URLs and Authorization values are redacted
 * for --verbose.
 */

/** the URL each failed request was sending to when it failed (after redirects) */
const failedUrls = new WeakMap<object, string>()

/** noteFailedUrl records where a request was when it failed with `e`. */
export function noteFailedUrl(e: object, url: string): void {
  failedUrls.set(e, url)
}

/** failedUrl tells which URL a failed send() was talking to (the last hop of its redirects). */
export function failedUrl(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null ? failedUrls.get(e) : undefined
}

/** webUrl parses an http(s) URL (relative to `base`); undefined for anything else or garbage. */
export function webUrl(location: string, base?: string | URL): URL | undefined {
  try {
    const u = new URL(location, base)
    return u.protocol === 'http:' || u.protocol === 'https:' ? u : undefined
  } catch {
    return undefined
  }
}

/** mayCarry: may a credential held for `origin` go to `url`? Same host; never https to http. */
export function mayCarry(origin: URL, url: URL): boolean {
  return url.host === origin.host && (url.protocol === 'https:' || origin.protocol === 'http:')
}

/** redactUrl hides credentials in a URL's user info and secret-looking query parameters. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url)
    if (u.password) u.password = 'REDACTED'
    for (const k of [...u.searchParams.keys()]) {
      if (/token|secret|password|signature|credential/i.test(k)) u.searchParams.set(k, 'REDACTED')
    }
    return u.toString()
  } catch {
    return '(unparseable url)'
  }
}

/** redactAuth keeps an Authorization value's scheme only. */
export function redactAuth(value: string): string {
  const scheme = value.split(' ')[0]
  return `${scheme} REDACTED`
}
