/**
 * One idle poll, through the handler or as the floor, timed; and the interleaving that compares the
 * two on equal terms.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { ROUTES, type RouteSpec } from '../../lambda/contract';
import { apiGatewayEvent } from '../../local/api-gateway-event';
import type { LambdaHandler } from '../../local/handlers';
import { lambdaContext } from '../../local/lambda-context';
import { floorPoll, type Auth, type Mode, type PollStore } from './floor';
import { USER_ID, type Chapter } from './setup';

/** find_group_chat's route (lambda/contract/routes.ts). */
export const FIND_ROUTE = ROUTES.find((r) => r.id === 'FindGroupChat')!;

/** The body of an idle poll on `chapter`: the client holds its newest message. */
export function idlePollBody(mode: Mode, chapter: Chapter): Record<string, number> {
  return mode === 'exact' ? { id: chapter.id, last_id: chapter.lastId } : { id: chapter.id, msg_time: chapter.lastTime };
}

/** The event API Gateway delivers for a poll; with `auth` jwt, the authorizer's verified claims. */
export function pollEvent(body: Record<string, number>, auth: Auth): APIGatewayProxyEventV2 {
  return routeEvent(FIND_ROUTE, body, auth);
}

/** The event API Gateway delivers for a call of `route` by `userId`; with `auth` jwt, the authorizer's verified claims. */
export function routeEvent(route: RouteSpec, body: Record<string, number | string>, auth: Auth, userId = USER_ID): APIGatewayProxyEventV2 {
  const event = apiGatewayEvent({
    method: route.method,
    url: route.path,
    headers: { 'content-type': 'application/json', host: 'api.example.com' },
    body: Buffer.from(JSON.stringify(body)),
    routeKey: `${route.method} ${route.path}`,
  });
  if (auth === 'jwt') {
    (event.requestContext as unknown as Record<string, unknown>).authorizer = {
      jwt: { claims: { user_id: String(userId), user_type: '3', name: 'bench' }, scopes: null },
    };
  }
  return event;
}

/** One timed call: returns milliseconds. */
export type Timed = () => Promise<number>;

/** A timed handler call on a freshly parsed event (as Lambda hands each invocation its own), checked. */
export function timedHandler(handler: LambdaHandler, event: APIGatewayProxyEventV2, expectEmpty = true): Timed {
  const json = JSON.stringify(event);
  return async () => {
    const e = JSON.parse(json) as APIGatewayProxyEventV2;
    const context = lambdaContext(FIND_ROUTE.id);
    const t0 = performance.now();
    const result = await handler(e, context);
    const ms = performance.now() - t0;
    if (result.statusCode !== 200) throw new Error(`poll answered ${result.statusCode}: ${result.body}`);
    if (expectEmpty && !(result.body ?? '').includes('"list":[]')) throw new Error(`idle poll got messages: ${result.body?.slice(0, 200)}`);
    return ms;
  };
}

/** A timed floor poll (the same requests, through the store directly). */
export function timedFloor(store: PollStore, auth: Auth, chapter: Chapter): Timed {
  return async () => {
    const t0 = performance.now();
    await floorPoll(store, { chapterId: chapter.id, userId: auth === 'jwt' ? USER_ID : undefined });
    return performance.now() - t0;
  };
}

/** CPU time (user + system, this process) since `since`, in ms. */
const cpuMs = (since: NodeJS.CpuUsage) => {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1000;
};

export interface Samples {
  /** Wall-clock milliseconds of each call. */
  ms: number[];
  /** CPU milliseconds this process spent during each call (DynamoDB Local runs in a java process of its own). */
  cpu: number[];
}

/**
 * `warmup` then `n` rounds of a and b, one at a time, alternating which goes first (so neither
 * always runs on a cache the other warmed). Returns the samples of each.
 */
export async function interleave(a: Timed, b: Timed, n: number, warmup: number): Promise<{ a: Samples; b: Samples }> {
  for (let i = 0; i < warmup; i++) {
    await a();
    await b();
  }
  const out = { a: { ms: [] as number[], cpu: [] as number[] }, b: { ms: [] as number[], cpu: [] as number[] } };
  const one = async (f: Timed, into: Samples) => {
    const c0 = process.cpuUsage();
    into.ms.push(await f());
    into.cpu.push(cpuMs(c0));
  };
  for (let i = 0; i < n; i++) {
    if (i % 2 === 0) {
      await one(a, out.a);
      await one(b, out.b);
    } else {
      await one(b, out.b);
      await one(a, out.a);
    }
  }
  return out;
}
