/**
 * The chat table's schema, written once: the CDK stack (lib/chat-table.ts) and the local engines
 * (lambda/data/create-table.ts) both map it. How items are keyed inside it is the data layer's
 * business (lambda/data/keys.ts).
 */
export const TABLE = {
  partitionKey: { name: 'chapter_id', type: 'N' },
  sortKey: { name: 'sk', type: 'S' },
  /** Local secondary index for legacy polls by `create_time`; only message items carry it. */
  createTimeIndex: { name: 'by_create_time', sortKey: { name: 'create_time', type: 'N' } },
  /** Epoch seconds after which DynamoDB's TTL may delete the item (send reservations only). */
  timeToLiveAttribute: 'expires_at',
} as const;

/**
 * Time budget of one DynamoDB call: each attempt is cut at the request timeout (which runs from the
 * start of the request, connecting included), and the SDK's standard retry strategy waits between
 * attempts up to ~100 ms after errors and up to 1 s, then 2 s after throttling. So one call with all
 * its attempts is bounded by maxAttempts × request timeout + 3 s (measured with the fault proxy).
 * The client (lambda/data/client.ts) is configured with these; the stack sizes the function timeout on them.
 */
export const DYNAMODB_TIMEOUTS = {
  maxAttempts: 3,
  connectionTimeoutMs: 1000,
  requestTimeoutMs: 1500,
} as const;

/** The longest the standard retry strategy waits in all between attempts (throttling: ≤ 1 s, then ≤ 2 s). */
const MAX_TOTAL_BACKOFF_MS = 3000;

/** Upper bound of one DynamoDB call with all its attempts and backoff. */
export const DYNAMODB_CALL_BUDGET_MS = DYNAMODB_TIMEOUTS.maxAttempts * DYNAMODB_TIMEOUTS.requestTimeoutMs + MAX_TOTAL_BACKOFF_MS;
