/**
 * The DynamoDB document client every function shares (one per container, created at init).
 *
 * Time budget of one DynamoDB call: each attempt is cut at the request timeout (which runs from the
 * start of the request, connecting included), and the SDK's standard retry strategy waits between
 * attempts up to ~100 ms after errors and up to 1 s, then 2 s after throttling. So one call with all
 * its attempts is bounded by MAX_ATTEMPTS × request timeout + 3 s (measured with the fault proxy).
 */
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export const DYNAMODB_TIMEOUTS = {
  maxAttempts: 3,
  connectionTimeoutMs: 1000,
  requestTimeoutMs: 1500,
} as const;

/** The longest the standard retry strategy waits in all between attempts (throttling: ≤ 1 s, then ≤ 2 s). */
const MAX_TOTAL_BACKOFF_MS = 3000;

/** Upper bound of one DynamoDB call with all its attempts and backoff. */
export const DYNAMODB_CALL_BUDGET_MS = DYNAMODB_TIMEOUTS.maxAttempts * DYNAMODB_TIMEOUTS.requestTimeoutMs + MAX_TOTAL_BACKOFF_MS;

/** Environment variable that points the client at a local engine (dynalite, DynamoDB Local). */
export const DYNAMODB_ENDPOINT_ENV = 'DYNAMODB_ENDPOINT';

export function dynamoDbConfig(env: NodeJS.ProcessEnv = process.env): DynamoDBClientConfig {
  const endpoint = env[DYNAMODB_ENDPOINT_ENV] || undefined;
  return {
    maxAttempts: DYNAMODB_TIMEOUTS.maxAttempts,
    requestHandler: {
      connectionTimeout: DYNAMODB_TIMEOUTS.connectionTimeoutMs,
      requestTimeout: DYNAMODB_TIMEOUTS.requestTimeoutMs,
      throwOnRequestTimeout: true,
    },
    ...(endpoint && {
      endpoint,
      region: env.AWS_REGION || 'local',
      // A local engine checks no signature; fixed credentials keep local runs free of AWS config.
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    }),
  };
}

/** Time a stamped write (a message put) may take: well inside the legacy hold-back margin. */
export const STAMPED_WRITE_TIMEOUT_MS = 500;

/**
 * The same client, but one attempt per call and a short timeout. A message is stamped with its
 * create_time right before its put; the SDK's own retry would resend the old stamp seconds later,
 * past the hold-back margin of legacy polls. So puts of messages go through this client and the
 * send loop retries them itself, stamping each attempt anew.
 */
export function singleAttemptConfig(config: DynamoDBClientConfig): DynamoDBClientConfig {
  return {
    ...config,
    maxAttempts: 1,
    requestHandler: {
      connectionTimeout: STAMPED_WRITE_TIMEOUT_MS,
      requestTimeout: STAMPED_WRITE_TIMEOUT_MS,
      throwOnRequestTimeout: true,
    },
  };
}

/** Receives the number of retries the SDK made for one DynamoDB call (only when it made some). */
export type RetryListener = (retries: number) => void;
let retryListener: RetryListener | undefined;

/** Sets who hears of the SDK's retries (lambda/observability.ts counts them as a metric); undefined stops it. */
export function onDynamoDbRetries(listener: RetryListener | undefined): void {
  retryListener = listener;
}

/** After each call, successful or not: its attempts − 1 (the SDK's retry middleware sets `$metadata.attempts` on both). */
function reportRetries(metadata: { attempts?: number } | undefined): void {
  const retries = (metadata?.attempts ?? 1) - 1;
  if (retries > 0) retryListener?.(retries);
}

export function createDocumentClient(config: DynamoDBClientConfig = dynamoDbConfig()): DynamoDBDocumentClient {
  const client = new DynamoDBClient(config);
  // Outermost step, so it sees each call once, after all of its attempts.
  client.middlewareStack.add(
    (next) => async (args) => {
      try {
        const result = await next(args);
        reportRetries((result.output as { $metadata?: { attempts?: number } }).$metadata);
        return result;
      } catch (error) {
        reportRetries((error as { $metadata?: { attempts?: number } } | undefined)?.$metadata);
        throw error;
      }
    },
    { step: 'initialize', name: 'reportRetries' },
  );
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true },
  });
}

/** Reads a required setting once at init and fails fast (the function never starts half-configured). */
export function requiredEnv(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const value = env[name];
  if (!value) throw new Error(`environment variable ${name} is not set`);
  return value;
}

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
