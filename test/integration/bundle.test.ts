/**
 * The deployable artefact: each function's asset built as `cdk synth` builds it (NodejsFunction,
 * the shared bundling options), loaded in a fresh `node` process and invoked with events/*.json
 * against DynamoDB Local — what `sam local invoke` would run.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { buildApp, CONTEXT } from '../../lib/app';
import { PROJECT_ROOT } from '../../lib/chat-stack';
import { NOT_ROUTED, ROUTES } from '../../lambda/contract';
import { seedDemoChapter } from '../../local/demo-chapter';
import { runBundle } from '../support/bundle';
import { startTestTable, type TestTable } from '../support/dynamodb';

const CDK_JSON_CONTEXT = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'cdk.json'), 'utf8')).context;
const event = (name: string) => path.join(PROJECT_ROOT, 'events', `${name}.json`);

let table: TestTable;
let outdir: string;
/** The built asset folder of each function, by route id (and NOT_ROUTED.id). */
const assets: Record<string, string> = {};

beforeAll(async () => {
  table = await startTestTable();
  await seedDemoChapter(table.db, table.tableName);
  outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'chat-synth-'));
  // The stack `sam local invoke` runs: the open demo stage (stages.json), so the events' x-user-* headers say who calls.
  const app = new App({ outdir, context: { ...CDK_JSON_CONTEXT, [CONTEXT.stage]: 'demo', 'aws:cdk:enable-asset-metadata': true } });
  const stack = buildApp(app);
  const template = JSON.parse(fs.readFileSync(path.join(app.synth().directory, stack.templateFile), 'utf8'));
  for (const resource of Object.values<{ Type: string; Properties: { Description?: string }; Metadata?: Record<string, string> }>(
    template.Resources,
  )) {
    if (resource.Type !== 'AWS::Lambda::Function') continue;
    const route = ROUTES.find((r) => resource.Properties.Description === `${r.method} ${r.path}`);
    const id = route?.id ?? (/no route matched/.test(resource.Properties.Description ?? '') ? NOT_ROUTED.id : undefined);
    if (id) assets[id] = path.join(outdir, resource.Metadata!['aws:asset:path']);
  }
}, 120_000);

afterAll(async () => {
  await table.close();
  fs.rmSync(outdir, { recursive: true, force: true });
});

/** Runs the built bundle of `routeId` on the events, as the Lambda runtime would, with its environment. */
async function invokeBuilt(routeId: string, ...events: string[]) {
  // Only the results on stdout (the EMF lines are tested in observability.test.ts).
  const { stdout } = await runBundle(path.join(assets[routeId], 'index.mjs'), events, table, { POWERTOOLS_METRICS_DISABLED: 'true' });
  return stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { result: { statusCode: number; headers: Record<string, string>; body: string } })
    .map(({ result }) => ({ status: result.statusCode, headers: result.headers, body: JSON.parse(result.body) }));
}

it('builds one self-contained ESM bundle per route, the AWS SDK inside', () => {
  expect(Object.keys(assets).sort()).toEqual([...ROUTES.map((r) => r.id), NOT_ROUTED.id].sort());
  for (const dir of Object.values(assets)) {
    expect(fs.readdirSync(dir).sort()).toEqual(['index.mjs', 'index.mjs.map']);
    const code = fs.readFileSync(path.join(dir, 'index.mjs'), 'utf8');
    expect(code).not.toMatch(/from\s*["']@aws-sdk\//); // bundled, not imported from the runtime
    expect(code).not.toMatch(/from\s*["']@middy\//);
  }
});

it('the built find function answers the JSON, form and query-string events', async () => {
  const results = await invokeBuilt(
    'FindGroupChat',
    event('find-group-chat-json'),
    event('find-group-chat-form'),
    event('find-group-chat-query'),
  );
  expect(results.map((r) => [r.status, r.body.data.list.map((m: { id: number }) => m.id)])).toEqual([
    [200, [33, 34, 35, 36, 37, 38, 39]],
    [200, [37, 38, 39]],
    [200, [37, 38, 39]],
  ]);
  expect(results[0].headers).toMatchObject({ 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  expect(results[0].body.data.member_count).toBe(2);
});

it('the built join, send and leave functions answer their events', async () => {
  const [joined] = await invokeBuilt('JoinGroupChat', event('join-group-chat'));
  expect(joined.body).toEqual({ code: 200, msg: 'ok', data: { member_count: 3 } });
  const [sent, again] = await invokeBuilt('SendGroupChat', event('send-group-chat'), event('send-group-chat'));
  expect(sent.body.data).toMatchObject({ id: 40, user_id: 42, user_name: '老师', msg_body: '老师，第三题怎么做？' });
  expect(again.body.data).toEqual(sent.body.data); // same client_msg_id: the original message
  const [left] = await invokeBuilt('LeaveGroupChat', event('leave-group-chat'));
  expect(left.body).toEqual({ code: 200, msg: 'ok', data: { member_count: 2 } });
});

it('the built admin functions answer their IAM-authorized events', async () => {
  const [added, again] = await invokeBuilt('AdminAddMembers', event('admin-add-members'), event('admin-add-members'));
  expect(added.body).toEqual({ code: 200, msg: 'ok', data: { member_count: 5 } });
  expect(again.body).toEqual(added.body); // idempotent
  const [removed] = await invokeBuilt('AdminRemoveMembers', event('admin-remove-members'));
  expect(removed.body).toEqual({ code: 200, msg: 'ok', data: { member_count: 2 } });
});

it("the `$default` route's bundle carries no DynamoDB client (a few KB), and answers 404 and 405", async () => {
  const code = fs.readFileSync(path.join(assets[NOT_ROUTED.id], 'index.mjs'), 'utf8');
  expect(Buffer.byteLength(code)).toBeLessThan(8 * 1024);
  // (The routes' contract is inside, its IAM action names included: text, not a client.)
  expect(code).not.toMatch(/DynamoDBClient|DocumentClient|@aws-sdk|smithy|x-amz-target/i);
  // The route functions carry the client: what the `$default` route's is spared.
  expect(fs.statSync(path.join(assets.FindGroupChat, 'index.mjs')).size).toBeGreaterThan(100 * 1024);

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'not-routed-'));
  try {
    const find = JSON.parse(fs.readFileSync(event('find-group-chat-json'), 'utf8'));
    const write = (name: string, changes: Record<string, unknown>) => {
      const file = path.join(dir, `${name}.json`);
      fs.writeFileSync(file, JSON.stringify({ ...find, ...changes, requestContext: { ...find.requestContext, http: { ...find.requestContext.http, ...changes.http as object } } }));
      return file;
    };
    const { stdout } = await runBundle(
      path.join(assets[NOT_ROUTED.id], 'index.mjs'),
      [write('unknown', { rawPath: '/message/nope', http: { path: '/message/nope' } }), write('get', { http: { method: 'GET' } })],
      table,
    );
    const results = stdout.trim().split('\n').map((line) => JSON.parse(line).result as { statusCode: number; headers: Record<string, string>; body: string });
    expect(results.map((r) => [r.statusCode, JSON.parse(r.body).msg])).toEqual([
      [404, 'no such route'],
      [405, 'method must be POST'],
    ]);
    expect(results[1].headers.allow).toBe('POST');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
