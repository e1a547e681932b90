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
  /** Epoch seconds after which DynamoDB's TTL may delete the item (send reservations, push subscriptions). */
  timeToLiveAttribute: 'expires_at',
  /** The table's stream, read by the push fan-out (lambda/contract/push.ts PUSH_STREAM): new images suffice (a REMOVE record still carries its keys). */
  streamViewType: 'NEW_IMAGE',
} as const;

/**
 * Attempts and timeouts of one DynamoDB call: each attempt is cut at the request timeout (which runs
 * from the start of the request, connecting included), and the SDK's standard retry strategy waits
 * between attempts up to ~100 ms after errors and after throttling up to 1 s, then 2 s (doubling).
 * So one call with all its attempts is bounded by dynamoDbCallBudgetMs (measured with the fault proxy).
 */
export interface DynamoDbCallLimits {
  readonly maxAttempts: number;
  readonly connectionTimeoutMs: number;
  readonly requestTimeoutMs: number;
}

/** Writes, and every tool and test that names no route: 3 attempts of 1.5 s, 7.5 s per call with backoff. */
export const DYNAMODB_TIMEOUTS: DynamoDbCallLimits = {
  maxAttempts: 3,
  connectionTimeoutMs: 1000,
  requestTimeoutMs: 1500,
};

/**
 * Polls fail fast, since the client polls again in 5 s anyway: 3 attempts of 0.8 s, all of which fit
 * in the poll's 3 s deadline after errors and timeouts (2.4 s and ~0.1 s of backoff); after throttling
 * the deadline cuts the backoff (1 s, then 2 s) short.
 */
export const POLL_DYNAMODB_TIMEOUTS: DynamoDbCallLimits = {
  maxAttempts: 3,
  connectionTimeoutMs: 500,
  requestTimeoutMs: 800,
};

/** The standard retry strategy's longest wait before the first retry after throttling; it doubles each retry. */
const THROTTLING_BACKOFF_BASE_MS = 1000;

/** Upper bound of one DynamoDB call with all its attempts and backoff (3 attempts: 3 × timeout + 1 s + 2 s). */
export function dynamoDbCallBudgetMs(limits: DynamoDbCallLimits): number {
  return limits.maxAttempts * limits.requestTimeoutMs + THROTTLING_BACKOFF_BASE_MS * (2 ** (limits.maxAttempts - 1) - 1);
}

/**
 * A route's deadline, the one source of its time limits: its DynamoDB client gets `dynamodb`, the
 * handler answers by `deadlineMs` after it starts (503 at worst; DynamoDB calls still running are
 * aborted and none starts after the answer: lambda/http/api-handler.ts), and the function's Lambda
 * timeout is the deadline plus the time to answer (lib/chat-function.ts). ROUTES gives each route one.
 */
export interface Deadline {
  readonly dynamodb: DynamoDbCallLimits;
  readonly deadlineMs: number;
}

export const DEADLINES = {
  /** A poll's whole DynamoDB budget, 3 s; then 503, and the client's next poll comes 5 s later. */
  poll: { dynamodb: POLL_DYNAMODB_TIMEOUTS, deadlineMs: 3000 },
  /** Sends, joins, leaves and the admin routes: two calls with all their attempts (15 s); a 503 of theirs is safe to retry. */
  write: { dynamodb: DYNAMODB_TIMEOUTS, deadlineMs: 2 * dynamoDbCallBudgetMs(DYNAMODB_TIMEOUTS) },
} as const satisfies Record<string, Deadline>;
