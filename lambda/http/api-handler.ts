/**
 * What every route shares: a middy handler that reads the parameters, runs the route's function and
 * answers the envelope `{ code, msg, data }` with the HTTP status equal to `code`.
 */
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { ErrorCode, METRIC } from '../contract';
import { envelope } from './envelope';
import { answerFor } from './errors';
import { describeError, observability, type Telemetry } from './observability';
import { readParams, type Params } from './params';

export type ApiEvent = APIGatewayProxyEventV2;
export type ApiResult = APIGatewayProxyStructuredResultV2;

/** Errors become envelopes (lambda/http/errors.ts says which code); 503s and 500s are logged and counted, without internals in the answer. */
const errorEnvelope = (telemetry: Telemetry): middy.MiddlewareObj<ApiEvent, ApiResult, Error, Context> => ({
  onError: (request) => {
    const answer = answerFor(request.error);
    if (answer.alert) {
      // Logged with the request id (function_request_id) so an operator can find it; the client reads no internals.
      const internal = answer.code === ErrorCode.Internal;
      telemetry.logger.error('request failed', { status: answer.code, error: describeError(request.error, { stack: internal }) });
      telemetry.count(internal ? METRIC.Errors : METRIC.Unavailable);
    }
    request.response = envelope(answer.code, answer.msg, null);
  },
});

/**
 * `signal` aborts when middy answers just before the Lambda timeout: the route gives it to its
 * DynamoDB calls (`store.withSignal`), so no work goes on after the answer.
 */
export function apiHandler(telemetry: Telemetry, handle: (params: Params, event: ApiEvent, signal: AbortSignal) => Promise<object>) {
  return middy<ApiEvent, ApiResult, Error, Context>()
    .use(observability<ApiEvent, ApiResult>(telemetry))
    .use(errorEnvelope(telemetry))
    .handler(async (event, _context, { signal }) => envelope(200, 'ok', await handle(await readParams(event), event, signal)));
}
