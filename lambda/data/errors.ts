/** Turns the SDK's failures into what the domain understands (lambda/ports/errors.ts). */
import { StorageUnavailableError } from '../ports/errors';

const TRANSIENT_NAMES = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'InternalServerError',
  'ServiceUnavailable',
  'TimeoutError',
  'RequestTimeout',
]);
const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND']);

/**
 * DynamoDB throttling, DynamoDB 5xx, timeouts and network failures: worth another attempt, and
 * when they outlast the retries, the caller gets a retry-safe 503.
 */
export function isUnavailableError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { name?: string; code?: string; $metadata?: { httpStatusCode?: number } };
  return (
    TRANSIENT_NAMES.has(e.name ?? '') ||
    NETWORK_CODES.has(e.code ?? '') ||
    (e.$metadata?.httpStatusCode ?? 0) >= 500
  );
}

/** The error the store raises for `error`: a StorageUnavailableError for transient failures, else `error` itself (a bug: a 500). */
export function storageError(error: unknown): unknown {
  return isUnavailableError(error) ? new StorageUnavailableError(error) : error;
}
