/**
 * Observability of the handlers on DynamoDB Local: what they write to stdout/stderr, as CloudWatch would
 * ingest it. JSON log lines carry the request id and the cold-start flag; EMF lines carry the
 * metrics with the right values (also under injected DynamoDB faults); nothing a client sent —
 * bodies, tokens, names — ever reaches a line, on success, 4xx, 503 or 500 paths; and the built
 * ESM bundle emits the same.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { build } from 'esbuild';
import { METRIC, METRICS_NAMESPACE, SERVICE_NAME } from '../../lambda/contract';
import { UNAVAILABLE_MESSAGE } from '../../lambda/http/errors';
import { esbuildOptionsFor } from '../../lib/bundling';
import { seedDemoChapter } from '../../local/demo-chapter';
import { lambdaContext } from '../../local/lambda-context';
import type { LambdaHandler } from '../../local/handlers';
import type { Handlers } from '../support/chat-client';
import { runBundle } from '../support/bundle';
import { messageRun, putMessages, startTestTable, type TestTable } from '../support/dynamodb';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy';

// The handlers read these at init, when they are imported (below).
// Metrics on (test/support/env.ts turns them off elsewhere); an on-demand container, as Lambda says
// in AWS_LAMBDA_INITIALIZATION_TYPE (Powertools reports cold starts only then); DEBUG, so every
// request writes a line (the default level, INFO, is tested on the bundle below); and event logging
// asked for: the handlers must log no event even then.
process.env.POWERTOOLS_METRICS_DISABLED = 'false';
process.env.AWS_LAMBDA_INITIALIZATION_TYPE = 'on-demand';
process.env.POWERTOOLS_LOG_LEVEL = 'DEBUG';
process.env.POWERTOOLS_LOGGER_LOG_EVENT = 'true';
delete process.env.POWERTOOLS_SERVICE_NAME;
delete process.env.POWERTOOLS_METRICS_NAMESPACE;
delete process.env.POWERTOOLS_DEV;

// Imported after the environment is set (local/server, which chat-client uses, imports the handlers' middleware).
/* eslint-disable @typescript-eslint/no-require-imports */
const { apiGatewayEvent } = require('../../local/api-gateway-event') as typeof import('../../local/api-gateway-event');
const { handlersFor } = require('../support/chat-client') as typeof import('../support/chat-client');
/* eslint-enable @typescript-eslint/no-require-imports */

const PROJECT_ROOT = path.resolve(__dirname, '../..');
const CHAPTER = 7;
const MEMBER = { 'x-user-id': '42', 'x-user-type': '2', 'x-user-name': 'obs-user' };

let table: TestTable;
let proxy: FaultProxy;
let handlers: Handlers;

beforeAll(async () => {
  table = await startTestTable();
  proxy = await startFaultProxy(table.endpoint);
  handlers = await handlersFor(table, proxy.endpoint);
  // Seeded directly: the first handler invocation of this process must be the first test's.
  await putMessages(table, CHAPTER, messageRun({ firstId: 1, count: 10, firstTime: 1_700_000_000, perSecond: 2 }));
  await seedDemoChapter(table.db, table.tableName); // chapter 1, which events/*.json poll
});
afterAll(async () => {
  await proxy.close();
  await table.close();
});
afterEach(() => proxy.setPlan(undefined));

type Line = Record<string, unknown>;
interface Captured {
  status: number;
  body: { code: number; msg: string; data: Record<string, unknown> | null };
  requestId: string;
  /** Every line written to stdout or stderr during the invocation, as written. */
  raw: string[];
  /** EMF lines (with `_aws`). */
  emf: Line[];
  /** Log lines (with `level`). */
  logs: Line[];
  /** Log lines above DEBUG: what a function writes at the default level (INFO). */
  alerts: Line[];
}

function event(route: string, params: Record<string, unknown>, headers: Record<string, string> = {}): APIGatewayProxyEventV2 {
  return apiGatewayEvent({
    method: 'POST',
    url: `/message/${route}`,
    headers: { 'content-type': 'application/json', ...headers },
    body: Buffer.from(JSON.stringify(params)),
  });
}

/** Invokes `handler` once and captures what it writes to stdout and stderr meanwhile. */
async function invoke(handler: LambdaHandler, apiEvent: APIGatewayProxyEventV2): Promise<Captured> {
  const raw: string[] = [];
  const capture = (chunk: string | Uint8Array) => {
    raw.push(...String(chunk).split('\n').filter(Boolean));
    return true;
  };
  const spies = [jest.spyOn(process.stdout, 'write'), jest.spyOn(process.stderr, 'write')].map((spy) => spy.mockImplementation(capture as never));
  const context = lambdaContext('observability-test');
  try {
    const result = await handler(apiEvent, context);
    const parsed = raw.map((line) => JSON.parse(line) as Line);
    return {
      status: result.statusCode ?? 0,
      body: JSON.parse(result.body ?? ''),
      requestId: context.awsRequestId,
      raw,
      emf: parsed.filter((line) => '_aws' in line),
      logs: parsed.filter((line) => 'level' in line),
      alerts: parsed.filter((line) => 'level' in line && line.level !== 'DEBUG'),
    };
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
}

/** The metric values of one EMF line by name, after checking its namespace, dimension and units. */
function metricsOf(emf: Line): Record<string, number | number[]> {
  const { CloudWatchMetrics } = emf._aws as { CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][]; Metrics: Array<{ Name: string; Unit: string }> }> };
  expect(CloudWatchMetrics).toHaveLength(1);
  const [{ Namespace, Dimensions, Metrics }] = CloudWatchMetrics;
  expect(Namespace).toBe(METRICS_NAMESPACE);
  expect(Dimensions).toEqual([['service']]);
  expect(emf.service).toBe(SERVICE_NAME);
  expect(Metrics.every((m) => m.Unit === 'Count')).toBe(true);
  return Object.fromEntries(Metrics.map((m) => [m.Name, emf[m.Name] as number | number[]]));
}

const sum = (value: number | number[] | undefined) => [value ?? 0].flat().reduce((a, b) => a + b, 0);

describe('logs', () => {
  it('carry the request id and cold_start: true on the first invocation, false after', async () => {
    const first = await invoke(handlers.find, event('find_group_chat', { id: CHAPTER, last_id: 0, limit: 2 }));
    const second = await invoke(handlers.find, event('find_group_chat', { id: CHAPTER, last_id: 2, limit: 2 }));
    for (const [call, coldStart] of [
      [first, true],
      [second, false],
    ] as const) {
      expect(call.status).toBe(200);
      expect(call.logs).toEqual([
        expect.objectContaining({
          level: 'DEBUG',
          message: 'answered',
          status: 200,
          service: SERVICE_NAME,
          cold_start: coldStart,
          function_request_id: call.requestId,
          function_name: 'observability-test',
          timestamp: expect.any(String),
        }),
      ]);
    }
  });

  it('a successful request: its DEBUG line and one EMF line, nothing else', async () => {
    const poll = await invoke(handlers.find, event('find_group_chat', { id: CHAPTER, last_id: 0 }));
    expect(poll.status).toBe(200);
    expect(poll.alerts).toEqual([]);
    expect([poll.raw.length, poll.logs.length, poll.emf.length]).toEqual([2, 1, 1]);
  });

  it('a 4xx records no metric (no EMF line) and writes only its DEBUG line', async () => {
    const bad = await invoke(handlers.find, event('find_group_chat', { id: CHAPTER }));
    expect(bad.status).toBe(400);
    expect(bad.raw).toHaveLength(1);
    expect(bad.logs).toEqual([expect.objectContaining({ level: 'DEBUG', status: 400 })]);
  });
});

describe('metrics (EMF)', () => {
  it('an exact poll: Polls 1, LegacyPolls 0, MessagesReturned = the page size', async () => {
    const poll = await invoke(handlers.find, event('find_group_chat', { id: CHAPTER, last_id: 0, limit: 3 }));
    expect((poll.body.data!.list as unknown[]).length).toBe(3);
    expect(poll.emf).toHaveLength(1);
    expect(metricsOf(poll.emf[0])).toEqual({ [METRIC.Polls]: 1, [METRIC.LegacyPolls]: 0, [METRIC.MessagesReturned]: 3 });
  });

  it('a legacy poll: LegacyPolls 1, MessagesReturned = the page size (whole seconds)', async () => {
    const poll = await invoke(handlers.find, event('find_group_chat', { id: CHAPTER, msg_time: 0, limit: 4 }));
    expect((poll.body.data!.list as unknown[]).length).toBe(4);
    expect(metricsOf(poll.emf[0])).toEqual({ [METRIC.Polls]: 1, [METRIC.LegacyPolls]: 1, [METRIC.MessagesReturned]: 4 });
  });

  it('join, send and leave count Joins, MessagesSent and Leaves', async () => {
    const join = await invoke(handlers.join, event('join_group_chat', { id: CHAPTER }, MEMBER));
    const send = await invoke(handlers.send, event('send_group_chat', { id: CHAPTER, msg_body: 'hello', client_msg_id: 'metrics-1' }, MEMBER));
    const leave = await invoke(handlers.leave, event('leave_group_chat', { id: CHAPTER }, MEMBER));
    expect([join.status, send.status, leave.status]).toEqual([200, 200, 200]);
    expect(metricsOf(join.emf[0])).toEqual({ [METRIC.Joins]: 1 });
    expect(metricsOf(send.emf[0])).toEqual({ [METRIC.MessagesSent]: 1 });
    expect(metricsOf(leave.emf[0])).toEqual({ [METRIC.Leaves]: 1 });
  });

  it("counts the SDK's retries of a call that then succeeded, without an error line", async () => {
    proxy.setPlan((request) => (request.attempt === 1 ? 'server-error' : undefined)); // every call fails once
    const poll = await invoke(handlers.find, event('find_group_chat', { id: CHAPTER, last_id: 0, limit: 3 }));
    expect(poll.status).toBe(200);
    expect(poll.alerts).toEqual([]);
    const { [METRIC.DynamoDbRetries]: retries, ...rest } = metricsOf(poll.emf[0]);
    expect(rest).toEqual({ [METRIC.Polls]: 1, [METRIC.LegacyPolls]: 0, [METRIC.MessagesReturned]: 3 });
    // One value per DynamoDB call (a full exact page: the Query, then the presence item): 1 retry each.
    expect([retries].flat()).toEqual([1, 1]);
  });

  it('a 503 under faults: Unavailable 1, the retries counted, and one ERROR line with the request id', async () => {
    proxy.setPlan(() => 'server-error'); // every attempt fails
    const poll = await invoke(handlers.find, event('find_group_chat', { id: CHAPTER, msg_time: 0 }));
    expect({ status: poll.status, body: poll.body }).toEqual({ status: 503, body: { code: 503, msg: UNAVAILABLE_MESSAGE, data: null } });
    const metrics = metricsOf(poll.emf[0]);
    expect(metrics[METRIC.Unavailable]).toBe(1);
    expect(metrics[METRIC.Polls]).toBeUndefined();
    // Each failed call made the SDK's 3 attempts: 2 retries per call, for at least one call.
    expect(sum(metrics[METRIC.DynamoDbRetries])).toBeGreaterThanOrEqual(2);
    expect([metrics[METRIC.DynamoDbRetries]].flat().every((n) => n === 2)).toBe(true);
    expect(poll.alerts).toEqual([
      expect.objectContaining({
        level: 'ERROR',
        message: 'request failed',
        status: 503,
        function_request_id: poll.requestId,
        cold_start: false,
        error: expect.objectContaining({ name: 'InternalServerError', aws: expect.objectContaining({ httpStatusCode: 500, attempts: 3 }) }),
      }),
    ]);
    expect(poll.alerts[0].error).not.toHaveProperty('stack'); // the database's doing: no stack
  });
});

describe('nothing a client sent reaches a line', () => {
  const MARKER = `marker${Date.now().toString(36)}${Math.random().toString(36).slice(2)}`;
  const headers = { ...MEMBER, 'x-user-name': `name-${MARKER}`, authorization: `Bearer token-${MARKER}` };
  const sendEvent = (body = `message-${MARKER}`) => event('send_group_chat', { id: CHAPTER, msg_body: body, client_msg_id: `cid-${MARKER}` }, headers);

  function expectNoMarker(calls: Captured[]) {
    for (const call of calls) for (const line of call.raw) expect(line).not.toContain(MARKER);
  }

  it('on success (even at DEBUG), on a 400, and on a 503 under faults', async () => {
    const join = await invoke(handlers.join, event('join_group_chat', { id: CHAPTER }, headers));
    const sent = await invoke(handlers.send, sendEvent());
    const poll = await invoke(handlers.find, event('find_group_chat', { id: CHAPTER, last_id: 0 }, headers));
    const tooLong = await invoke(handlers.send, sendEvent(`${MARKER} `.repeat(300)));
    proxy.setPlan(() => 'server-error');
    const unavailable = await invoke(handlers.send, sendEvent(`again-${MARKER}`));
    expect([join.status, sent.status, poll.status, tooLong.status, unavailable.status]).toEqual([200, 200, 200, 400, 503]);
    // The marker went through the handlers: it is in the stored message they answer with.
    expect(JSON.stringify(poll.body)).toContain(MARKER);
    expect(unavailable.logs.map((l) => l.level)).toEqual(['ERROR', 'DEBUG']);
    expectNoMarker([join, sent, poll, tooLong, unavailable]);
    // No line logs an event, whatever POWERTOOLS_LOGGER_LOG_EVENT says.
    for (const call of [join, sent, poll, tooLong, unavailable]) expect(call.logs.filter((l) => 'event' in l)).toEqual([]);
  });

  it('on a 500 (a table that does not exist), which is logged with its request id and counted as Errors', async () => {
    const tableName = process.env.TABLE_NAME;
    let failed: Captured | undefined;
    try {
      process.env.TABLE_NAME = 'no-such-table';
      await jest.isolateModulesAsync(async () => {
        const { handler } = await import('../../lambda/handlers/send-group-chat');
        failed = await invoke(handler, sendEvent());
      });
    } finally {
      process.env.TABLE_NAME = tableName;
    }
    expect(failed!.status).toBe(500);
    expect(failed!.body).toEqual({ code: 500, msg: 'internal error', data: null });
    expect(failed!.alerts).toEqual([
      expect.objectContaining({ level: 'ERROR', status: 500, function_request_id: failed!.requestId, error: expect.objectContaining({ name: 'ResourceNotFoundException', stack: expect.any(String) }) }),
    ]);
    expect(metricsOf(failed!.emf[0])).toEqual({ [METRIC.Errors]: 1 });
    expectNoMarker([failed!]);
  });
});

describe('the built ESM bundle (as deployed), in a fresh process', () => {
  let outDir: string;
  let bundle: string;
  beforeAll(async () => {
    outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'obs-bundle-'));
    bundle = path.join(outDir, 'index.mjs');
    await build({ ...esbuildOptionsFor(path.join(PROJECT_ROOT, 'lambda/handlers/find-group-chat.ts')), outfile: bundle, logLevel: 'silent' });
  }, 60_000);
  afterAll(() => fs.rmSync(outDir, { recursive: true, force: true }));

  /** Two polls in one process; every line it printed (invoke-bundle.mjs prints each result as a line too). */
  async function twoPolls(env: Record<string, string>): Promise<Line[]> {
    const pollEvent = path.join(PROJECT_ROOT, 'events/find-group-chat-json.json');
    const { stdout, stderr } = await runBundle(bundle, [pollEvent, pollEvent], table, {
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      POWERTOOLS_SERVICE_NAME: 'group-chat-bundle',
      ...env,
    });
    expect(stderr).toBe('');
    const lines = stdout.trim().split('\n').map((line) => JSON.parse(line) as Line);
    expect(lines.filter((line) => 'result' in line).map((line) => (line.result as { statusCode: number }).statusCode)).toEqual([200, 200]);
    return lines.filter((line) => !('result' in line));
  }

  it('at the default level (INFO) a successful poll writes one EMF line and no log line', async () => {
    const lines = await twoPolls({});
    expect(lines).toEqual([
      expect.objectContaining({ _aws: expect.anything(), service: 'group-chat-bundle', [METRIC.Polls]: 1, [METRIC.MessagesReturned]: 7 }),
      expect.objectContaining({ _aws: expect.anything(), service: 'group-chat-bundle', [METRIC.Polls]: 1, [METRIC.MessagesReturned]: 7 }),
    ]);
  });

  it('at DEBUG each poll writes its line: cold_start true, then false; no event even with POWERTOOLS_LOGGER_LOG_EVENT', async () => {
    const logs = (await twoPolls({ POWERTOOLS_LOG_LEVEL: 'DEBUG', POWERTOOLS_LOGGER_LOG_EVENT: 'true' })).filter((line) => 'level' in line);
    expect(logs).toEqual([
      expect.objectContaining({ level: 'DEBUG', message: 'answered', status: 200, cold_start: true, service: 'group-chat-bundle' }),
      expect.objectContaining({ level: 'DEBUG', message: 'answered', status: 200, cold_start: false, service: 'group-chat-bundle' }),
    ]);
  });
});
