/**
 * The storage could not answer: throttling, a 5xx, a timeout or a network failure that outlasted the
 * retries. Worth another attempt; when it reaches a client, a retry-safe 503. The data layer raises
 * it with the underlying error as `cause` (what operators read in the log).
 */
export class StorageUnavailableError extends Error {
  constructor(cause: unknown) {
    super('storage unavailable', { cause });
    this.name = 'StorageUnavailableError';
  }
}
