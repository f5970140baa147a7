/**
 * challenge: parse `WWW-Authenticate` headers (RFC 7235) as registries send them.
 *
 * One header may hold several challenges (`Basic realm="x", Bearer realm="y",service="z"`),
 * and a response may carry several headers. Parameters are `name=token` or
 * `name="quoted \"string\""`; names are case-insensitive.
 */

export interface Challenge {
  /** lower-cased scheme: `basic`, `bearer`, … */
  scheme: string
  params: Record<string, string>
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+/

/** parseChallenges returns every challenge in the given header values, in order. */
export function parseChallenges(headers: string | string[] | undefined): Challenge[] {
  const values = headers === undefined ? [] : Array.isArray(headers) ? headers : [headers]
  const out: Challenge[] = []
  for (const value of values) out.push(...parseOne(value))
  return out
}

function parseOne(header: string): Challenge[] {
  const out: Challenge[] = []
  let current: Challenge | undefined
  let s = header
  while (true) {
    s = s.replace(/^[\s,]+/, '')
    const word = TOKEN.exec(s)
    if (!word) break // the end, or something we do not understand: stop rather than guess
    s = s.slice(word[0].length)
    const eq = /^\s*=\s*/.exec(s)
    if (!eq || !current) {
      current = {scheme: word[0].toLowerCase(), params: {}}
      out.push(current)
      continue
    }
    s = s.slice(eq[0].length)
    let value: string
    if (s.startsWith('"')) {
      ;({value, rest: s} = readQuoted(s))
    } else {
      value = /^[^\s,]*/.exec(s)![0]
      s = s.slice(value.length)
    }
    current.params[word[0].toLowerCase()] = value
  }
  return out
}

function readQuoted(s: string): {value: string; rest: string} {
  let value = ''
  let i = 1
  for (; i < s.length; i++) {
    const c = s[i]
    if (c === '\\' && i + 1 < s.length) {
      value += s[++i]
    } else if (c === '"') {
      return {value, rest: s.slice(i + 1)}
    } else {
      value += c
    }
  }
  return {value, rest: ''}
}

/** pickChallenge prefers Bearer over Basic, as Docker does; other schemes are not supported. */
export function pickChallenge(challenges: Challenge[]): Challenge | undefined {
  return challenges.find((c) => c.scheme === 'bearer') ?? challenges.find((c) => c.scheme === 'basic')
}
