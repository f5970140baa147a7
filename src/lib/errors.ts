/**
 * errors: one family of error classes that map to exit codes scripts can branch on.
 * Messages are one line, lower case, context first; `cause` keeps the underlying error
 * (shown only with --verbose). See STYLE.md for the table of codes.
 */

export const ExitCode = {
  Ok: 0,
  Other: 1,
  Usage: 2,
  NotFound: 3,
  Auth: 4,
  Registry: 5,
  Integrity: 6,
  Interrupted: 130,
} as const
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode]

export interface OcitoolErrorOptions {
  code?: string
  exitCode?: ExitCode
  cause?: unknown
  suggestions?: string[]
}

export class OcitoolError extends Error {
  readonly code: string
  readonly exitCode: ExitCode
  readonly suggestions: string[]
  readonly isOcitoolError = true

  constructor(message: string, options: OcitoolErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : {cause: options.cause})
    this.name = 'OcitoolError'
    this.code = options.code ?? 'ERROR'
    this.exitCode = options.exitCode ?? ExitCode.Other
    this.suggestions = options.suggestions ?? []
  }
}

type SubOptions = Omit<OcitoolErrorOptions, 'exitCode'>

/** UsageError: the user's words are wrong (bad reference, bad flag value). Exit 2. */
export class UsageError extends OcitoolError {
  constructor(message: string, options: SubOptions = {}) {
    super(message, {code: 'USAGE', ...options, exitCode: ExitCode.Usage})
    this.name = 'UsageError'
  }
}

/** NotFoundError: a manifest, blob, tag, repository or file that does not exist. Exit 3. */
export class NotFoundError extends OcitoolError {
  constructor(message: string, options: SubOptions = {}) {
    super(message, {code: 'NOT_FOUND', ...options, exitCode: ExitCode.NotFound})
    this.name = 'NotFoundError'
  }
}

/** AuthError: missing, wrong or insufficient credentials. Exit 4. */
export class AuthError extends OcitoolError {
  constructor(message: string, options: SubOptions = {}) {
    super(message, {code: 'UNAUTHORIZED', ...options, exitCode: ExitCode.Auth})
    this.name = 'AuthError'
  }
}

/** RegistryError: the registry or the network failed or answered something unusable. Exit 5. */
export class RegistryError extends OcitoolError {
  constructor(message: string, options: SubOptions = {}) {
    super(message, {code: 'REGISTRY', ...options, exitCode: ExitCode.Registry})
    this.name = 'RegistryError'
  }
}

/** IntegrityError: bytes that do not match their digest or size. Exit 6. */
export class IntegrityError extends OcitoolError {
  constructor(message: string, options: SubOptions = {}) {
    super(message, {code: 'DIGEST_MISMATCH', ...options, exitCode: ExitCode.Integrity})
    this.name = 'IntegrityError'
  }
}

/** InterruptedError: the operation was cancelled (SIGINT, SIGTERM, AbortSignal). Exit 130. */
export class InterruptedError extends OcitoolError {
  constructor(message = 'interrupted', options: SubOptions = {}) {
    super(message, {code: 'INTERRUPTED', ...options, exitCode: ExitCode.Interrupted})
    this.name = 'InterruptedError'
  }
}

/** isOcitoolError is true for errors of this family, also across copies of the module (plugins). */
export function isOcitoolError(e: unknown): e is OcitoolError {
  return typeof e === 'object' && e !== null && (e as {isOcitoolError?: unknown}).isOcitoolError === true
}
