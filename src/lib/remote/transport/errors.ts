/**
 * errors: turn registry answers and network failures into one-line ocitool errors.
 *
 * The distribution error envelope (`{"errors":[{"code","message","detail"}]}`) is shown as
 * the registry sent it: `MANIFEST_UNKNOWN: manifest unknown`.
 */
import {AuthError, IntegrityError, NotFoundError, OcitoolError, RegistryError} from '../../errors.js'

export interface RegistryErrorEntry {
  code?: string
  message?: string
  detail?: unknown
}

/** What an error message is about, e.g. `manifest 127.0.0.1:5000/app:1.0`. */
export interface ErrorContext {
  /** registry host, for `ocitool auth login HOST` suggestions */
  registry: string
  /** `host/repo` or `host/repo:tag`, the thing the user named */
  subject: string
  /** `manifest`, `blob sha256:…`, `tags`, … (optional) */
  what?: string
  /** whether credentials were sent */
  hadCredentials?: boolean
  /** the host that answered when it is not the registry's own (a redirect's target, a token realm) */
  server?: string
}

/** parseEnvelope reads the distribution error envelope; undefined when the body is not one. */
export function parseEnvelope(body: Buffer | undefined): RegistryErrorEntry[] | undefined {
  if (!body || body.length === 0 || body.length > 64 * 1024) return undefined
  try {
    const doc = JSON.parse(body.toString('utf8')) as {errors?: unknown}
    if (!Array.isArray(doc.errors)) return undefined
    return doc.errors.filter((e): e is RegistryErrorEntry => typeof e === 'object' && e !== null)
  } catch {
    return undefined
  }
}

/** envelopeText renders entries as `CODE: message; CODE: message`. */
export function envelopeText(entries: RegistryErrorEntry[] | undefined): string | undefined {
  if (!entries || entries.length === 0) return undefined
  return entries
    .map((e) => [e.code, e.message].filter((x) => typeof x === 'string' && x !== '').join(': '))
    .filter((s) => s !== '')
    .join('; ') || undefined
}

/** statusError maps an HTTP status (and the envelope in its body) to an ocitool error. */
export function statusError(
  status: number,
  body: Buffer | undefined,
  contentType: string | undefined,
  ctx: ErrorContext,
  request: {method: string; path: string},
): OcitoolError {
  const entries = parseEnvelope(body)
  const sent = envelopeText(entries)
  const about = ctx.what ? `${ctx.what} ${ctx.subject}` : ctx.subject
  const detail = sent ? ` (${sent})` : ''
  const codes = new Set((entries ?? []).map((e) => e.code))
  const login = `ocitool auth login ${ctx.registry}`
  const e = statusErrorAt(status, sent, contentType, ctx, request, about, detail, codes, login)
  if (ctx.server) e.message += ` (answered by ${ctx.server})`
  return e
}

function statusErrorAt(
  status: number,
  sent: string | undefined,
  contentType: string | undefined,
  ctx: ErrorContext,
  request: {method: string; path: string},
  about: string,
  detail: string,
  codes: Set<string | undefined>,
  login: string,
): OcitoolError {
  if (status === 401) {
    const hint = ctx.hadCredentials ? 'check your credentials' : 'authentication required'
    return new AuthError(`unauthorized: ${ctx.subject}: ${hint} (${login})${detail}`, {
      code: 'UNAUTHORIZED',
    })
  }
  if (status === 403 || codes.has('DENIED')) {
    return new AuthError(`denied: ${ctx.subject}: your credentials do not allow ${request.method} ${request.path}${detail}`, {
      code: 'DENIED',
      suggestions: [`log in with an account that may do this (${login})`],
    })
  }
  if (codes.has('DIGEST_INVALID') || codes.has('SIZE_INVALID')) {
    return new IntegrityError(`${about}: the registry found the bytes do not match their digest or size${detail}`, {code: 'DIGEST_MISMATCH'})
  }
  if (status === 404) {
    return new NotFoundError(`${about}: not found${detail}`, {code: notFoundCode(codes)})
  }
  if (!sent && contentType && /text\/html/i.test(contentType)) {
    return new RegistryError(`${ctx.registry}: answered ${status} with an HTML page to ${request.method} ${request.path}: is this a registry?`, {
      code: 'NOT_A_REGISTRY',
    })
  }
  if (status === 405 || codes.has('UNSUPPORTED')) {
    return new RegistryError(`${about}: the registry does not support ${request.method} here${detail}`, {code: 'UNSUPPORTED'})
  }
  return new RegistryError(`${about}: registry answered ${status} to ${request.method} ${request.path}${detail}`, {
    code: `HTTP_${status}`,
  })
}

function notFoundCode(codes: Set<string | undefined>): string {
  for (const c of ['MANIFEST_UNKNOWN', 'NAME_UNKNOWN', 'BLOB_UNKNOWN']) if (codes.has(c)) return c
  return 'NOT_FOUND'
}

const NET_MESSAGES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'unknown host',
  EAI_AGAIN: 'host name lookup failed (temporary)',
  ECONNRESET: 'connection reset by peer',
  EPIPE: 'connection closed while sending',
  ETIMEDOUT: 'timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
}

const TLS_VERIFY_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_UNTRUSTED',
])

/** isTlsVerifyError: the server speaks TLS but its certificate is not trusted. */
export function isTlsVerifyError(e: unknown): boolean {
  return TLS_VERIFY_CODES.has(errorCode(e) ?? '')
}

/** isNotTlsError: the server does not speak TLS on that port (a plain-HTTP registry). */
export function isNotTlsError(e: unknown): boolean {
  const code = errorCode(e) ?? ''
  const msg = e instanceof Error ? e.message : ''
  return code === 'EPROTO' || code.startsWith('ERR_SSL_') || /wrong version number|packet length too long|unknown protocol/i.test(msg)
}

export function errorCode(e: unknown): string | undefined {
  let cur: unknown = e
  for (let i = 0; i < 5 && cur; i++) {
    const code = (cur as {code?: unknown}).code
    if (typeof code === 'string' && code !== 'ERR_GOT_REQUEST_ERROR') return code
    cur = (cur as {cause?: unknown}).cause
  }
  return undefined
}

/**
 * networkError maps a failed request (no HTTP answer) to a RegistryError naming the host that
 * failed; `via` is the registry when a redirect led elsewhere.
 */
export function networkError(e: unknown, host: string, scheme: string, via?: string): OcitoolError {
  const code = errorCode(e)
  const after = via && via !== host ? ` (redirected from ${via})` : ''
  if (code === 'ERR_CREDENTIAL_REDIRECT' || code === 'ERR_INSECURE_CREDENTIAL') {
    return new AuthError(`${host}: ${(e as Error).message}${after}`, {code: code.replace(/^ERR_/, ''), cause: e})
  }
  if (isTlsVerifyError(e)) {
    return new RegistryError(`${host}: TLS certificate not trusted (${code})${after}`, {
      code: 'TLS_VERIFY',
      cause: e,
      suggestions: ['pass the CA with --ca-file FILE, or use --insecure'],
    })
  }
  const reason = e instanceof Error ? e.message.split('\n')[0] : String(e)
  // node's parser refusing the answer (a bad Content-Length, a broken status line)
  const malformed = code?.startsWith('HPE_') ? `answered malformed HTTP (${(e as {reason?: string}).reason ?? reason.replace(/^Parse Error: /, '')})` : undefined
  const notTls = isNotTlsError(e) ? 'does not speak TLS (an https URL for a plain-HTTP port?)' : undefined
  const text = (code && NET_MESSAGES[code]) ?? malformed ?? notTls ?? reason
  const plain = scheme === 'http' && !malformed && !code?.startsWith('ERR_') ? ' (plain HTTP)' : ''
  return new RegistryError(`${host}: ${text}${plain}${after}`, {code: code ?? 'NETWORK', cause: e})
}
