/**
 * What every route shares: a middy handler that reads the parameters, runs the route's function and
 * answers the envelope `{ code, msg, data }` with the HTTP status equal to `code`.
 */
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { isUnavailableError } from '../data/client';
import { countMetric, describeError, logger, METRIC, observability } from '../observability';
import { ApiError, ErrorCode, INTERNAL_MESSAGE, UNAVAILABLE_MESSAGE } from './errors';
import { readParams, type Params } from './params';

export type ApiEvent = APIGatewayProxyEventV2;
export type ApiResult = APIGatewayProxyStructuredResultV2;

const HEADERS = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' };

export function envelope(code: number, msg: string, data: object | null): ApiResult {
  return { statusCode: code, headers: { ...HEADERS }, body: JSON.stringify({ code, msg, data }) };
}

/** Errors become envelopes: ApiError as it says, transient database failures 503, the rest 500. */
const errorEnvelope = (): middy.MiddlewareObj<ApiEvent, ApiResult, Error, Context> => ({
  onError: (request) => {
    const error = request.error;
    if (error instanceof ApiError) {
      request.response = envelope(error.code, error.message, null);
      return;
    }
    const code = isUnavailableError(error) ? ErrorCode.Unavailable : ErrorCode.Internal;
    // Logged with the request id (function_request_id) so an operator can find it; the client reads no internals.
    logger.error('request failed', { status: code, error: describeError(error, { stack: code === ErrorCode.Internal }) });
    countMetric(code === ErrorCode.Unavailable ? METRIC.Unavailable : METRIC.Errors);
    request.response = envelope(code, code === ErrorCode.Unavailable ? UNAVAILABLE_MESSAGE : INTERNAL_MESSAGE, null);
  },
});

export function apiHandler(handle: (params: Params, event: ApiEvent) => Promise<object>) {
  return middy<ApiEvent, ApiResult, Error, Context>()
    .use(observability<ApiEvent, ApiResult>())
    .use(errorEnvelope())
    .handler(async (event) => envelope(200, 'ok', await handle(readParams(event), event)));
}
