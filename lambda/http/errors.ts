/**
 * The API's error codes (the envelope's `code`, equal to the HTTP status) and the error value
 * handlers throw. Anything that is not an ApiError becomes a 500 or 503 without internals.
 */
export const ErrorCode = {
  BadRequest: 400,
  Unauthorized: 401,
  Forbidden: 403,
  NotFound: 404,
  MethodNotAllowed: 405,
  PayloadTooLarge: 413,
  UnsupportedMediaType: 415,
  TooManyRequests: 429,
  Internal: 500,
  Unavailable: 503,
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const badRequest = (message: string): ApiError => new ApiError(ErrorCode.BadRequest, message);

/** What a client reads for the errors whose details stay in our logs. */
export const INTERNAL_MESSAGE = 'internal error';
export const UNAVAILABLE_MESSAGE = 'service temporarily unavailable, retry shortly';
