/**
 * Warm polls: the built find_group_chat bundle's handler, imported into this process and invoked
 * with API Gateway events against dynalite, interleaved with the floor (bench/floor.ts) issued
 * through a client built as the functions build theirs. Also the request and capacity count of an
 * idle poll (measured on the wire, bench/count-proxy.ts) and the history-size flatness.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { pathToFileURL } from 'node:url';
import { OBSERVABILITY_ENV } from '../lib/chat-function';
import { createDocumentClient, dynamoDbConfig } from '../lambda/data/client';
import { newestServableSecond } from '../lambda/domain/find-group-chat';
import { lambdaContext } from '../local/lambda-context';
import { apiGatewayEvent } from '../local/server';
import { startCountProxy, type RecordedRequest } from './count-proxy';
import { floorPoll, type Auth, type Mode } from './floor';
import type { BenchDatabase, Chapter } from './setup';
import { USER_ID } from './setup';
import { summary } from './stats';

export type Handler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

const ROUTE_KEY = 'POST /message/find_group_chat';
export const PAGE_LIMIT = 100;

/**
 * Imports a fresh copy of a built bundle (the query string makes it a new module instance) with
 * `env` set while it initialises: the functions read their settings at import, as on Lambda.
 */
export async function importHandler(file: string, env: Record<string, string>, tag: string): Promise<Handler> {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    const module = (await import(`${pathToFileURL(file).href}?${tag}`)) as { handler: Handler };
    return module.handler;
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/** The body of an idle poll on `chapter`: the client holds its newest message. */
export function idlePollBody(mode: Mode, chapter: Chapter): Record<string, number> {
  return mode === 'exact' ? { id: chapter.id, last_id: chapter.lastId } : { id: chapter.id, msg_time: chapter.lastTime };
}

/** The event API Gateway delivers for a poll; with `auth` jwt, the authorizer's verified claims. */
export function pollEvent(body: Record<string, number>, auth: Auth): APIGatewayProxyEventV2 {
  const event = apiGatewayEvent({
    method: 'POST',
    url: '/message/find_group_chat',
    headers: { 'content-type': 'application/json', host: 'api.example.com' },
    body: Buffer.from(JSON.stringify(body)),
    routeKey: ROUTE_KEY,
  });
  if (auth === 'jwt') {
    (event.requestContext as unknown as Record<string, unknown>).authorizer = {
      jwt: { claims: { user_id: String(USER_ID), user_type: '3', name: 'bench' }, scopes: null },
    };
  }
  return event;
}

/** One timed call: returns milliseconds. */
export type Timed = () => Promise<number>;

/** A timed handler call on a freshly parsed event (as Lambda hands each invocation its own), checked. */
export function timedHandler(handler: Handler, event: APIGatewayProxyEventV2, expectEmpty = true): Timed {
  const json = JSON.stringify(event);
  return async () => {
    const e = JSON.parse(json) as APIGatewayProxyEventV2;
    const context = lambdaContext('FindGroupChat');
    const t0 = performance.now();
    const result = await handler(e, context);
    const ms = performance.now() - t0;
    if (result.statusCode !== 200) throw new Error(`poll answered ${result.statusCode}: ${result.body}`);
    if (expectEmpty && !(result.body ?? '').includes('"list":[]')) throw new Error(`idle poll got messages: ${result.body?.slice(0, 200)}`);
    return ms;
  };
}

/** A timed floor poll (the same requests, issued directly). */
export function timedFloor(db: DynamoDBDocumentClient, tableName: string, mode: Mode, auth: Auth, chapter: Chapter): Timed {
  return async () => {
    const p = floorParams(mode, auth, chapter, Date.now());
    const t0 = performance.now();
    await floorPoll(db, tableName, mode, p);
    return performance.now() - t0;
  };
}

function floorParams(mode: Mode, auth: Auth, chapter: Chapter, nowMs: number) {
  return {
    chapterId: chapter.id,
    limit: PAGE_LIMIT,
    userId: auth === 'jwt' ? USER_ID : undefined,
    ...(mode === 'exact' ? { lastId: chapter.lastId } : { msgTime: chapter.lastTime, newestSecond: newestServableSecond(nowMs) }),
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
  /** CPU milliseconds this process spent during each call (dynalite runs in another process). */
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

export interface WarmResult {
  auth: Auth;
  mode: Mode;
  handler: ReturnType<typeof summary>;
  floor: ReturnType<typeof summary>;
  /** Mean CPU time per poll in this process (the handler's or the floor's own work, the SDK's included). */
  handlerCpuMs: number;
  floorCpuMs: number;
}

export interface CountResult {
  auth: Auth;
  mode: Mode;
  polls: number;
  /** Per poll, measured on the wire. */
  requests: number;
  operations: Record<string, number>;
  /** ReturnConsumedCapacity totals as dynalite computes them, per poll. */
  capacityDynalite: number;
  /** The same requests as AWS bills them: at least 1 unit per strongly consistent read request, 0.5 eventually. */
  capacityBilled: number;
  /** The floor sent the same requests (operation and every parameter) as the handler. */
  floorMatches: boolean;
  floorDiff?: string;
}

export interface Handlers {
  jwt: Handler;
  open: Handler;
}

export async function loadHandlers(bundle: string, db: BenchDatabase, endpoint: string, tag: string): Promise<Handlers> {
  // The deployed function's settings (lib/chat-function.ts), then the local database's.
  const env = {
    ...OBSERVABILITY_ENV,
    TABLE_NAME: db.tableName,
    DYNAMODB_ENDPOINT: endpoint,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  return {
    jwt: await importHandler(bundle, { ...env, IDENTITY_SOURCE: 'jwt' }, `${tag}-jwt`),
    open: await importHandler(bundle, { ...env, IDENTITY_SOURCE: 'headers' }, `${tag}-open`),
  };
}

export function floorClient(endpoint: string): DynamoDBDocumentClient {
  return createDocumentClient(dynamoDbConfig({ DYNAMODB_ENDPOINT: endpoint }));
}

/** Warm latency of an idle poll, handler vs floor, for each configuration. */
export async function measureWarm(
  bundle: string,
  db: BenchDatabase,
  configs: { auth: Auth; mode: Mode }[],
  n: number,
  warmup: number,
): Promise<WarmResult[]> {
  const handlers = await loadHandlers(bundle, db, db.endpoint, 'warm');
  const client = floorClient(db.endpoint);
  const results: WarmResult[] = [];
  for (const { auth, mode } of configs) {
    const h = timedHandler(handlers[auth], pollEvent(idlePollBody(mode, db.small), auth));
    const f = timedFloor(client, db.tableName, mode, auth, db.small);
    const { a, b } = await interleave(h, f, n, warmup);
    results.push({ auth, mode, handler: summary(a.ms), floor: summary(b.ms), handlerCpuMs: summary(a.cpu).mean, floorCpuMs: summary(b.cpu).mean });
  }
  client.destroy();
  return results;
}

/** p50 of an idle poll on the long history vs the short one, interleaved, through the handler. */
export async function measureFlatness(
  bundle: string,
  db: BenchDatabase,
  configs: { auth: Auth; mode: Mode }[],
  n: number,
  warmup: number,
): Promise<{ auth: Auth; mode: Mode; small: ReturnType<typeof summary>; large: ReturnType<typeof summary> }[]> {
  // The same module instances as measureWarm's (same URL): their code is warm already.
  const handlers = await loadHandlers(bundle, db, db.endpoint, 'warm');
  const out = [];
  for (const { auth, mode } of configs) {
    const small = timedHandler(handlers[auth], pollEvent(idlePollBody(mode, db.small), auth));
    const large = timedHandler(handlers[auth], pollEvent(idlePollBody(mode, db.large), auth));
    const { a, b } = await interleave(large, small, n, warmup);
    out.push({ auth, mode, large: summary(a.ms), small: summary(b.ms) });
  }
  return out;
}

/** Recursively key-sorted JSON, without the parameter that follows the clock (`:to`, the newest servable second). */
function canonical(value: unknown): string {
  return JSON.stringify(value, (k, v) =>
    k === ':to' ? '<newest second>' : v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([x], [y]) => x.localeCompare(y))) : v,
  );
}

const requestSet = (requests: RecordedRequest[]) => requests.map((r) => `${r.operation} ${canonical(r.body)}`).sort();

function billed(r: RecordedRequest): number {
  if (r.operation === 'Query' || r.operation === 'GetItem') {
    return Math.max(r.capacity, r.body.ConsistentRead === true ? 1 : 0.5);
  }
  return r.capacity;
}

/** Requests and read units of an idle poll, counted on the wire for the handler and for the floor. */
export async function countRequests(bundle: string, db: BenchDatabase, configs: { auth: Auth; mode: Mode }[], polls: number): Promise<CountResult[]> {
  const proxy = await startCountProxy(db.endpoint);
  const handlers = await loadHandlers(bundle, db, proxy.endpoint, 'count');
  const client = floorClient(proxy.endpoint);
  const results: CountResult[] = [];
  try {
    for (const { auth, mode } of configs) {
      const h = timedHandler(handlers[auth], pollEvent(idlePollBody(mode, db.small), auth));
      await h(); // the first call of a fresh copy: connection set-up is not a poll's cost
      proxy.take();
      for (let i = 0; i < polls; i++) await h();
      const recorded = proxy.take();
      const oneHandlerPoll = (await h(), proxy.take());
      await timedFloor(client, db.tableName, mode, auth, db.small)();
      const oneFloorPoll = proxy.take();
      const [hs, fs] = [requestSet(oneHandlerPoll), requestSet(oneFloorPoll)];
      const matches = canonical(hs) === canonical(fs);
      const operations: Record<string, number> = {};
      for (const r of recorded) operations[r.operation] = (operations[r.operation] ?? 0) + 1 / polls;
      results.push({
        auth,
        mode,
        polls,
        requests: recorded.length / polls,
        operations,
        capacityDynalite: recorded.reduce((s, r) => s + r.capacity, 0) / polls,
        capacityBilled: recorded.reduce((s, r) => s + billed(r), 0) / polls,
        floorMatches: matches,
        ...(!matches && { floorDiff: `handler: ${hs.join(' | ')}\nfloor:   ${fs.join(' | ')}` }),
      });
    }
  } finally {
    client.destroy();
    await proxy.close();
  }
  return results;
}
