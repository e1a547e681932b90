/**
 * A route's deadline (lambda/http/api-handler.ts): the handler answers a retry-safe 503 when its
 * deadline passes, the signal its work was given is aborted at that moment (so the store starts no
 * DynamoDB request after the answer), and middy's own early answer, when the context has less time
 * than the deadline, aborts it too. The store's side of it, on the real engine, is pinned in
 * test/integration/exactly-once.test.ts.
 */
import type { Context } from 'aws-lambda';
import { apiHandler, type ApiEvent } from '../../lambda/http/api-handler';
import { UNAVAILABLE_MESSAGE } from '../../lambda/http/errors';
import { Telemetry } from '../../lambda/http/observability';
import { lambdaContext } from '../../local/lambda-context';

const event = { rawPath: '/x', headers: { 'content-type': 'application/json' }, body: '{}', isBase64Encoded: false } as unknown as ApiEvent;

/** A route whose work waits until `signal` aborts (a DynamoDB call that never answers) and then fails as the SDK does, with an AbortError. */
function hangingRoute(deadlineMs: number) {
  const seen: { abortedAt?: number; signal?: AbortSignal } = {};
  const handler = apiHandler(new Telemetry(), { deadlineMs }, (_params, _event, signal) => {
    seen.signal = signal;
    return new Promise<object>((_, reject) =>
      signal.addEventListener('abort', () => {
        seen.abortedAt = Date.now();
        reject(Object.assign(new Error('Request aborted'), { name: 'AbortError' }));
      }),
    );
  });
  return { handler, seen };
}

async function call(handler: ReturnType<typeof apiHandler>, context: Context) {
  const result = (await handler(event, context)) as { statusCode: number; body: string };
  return { status: result.statusCode, body: JSON.parse(result.body), answeredAt: Date.now() };
}

test('the deadline passes: a 503 at the deadline, and the work\'s signal aborted by the time it is answered', async () => {
  const { handler, seen } = hangingRoute(200);
  const answer = await call(handler, lambdaContext('deadline', 10_000));
  expect({ status: answer.status, body: answer.body }).toEqual({ status: 503, body: { code: 503, msg: UNAVAILABLE_MESSAGE, data: null } });
  expect(seen.signal?.aborted).toBe(true);
  expect(seen.abortedAt).toBeLessThanOrEqual(answer.answeredAt);
});

test('work done in time is answered, and its signal is left alone', async () => {
  let given: AbortSignal | undefined;
  const handler = apiHandler(new Telemetry(), { deadlineMs: 1000 }, async (_params, _event, signal) => {
    given = signal;
    return { ok: true };
  });
  const answer = await call(handler, lambdaContext('deadline', 10_000));
  expect({ status: answer.status, body: answer.body }).toEqual({ status: 200, body: { code: 200, msg: 'ok', data: { ok: true } } });
  await new Promise((resolve) => setTimeout(resolve, 1100));
  expect(given?.aborted).toBe(false);
});

test('a context shorter than the deadline: middy answers 503 just before it, and the work\'s signal aborts too', async () => {
  const { handler, seen } = hangingRoute(10_000);
  const answer = await call(handler, lambdaContext('deadline', 150));
  expect({ status: answer.status, body: answer.body }).toEqual({ status: 503, body: { code: 503, msg: UNAVAILABLE_MESSAGE, data: null } });
  expect(seen.signal?.aborted).toBe(true);
  expect(seen.abortedAt).toBeLessThanOrEqual(answer.answeredAt);
});
