/**
 * The local run: `npm start` serves the seed example at the URL it prints, the local server speaks
 * API Gateway's payload format 2.0 to the same handlers, seeding is idempotent, and the
 * `events/*.json` files invoke the handler as `sam local invoke` / `npm run invoke` do.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { seedDemoChapter } from '../../local/demo-chapter';
import { loadHandlers, type LambdaHandler } from '../../local/handlers';
import { createLocalServer } from '../../local/server';
import seedExample from '../fixtures/seed-example-response.json';
import { call } from '../support/api';
import { configureHandlers } from '../support/chat-client';
import { startTestTable, type TestTable } from '../support/dynamodb';

const ROOT = path.resolve(__dirname, '../..');
const seedResponse = { ...seedExample, data: { ...seedExample.data, has_more: false } };

let table: TestTable;
beforeAll(async () => {
  table = await startTestTable();
  configureHandlers(table);
});
afterAll(() => table.close());

describe('the demo chapter seed', () => {
  it('is idempotent: a second run writes nothing and the chapter is unchanged', async () => {
    const read = () =>
      table.db.send(new QueryCommand({ TableName: table.tableName, KeyConditionExpression: 'chapter_id = :c', ExpressionAttributeValues: { ':c': 1 } }));
    const first = await seedDemoChapter(table.db, table.tableName);
    const before = (await read()).Items;
    expect(first).toBe(7 + 2 + 1); // seven messages, two members, the presence item
    expect(await seedDemoChapter(table.db, table.tableName)).toBe(0);
    expect((await read()).Items).toEqual(before);
  });
});

describe('the local server', () => {
  let server: Server;
  let url: string;
  beforeAll(async () => {
    server = createLocalServer(await loadHandlers());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it('answers a form POST, as curl -d sends it, with the seed example', async () => {
    const response = await fetch(`${url}/message/find_group_chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'id=1&msg_time=0',
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(await response.json()).toEqual(seedResponse);
  });

  it('answers a JSON POST and a query string alike', async () => {
    const json = await fetch(`${url}/message/find_group_chat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"id":1,"last_id":38}' });
    expect(((await json.json()) as { data: { list: { id: number }[] } }).data.list.map((m) => m.id)).toEqual([39]);
    const query = await fetch(`${url}/message/find_group_chat?id=1&msg_time=1719284005`, { method: 'POST' });
    expect(((await query.json()) as { data: { list: { id: number }[] } }).data.list.map((m) => m.id)).toEqual([39]);
  });

  it('answers unknown paths 404 and other methods 405, in the envelope', async () => {
    const notFound = await fetch(`${url}/message/nope`, { method: 'POST' });
    expect([notFound.status, await notFound.json()]).toEqual([404, { code: 404, msg: 'no such route', data: null }]);
    const wrongMethod = await fetch(`${url}/message/find_group_chat?id=1&msg_time=0`);
    expect([wrongMethod.status, await wrongMethod.json()]).toEqual([405, { code: 405, msg: 'method must be POST', data: null }]);
  });
});

describe('events/*.json (what sam local invoke and npm run invoke send)', () => {
  const files = readdirSync(path.join(ROOT, 'events')).filter((f) => f.startsWith('find-group-chat'));
  let handler: LambdaHandler;
  beforeAll(async () => ({ handler } = await import('../../lambda/handlers/find-group-chat')));

  it('cover the JSON, form and query-string forms', () => {
    expect(files.sort()).toEqual(['find-group-chat-form.json', 'find-group-chat-json.json', 'find-group-chat-query.json']);
  });

  it.each([
    ['find-group-chat-json.json', [33, 34, 35, 36, 37, 38, 39]],
    ['find-group-chat-form.json', [37, 38, 39]],
    ['find-group-chat-query.json', [37, 38, 39]],
  ])('%s answers 200 with the expected messages', async (file, ids) => {
    const event = JSON.parse(readFileSync(path.join(ROOT, 'events', file), 'utf8'));
    const { status, body } = await call<{ list: { id: number }[] }>(handler, event);
    expect(status).toBe(200);
    expect(body.data!.list.map((m) => m.id)).toEqual(ids);
  });
});

describe('npm start', () => {
  let child: ChildProcess;
  afterAll(() => child?.kill('SIGTERM'));

  it('starts its own DynamoDB and serves the seed example at the URL it prints', async () => {
    child = spawn(process.execPath, [require.resolve('tsx/cli'), 'local/start.ts', '--memory'], {
      cwd: ROOT,
      env: { ...process.env, PORT: '0', DYNAMODB_PORT: '0', DYNAMODB_ENDPOINT: '', TABLE_NAME: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const printed = await new Promise<string>((resolve, reject) => {
      child.stdout!.on('data', (chunk: Buffer) => {
        output += chunk;
        const curl = /curl -s -X POST (\S+) -d '([^']+)'/.exec(output);
        if (curl) resolve(output);
      });
      child.once('exit', (code) => reject(new Error(`npm start exited with ${code}: ${output}`)));
    });
    const [, endpoint, form] = /curl -s -X POST (\S+) -d '([^']+)'/.exec(printed)!;
    expect(printed).toMatch(/listening on http:\/\/127\.0\.0\.1:\d+/);
    const response = await fetch(endpoint, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form });
    expect(await response.json()).toEqual(seedResponse);
  });
});
