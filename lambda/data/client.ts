/**
 * The DynamoDB document client every function shares (one per container, created at init), with the
 * timeouts and attempts of its route's deadline (DEADLINES in lambda/contract/table.ts says why);
 * tools and tests that name no route get DYNAMODB_TIMEOUTS, the writes' limits.
 */
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DYNAMODB_TIMEOUTS, ENV, type DynamoDbCallLimits } from '../contract';

/** Region of a client pointed at another engine when AWS_REGION is unset: a real region's name, which every engine accepts. */
export const DEFAULT_LOCAL_REGION = 'us-east-1';

export function dynamoDbConfig(env: NodeJS.ProcessEnv = process.env, limits: DynamoDbCallLimits = DYNAMODB_TIMEOUTS): DynamoDBClientConfig {
  const endpoint = env[ENV.dynamodbEndpoint] || undefined;
  return {
    maxAttempts: limits.maxAttempts,
    requestHandler: {
      connectionTimeout: limits.connectionTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      throwOnRequestTimeout: true,
    },
    ...(endpoint && {
      endpoint,
      region: env.AWS_REGION || DEFAULT_LOCAL_REGION,
      // A local engine (plain http: DynamoDB Local, moto) checks no signature: fixed credentials keep
      // local runs free of AWS config. An https endpoint is a real service: the default credential chain.
      ...(endpoint.startsWith('http:') && { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }),
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

/** A call's attempts − 1, successful or not (the SDK's retry middleware sets `$metadata.attempts` on both). */
function retriesOf(outcome: unknown): number {
  return ((outcome as { $metadata?: { attempts?: number } } | undefined)?.$metadata?.attempts ?? 1) - 1;
}

/** A document client; `onRetries` hears of the SDK's retries of each call (the functions count them as a metric). */
export function createDocumentClient(config: DynamoDBClientConfig = dynamoDbConfig(), onRetries?: RetryListener): DynamoDBDocumentClient {
  const client = new DynamoDBClient(config);
  if (onRetries) {
    const report = (outcome: unknown) => {
      const retries = retriesOf(outcome);
      if (retries > 0) onRetries(retries);
    };
    // Outermost step, so it sees each call once, after all of its attempts.
    client.middlewareStack.add(
      (next) => async (args) => {
        try {
          const result = await next(args);
          report(result.output);
          return result;
        } catch (error) {
          report(error);
          throw error;
        }
      },
      { step: 'initialize', name: 'reportRetries' },
    );
  }
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true },
  });
}

