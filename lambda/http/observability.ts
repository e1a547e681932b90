/**
 * Observability every function shares: structured JSON logs (Powertools Logger) and CloudWatch
 * metrics in Embedded Metric Format (Powertools Metrics), one instance of each per container.
 *
 * - Logs: one JSON object per line with the request id (`function_request_id`), `cold_start`, the
 *   function's name and the X-Ray trace id. We write a line only when something needs an operator:
 *   every 5xx (ERROR), nothing per successful request unless the level is DEBUG
 *   (POWERTOOLS_LOG_LEVEL=DEBUG, or POWERTOOLS_LOGGER_SAMPLE_RATE for a share of invocations) —
 *   API Gateway's access log already has one line per request. Events, bodies, headers (the
 *   Authorization token) and message contents are never logged: event logging is off whatever
 *   POWERTOOLS_LOGGER_LOG_EVENT says, and errors are logged through describeError(), which keeps
 *   only their name, message, code, DynamoDB metadata and (for 500s) stack.
 * - Metrics: namespace METRICS_NAMESPACE, one dimension `service` (POWERTOOLS_SERVICE_NAME). The
 *   metrics of one invocation are flushed as one EMF line when it ends (none when it recorded none).
 *   POWERTOOLS_METRICS_DISABLED=true turns the output off (tests, local runs).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type middy from '@middy/core';
import { ENV, METRIC, METRICS_NAMESPACE, SERVICE_NAME, type MetricName } from '../contract';
import { StorageUnavailableError } from '../ports/errors';

/** A function's logger and metrics: one of each per container, created by the handler at init. */
export class Telemetry {
  readonly logger: Logger;
  readonly metrics: Metrics;

  // The function's settings (lib/chat-function.ts sets them to the contract's constants) win; local runs get the constants.
  constructor(env: NodeJS.ProcessEnv = process.env) {
    const serviceName = env[ENV.serviceName] || SERVICE_NAME;
    this.logger = new Logger({ serviceName });
    this.metrics = new Metrics({ namespace: env[ENV.metricsNamespace] || METRICS_NAMESPACE, serviceName });
  }

  count(name: MetricName, value = 1): void {
    this.metrics.addMetric(name, MetricUnit.Count, value);
  }

  /** Passes a result through, counting `name` once (for `.then()` after a successful call). */
  counted =
    (name: MetricName) =>
    <T>(result: T): T => {
      this.count(name);
      return result;
    };

  /** Passes a poll's page through, counting the poll, whether it was legacy (1) or exact (0), and the messages in it. */
  countedPoll<T extends { list: readonly unknown[] }>(legacy: boolean, page: T): T {
    this.count(METRIC.Polls);
    this.count(METRIC.LegacyPolls, legacy ? 1 : 0);
    this.count(METRIC.MessagesReturned, page.list.length);
    return page;
  }

  /** For the store's DynamoDB clients: the SDK's retries, as a metric. */
  countRetries = (retries: number): void => this.count(METRIC.DynamoDbRetries, retries);
}

/**
 * What of an error goes into a log line: never the request, its body or the items involved. The
 * stack only when asked (500s: a bug to find); a 503 is the database's doing, its name and metadata say it all.
 */
export function describeError(error: unknown, options: { stack: boolean }): Record<string, unknown> {
  // The storage's failure is described by what the SDK said (name, DynamoDB metadata).
  if (error instanceof StorageUnavailableError) return describeError(error.cause, options);
  if (!(error instanceof Error)) return { name: typeof error, message: String(error) };
  const e = error as Error & { code?: unknown; $metadata?: Record<string, unknown> };
  return {
    name: e.name,
    message: e.message,
    ...(typeof e.code === 'string' && { code: e.code }),
    ...(e.$metadata && {
      aws: {
        httpStatusCode: e.$metadata.httpStatusCode,
        requestId: e.$metadata.requestId,
        attempts: e.$metadata.attempts,
        totalRetryDelay: e.$metadata.totalRetryDelay,
      },
    }),
    ...(options.stack && { stack: e.stack }),
  };
}

/** Ends each invocation: a DEBUG line with the status, and the invocation's metrics as one EMF line. */
const endInvocation = <TEvent, TResult extends { statusCode?: number } | undefined>({ logger, metrics }: Telemetry): middy.MiddlewareObj<TEvent, TResult> => {
  const end = (request: middy.Request<TEvent, TResult>) => {
    logger.debug('answered', { status: request.response?.statusCode });
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  };
  return { after: end, onError: end };
};

/**
 * The middlewares to use first (outermost): the logger learns the invocation's context (request id,
 * cold start) and the metrics are flushed when it ends. Middlewares used after them (the error
 * envelope) have answered by the time these end the invocation.
 */
export function observability<TEvent, TResult extends { statusCode?: number } | undefined>(telemetry: Telemetry): middy.MiddlewareObj<TEvent, TResult>[] {
  const { logger } = telemetry;
  return [
    // logEvent false: the event (bodies, Authorization) is never logged, even with POWERTOOLS_LOGGER_LOG_EVENT=true.
    injectLambdaContext(logger, { logEvent: false, resetKeys: true }) as middy.MiddlewareObj<TEvent, TResult>,
    endInvocation<TEvent, TResult>(telemetry),
  ];
}
