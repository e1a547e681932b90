/**
 * Push: the WebSocket API that delivers new messages to connected members (issue 15), as the
 * functions, the stack (lib/), the local server (local/push/) and the demo page share it.
 * The stack builds the API, its routes and authorizer, the functions (with exactly these DynamoDB
 * actions, on the table only), the mock routes (with these fixed answers) and the stream's event
 * source mapping (with these filters) from this file; the local server serves the same handlers,
 * answers the same mock routes and applies the same filters.
 * Types and constants only. docs/design.md, "Push", says why it is built this way.
 */
import type { Message } from './api';

/** One function of the push side. */
export interface PushFunctionSpec {
  /** Construct id of the function, e.g. `PushConnect`. */
  readonly id: string;
  /** Handler source, relative to the project root; it exports `handler`. */
  readonly entry: string;
  /** Exactly the DynamoDB actions the handler issues, granted on the table only (no index). */
  readonly dynamodbActions: readonly string[];
  /** The handler writes through TransactWriteItems (IAM checks its items' actions, listed above). */
  readonly transactWrites?: boolean;
  /** The handler calls the management API (PostToConnection): grant `execute-api:ManageConnections` on the WebSocket API's `@connections`, set ENV.pushConnectionsEndpoint. */
  readonly postsToConnections?: boolean;
  /** The handler verifies tokens itself (aws-jwt-verify): set ENV.jwtIssuer and ENV.jwtAudience (and the claim names, as for the HTTP functions). */
  readonly verifiesTokens?: boolean;
}

/** A route of the WebSocket API and the function behind it (Lambda proxy integration). Routes without a function: PushMockRouteSpec. */
export interface PushRouteSpec extends PushFunctionSpec {
  /** `$connect`, `$disconnect`, or a value of the frame's `action` (PUSH_ROUTE_SELECTION_EXPRESSION). */
  readonly routeKey: string;
  /** Behind the REQUEST authorizer (PUSH_AUTHORIZER); only `$connect` can be. */
  readonly authorized: boolean;
  /** Two-way route: the integration's answer (its `body`) is sent back to the client (a route response `$default`). */
  readonly returnsResponse: boolean;
}

/** The WebSocket API's route selection: the `action` field of the client's JSON frame. */
export const PUSH_ROUTE_SELECTION_EXPRESSION = '$request.body.action';

/** Query-string names of the connect URL `wss://<api>/<stage>?chapters=1,2&token=<JWT>` (locally `ws://127.0.0.1:<port>/push?...`). */
export const PUSH_QUERY = {
  /** 1 to MAX_PUSH_CHAPTERS chapter ids, comma-separated: the chapters to receive. */
  chapters: 'chapters',
  /** The user's JWT (browsers cannot set headers on a WebSocket), verified with aws-jwt-verify against the stack's issuer and audience. */
  token: 'token',
  /** Only with IDENTITY_SOURCE=headers (local runs, open demos): stand-ins for the x-user-* headers. */
  userId: 'user_id',
  userType: 'user_type',
  userName: 'user_name',
} as const;

/** The local server's path of the WebSocket upgrade (the HTTP API's server, same port). */
export const LOCAL_PUSH_PATH = '/push';

/** At most this many chapters per connection (a connect reads and writes one item per chapter). */
export const MAX_PUSH_CHAPTERS = 10;

/**
 * The REQUEST authorizer of `$connect`: verifies the identity and that the caller is a member of
 * every listed chapter (one strongly consistent BatchGetItem). Deny → the handshake fails with 403.
 * Allow → `PushAuthorizerContext`, which API Gateway passes to `$connect` and `$disconnect`.
 * `identitySource` by identity source (ENV.identitySource): API Gateway answers 401 without calling
 * the authorizer when one of them is missing. No result caching (WebSocket authorizers have none).
 */
export const PUSH_AUTHORIZER = {
  id: 'PushAuthorize',
  entry: 'lambda/handlers/push-authorize.ts',
  dynamodbActions: ['dynamodb:BatchGetItem'],
  verifiesTokens: true,
  identitySource: {
    jwt: [`route.request.querystring.${PUSH_QUERY.token}`, `route.request.querystring.${PUSH_QUERY.chapters}`],
    headers: [`route.request.querystring.${PUSH_QUERY.userId}`, `route.request.querystring.${PUSH_QUERY.chapters}`],
  },
} as const satisfies PushFunctionSpec & { identitySource: Record<'jwt' | 'headers', readonly string[]> };

/** What the authorizer hands to `$connect` and `$disconnect` (`requestContext.authorizer`). Values are strings or numbers, as API Gateway allows. */
export interface PushAuthorizerContext {
  user_id: number;
  /** The chapter ids, comma-separated (context values cannot be arrays). */
  chapters: string;
}

/** The routes that run a function. */
export const PUSH_ROUTES: readonly PushRouteSpec[] = [
  {
    id: 'PushConnect',
    routeKey: '$connect',
    entry: 'lambda/handlers/push-connect.ts',
    // One TransactWriteItems: per chapter a ConditionCheck of the member item (a member who left
    // after the authorizer ran is refused) and a PutItem of the subscription.
    dynamodbActions: ['dynamodb:ConditionCheckItem', 'dynamodb:PutItem'],
    transactWrites: true,
    authorized: true,
    returnsResponse: false,
  },
  {
    id: 'PushDisconnect',
    routeKey: '$disconnect',
    entry: 'lambda/handlers/push-disconnect.ts',
    // One BatchWriteItem deleting the connection's subscriptions (keys from the authorizer's context).
    dynamodbActions: ['dynamodb:BatchWriteItem'],
    authorized: false,
    returnsResponse: false,
  },
];

/**
 * A route answered by API Gateway itself (a MOCK integration, two-way): the client gets `response`
 * back, and no function runs — no invocation, no log lines, no concurrency. Not authorized (only
 * `$connect` can be): it runs on a connection the authorizer admitted.
 */
export interface PushMockRouteSpec {
  /** A value of the frame's `action` (PUSH_ROUTE_SELECTION_EXPRESSION). */
  readonly routeKey: string;
  /**
   * The frame sent back, as its JSON text: the integration response's template (a Velocity
   * template, so no `$` or `#` in it) and what the local server sends.
   */
  readonly response: string;
}

/** The keep-alive's answer, `{"type":"pong"}`. */
export const PONG_FRAME = JSON.stringify({ type: 'pong' } satisfies PushFrame);

/**
 * The keep-alive: `{"action":"ping"}` answered `{"type":"pong"}` (API Gateway closes a connection
 * idle for 10 minutes; clients ping every PUSH_PING_INTERVAL_SECONDS). It touches no table, so
 * API Gateway answers it: a keep-alive costs its two messages and nothing else.
 */
export const PUSH_PING_ROUTE = { routeKey: 'ping', response: PONG_FRAME } as const satisfies PushMockRouteSpec & { routeKey: PingFrame['action'] };

/** The routes API Gateway answers without a function. */
export const PUSH_MOCK_ROUTES: readonly PushMockRouteSpec[] = [PUSH_PING_ROUTE];

/**
 * The fan-out, fed by the table's stream (TABLE.streamViewType): new messages to the chapter's
 * subscriptions, `unsubscribed` to a member who left or was removed (and their subscriptions
 * deleted), subscriptions of gone connections (410) deleted. Answers `batchItemFailures`.
 */
export const PUSH_FANOUT = {
  id: 'PushFanout',
  entry: 'lambda/handlers/push-fanout.ts',
  // Query: a chapter's (or a user's) subscriptions; DeleteItem: a gone or unsubscribed connection's.
  dynamodbActions: ['dynamodb:Query', 'dynamodb:DeleteItem'],
  postsToConnections: true,
} as const satisfies PushFunctionSpec;

/**
 * The sort-key prefixes the stream filters match; lambda/data/keys.ts builds its keys from these,
 * so the filters and the keys cannot drift apart.
 */
export const STREAM_KEY_PREFIX = { message: 'msg#', member: 'member#' } as const;

/**
 * The event source mapping of PUSH_FANOUT on the table's stream. `filterPatterns` are Lambda event
 * filter patterns (each one `FilterCriteria.filter(pattern)` in CDK; a record matching any is
 * delivered): a new message (INSERT of `msg#…`) and a member gone (REMOVE of `member#…`: a leave or
 * an admin removal). Presence updates, reservations and subscriptions never invoke the function.
 */
export const PUSH_STREAM = {
  startingPosition: 'LATEST',
  batchSize: 100,
  maxBatchingWindowSeconds: 0,
  /** A failed record is retried (with the rest of its batch after it) this often, then dropped: clients recover it by the exact poll. */
  retryAttempts: 3,
  /** Pushes older than this are not worth delivering: a client that missed one catches up by polling. */
  maxRecordAgeSeconds: 60,
  bisectBatchOnError: false,
  /** The handler answers `batchItemFailures` (FunctionResponseTypes ReportBatchItemFailures). */
  reportBatchItemFailures: true,
  filterPatterns: [
    { eventName: ['INSERT'], dynamodb: { Keys: { sk: { S: [{ prefix: STREAM_KEY_PREFIX.message }] } } } },
    { eventName: ['REMOVE'], dynamodb: { Keys: { sk: { S: [{ prefix: STREAM_KEY_PREFIX.member }] } } } },
  ],
} as const;

/**
 * A subscription item lives at most this long (TTL `expires_at`): API Gateway closes every
 * connection after 2 hours, so one whose `$disconnect` never ran is gone by then; 10 minutes of margin.
 */
export const PUSH_CONNECTION_MAX_SECONDS = 2 * 60 * 60;
export const SUBSCRIPTION_TTL_SECONDS = PUSH_CONNECTION_MAX_SECONDS + 10 * 60;

/** API Gateway closes a connection idle for 10 minutes; clients ping every 9 (one ping + one pong = 2 billed messages). */
export const PUSH_IDLE_TIMEOUT_SECONDS = 10 * 60;
export const PUSH_PING_INTERVAL_SECONDS = 9 * 60;

/** Client → server frames (JSON text). */
export interface PingFrame {
  action: 'ping';
}

/** Server → client frames (JSON text). `message` is the contract's Message (lambda/contract/api.ts). */
export type PushFrame =
  | { type: 'message'; chapter_id: number; message: Message }
  | { type: 'unsubscribed'; chapter_id: number }
  | { type: 'pong' };

export const PUSH_FRAME_TYPES = ['message', 'unsubscribed', 'pong'] as const;
