/**
 * errors: the distribution spec's error envelope. A handler throws `ApiError`; the server
 * answers its status with `{"errors":[{"code","message","detail"}]}`.
 *
 * https://github.com/opencontainers/distribution-spec/blob/main/spec.md#error-codes
 */

/** ErrorCode lists the spec's codes this registry answers, plus distribution's pagination code. */
export const ErrorCode = {
  blobUnknown: 'BLOB_UNKNOWN',
  blobUploadInvalid: 'BLOB_UPLOAD_INVALID',
  blobUploadUnknown: 'BLOB_UPLOAD_UNKNOWN',
  digestInvalid: 'DIGEST_INVALID',
  manifestBlobUnknown: 'MANIFEST_BLOB_UNKNOWN',
  manifestInvalid: 'MANIFEST_INVALID',
  manifestUnknown: 'MANIFEST_UNKNOWN',
  nameInvalid: 'NAME_INVALID',
  nameUnknown: 'NAME_UNKNOWN',
  sizeInvalid: 'SIZE_INVALID',
  unsupported: 'UNSUPPORTED',
  tooManyRequests: 'TOOMANYREQUESTS',
  paginationNumberInvalid: 'PAGINATION_NUMBER_INVALID',
  unknown: 'UNKNOWN',
} as const
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode]

const DEFAULT_STATUS: Record<ErrorCode, number> = {
  BLOB_UNKNOWN: 404,
  BLOB_UPLOAD_INVALID: 400,
  BLOB_UPLOAD_UNKNOWN: 404,
  DIGEST_INVALID: 400,
  MANIFEST_BLOB_UNKNOWN: 400,
  MANIFEST_INVALID: 400,
  MANIFEST_UNKNOWN: 404,
  NAME_INVALID: 400,
  NAME_UNKNOWN: 404,
  SIZE_INVALID: 400,
  UNSUPPORTED: 405,
  TOOMANYREQUESTS: 429,
  PAGINATION_NUMBER_INVALID: 400,
  UNKNOWN: 500,
}

/** ApiError is one error answer: an HTTP status, a spec code, a message and optional detail. */
export class ApiError extends Error {
  readonly status: number
  readonly code: ErrorCode
  readonly detail: unknown
  /** Extra response headers (e.g. `Range` or `Content-Range` on a 416). */
  readonly headers: Readonly<Record<string, string>>

  constructor(code: ErrorCode, message: string, opts: {status?: number; detail?: unknown; headers?: Record<string, string>} = {}) {
    super(message)
    this.name = 'ApiError'
    this.code = code
    this.status = opts.status ?? DEFAULT_STATUS[code]
    this.detail = opts.detail
    this.headers = opts.headers ?? {}
  }

  /** envelope is the JSON body the spec defines for errors. */
  envelope(): {errors: {code: string; message: string; detail?: unknown}[]} {
    return {errors: [{code: this.code, message: this.message, ...(this.detail === undefined ? {} : {detail: this.detail})}]}
  }
}

/** isApiError is true for errors a handler meant to answer as they are. */
export function isApiError(e: unknown): e is ApiError {
  return e instanceof ApiError
}
