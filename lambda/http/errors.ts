/**
 * Errors as the API answers them. The HTTP layer's own refusals (bad parameters, identity, body) are
 * ApiErrors; the domain's errors get their status here and nowhere else. Anything else becomes a
 * 500 without internals.
 */
import { ErrorCode } from '../contract';
import { ChatBusyError, ClientMsgIdReusedError, MembershipManagedError, NotMemberError, SendUnsettledError } from '../domain/errors';
import { StorageUnavailableError } from '../ports/errors';

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

/** How an error is answered, and whether an operator must hear of it (logged and counted). */
export interface ErrorAnswer {
  code: ErrorCode;
  msg: string;
  /** 503 and 500: logged with the request id and counted as a metric. */
  alert: boolean;
}

export function answerFor(error: unknown): ErrorAnswer {
  if (error instanceof ApiError) return { code: error.code, msg: error.message, alert: false };
  if (error instanceof NotMemberError) return { code: ErrorCode.Forbidden, msg: error.message, alert: false };
  if (error instanceof MembershipManagedError) return { code: ErrorCode.Forbidden, msg: error.message, alert: false };
  if (error instanceof ClientMsgIdReusedError) return { code: ErrorCode.Conflict, msg: error.message, alert: false };
  if (error instanceof ChatBusyError) return { code: ErrorCode.Unavailable, msg: error.message, alert: true };
  if (error instanceof SendUnsettledError) return { code: ErrorCode.Unavailable, msg: error.message, alert: true };
  if (error instanceof StorageUnavailableError || isOutOfTime(error)) return { code: ErrorCode.Unavailable, msg: UNAVAILABLE_MESSAGE, alert: true };
  return { code: ErrorCode.Internal, msg: INTERNAL_MESSAGE, alert: true };
}

/** middy's early answer just before the Lambda timeout (a slow database, most likely): retry-safe like any 503. */
function isOutOfTime(error: unknown): boolean {
  return error instanceof Error && error.name === 'TimeoutError';
}
