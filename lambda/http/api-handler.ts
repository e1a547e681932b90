/**
 * What every route shares: a middy handler that reads the parameters, runs the route's function and
 * answers the envelope `{ code, msg, data }` with the HTTP status equal to `code`.
 */
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { ErrorCode, METRIC, type Deadline } from '../contract';
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
 * A route's handler: `handle` gets the parameters, the event and a `signal` that aborts at the route's
 * deadline (`deadlineMs` after the handler starts, DEADLINES in lambda/contract), and then the answer
 * is a 503 at once. The route gives `signal` to its DynamoDB calls (`store.withSignal`): the calls in
 * flight are aborted and no new one starts, so no work goes on after the answer.
 *
 * The deadline keeps its own clock. middy's early timeout counts back from the Lambda timeout, and
 * stays as the backstop: the function's timeout leaves time to answer after the deadline
 * (lib/chat-function.ts), so in Lambda the deadline comes first; should the context have less time
 * than the deadline (a shorter timeout set by hand, a test), middy answers 503 just before it, and
 * `signal` aborts then too.
 */
export function apiHandler(
  telemetry: Telemetry,
  deadline: Pick<Deadline, 'deadlineMs'>,
  handle: (params: Params, event: ApiEvent, signal: AbortSignal) => Promise<object>,
) {
  return middy<ApiEvent, ApiResult, Error, Context>()
    .use(observability<ApiEvent, ApiResult>(telemetry))
    .use(errorEnvelope(telemetry))
    .handler(async (event, _context, { signal }) => {
      const params = await readParams(event);
      return envelope(200, 'ok', await beforeDeadline(deadline.deadlineMs, signal, (routeSignal) => handle(params, event, routeSignal)));
    });
}

/**
 * `work`'s result, or a TimeoutError (a 503, lambda/http/errors.ts) when `deadlineMs` pass first or
 * `outer` (middy's, just before the Lambda timeout) aborts; the signal given to `work` aborts then.
 */
async function beforeDeadline<T>(deadlineMs: number, outer: AbortSignal, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let expire = (_why: string) => {};
  const outOfTime = new Promise<never>((_, reject) => {
    expire = (why) => {
      const error = new Error(why);
      error.name = 'TimeoutError';
      // Rejected before the calls are aborted, so the answer is this 503 and not their AbortErrors.
      reject(error);
      controller.abort(error);
    };
  });
  const timer = setTimeout(() => expire(`the route's deadline of ${deadlineMs} ms passed`), deadlineMs);
  const onOuterAbort = () => expire('the function is about to time out');
  outer.addEventListener('abort', onOuterAbort, { once: true });
  try {
    return await Promise.race([work(controller.signal), outOfTime]);
  } finally {
    clearTimeout(timer);
    outer.removeEventListener('abort', onOuterAbort);
  }
}
