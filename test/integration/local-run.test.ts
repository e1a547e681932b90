/**
 * The local run: `npm start` serves the seed example at the URL it prints, tells `npm run invoke`
 * where its database is and stops (ports freed) however it is told to; the local server speaks API
 * Gateway's payload format 2.0 to the same handlers, seeding is idempotent, and the `events/*.json`
 * files invoke the handlers as `sam local invoke` / `npm run invoke` do, in the README's order.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { ROUTES } from '../../lambda/contract';
import type { Server } from 'node:http';
import { seedDemoChapter } from '../../local/demo-chapter';
import { deleteTable, localClient } from '../../local/dynamodb';
import { LOCAL_TABLE_NAME, openLocalDatabase, readRunningDatabase } from '../../local/environment';
import { loadHandler, loadHandlers, type LambdaHandler } from '../../local/handlers';
import { lambdaContext } from '../../local/lambda-context';
import { createLocalServer } from '../../local/server';
import seedExample from '../fixtures/seed-example-response.json';
import { call } from '../support/api';
import { configureHandlers } from '../support/chat-client';
import { startTestTable, uniqueTableName, type TestTable } from '../support/dynamodb';

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

  it('serves the demo chat page at GET / (its script and style beside it), HEAD too', async () => {
    const page = await fetch(`${url}/`);
    expect([page.status, page.headers.get('content-type')]).toEqual([200, 'text/html; charset=utf-8']);
    const html = await page.text();
    expect(html).toContain('<script type="module" src="/demo/app.js"></script>');
    expect(html).toContain('<link rel="stylesheet" href="/demo/style.css">');
    const script = await fetch(`${url}/demo/app.js`);
    expect([script.status, script.headers.get('content-type')]).toEqual([200, 'text/javascript; charset=utf-8']);
    expect(await script.text()).toContain("fetch(`/message/${route}`");
    const style = await fetch(`${url}/demo/style.css`);
    expect([style.status, style.headers.get('content-type')]).toEqual([200, 'text/css; charset=utf-8']);
    const head = await fetch(`${url}/`, { method: 'HEAD' });
    expect([head.status, head.headers.get('content-length'), await head.text()]).toEqual([200, String(Buffer.byteLength(html)), '']);
  });

  it('leaves every other request to the API: other methods on /, other paths under /demo/ get the envelope', async () => {
    const post = await fetch(`${url}/`, { method: 'POST' });
    expect([post.status, await post.json()]).toEqual([404, { code: 404, msg: 'no such route', data: null }]);
    const other = await fetch(`${url}/demo/secret.ts`);
    expect([other.status, await other.json()]).toEqual([404, { code: 404, msg: 'no such route', data: null }]);
    const escape = await fetch(`${url}/demo/..%2Fserver.ts`);
    expect([escape.status, await escape.json()]).toEqual([404, { code: 404, msg: 'no such route', data: null }]);
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
      // Its announcement goes elsewhere than .local-data/: a developer's running npm start keeps its own.
      env: { ...process.env, PORT: '0', DYNAMODB_PORT: '0', DYNAMODB_ENDPOINT: '', TABLE_NAME: '', LOCAL_ENDPOINT_FILE: path.join(os.tmpdir(), `endpoint-${process.pid}.json`) },
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
    const page = /Demo chat page: (http:\/\/127\.0\.0\.1:\d+\/) /.exec(printed);
    expect(page?.[1]).toBe(`${new URL(endpoint).origin}/`);
    expect((await fetch(page![1])).headers.get('content-type')).toBe('text/html; charset=utf-8');
    const response = await fetch(endpoint, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form });
    expect(await response.json()).toEqual(seedResponse);
  });
});

describe('npm run invoke: every event, in the README\'s order, on a fresh database', () => {
  /** The events the README's Local invoke loop lists, in its order. */
  const readmeOrder = (): string[] => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Local invoke'));
    const loop = /for event in ([^;]+); do/.exec(section);
    if (!loop) throw new Error("README's Local invoke section has no `for event in …; do` loop");
    return loop[1].replace(/\\\n/g, ' ').trim().split(/\s+/);
  };

  it('lists every event under events/ (env.json is the SAM env-vars file, not an event)', () => {
    const events = readdirSync(path.join(ROOT, 'events'))
      .filter((file) => file.endsWith('.json') && file !== 'env.json' && !file.includes('.import-'))
      .map((file) => file.replace(/\.json$/, ''));
    expect([...readmeOrder()].sort()).toEqual(events.sort());
  });

  it('answers 200 to each, as invoke calls the handlers, on a new table seeded like npm start\'s', async () => {
    const fresh = await startTestTable('invoke');
    try {
      await seedDemoChapter(fresh.db, fresh.tableName);
      configureHandlers(fresh);
      const answers: Array<[string, number | undefined]> = [];
      for (const name of readmeOrder()) {
        const event = JSON.parse(readFileSync(path.join(ROOT, 'events', `${name}.json`), 'utf8'));
        const route = ROUTES.find((r) => r.path === event.rawPath)!;
        const result = await (await loadHandler(route.entry))(event, lambdaContext(route.id));
        answers.push([name, result.statusCode]);
      }
      expect(answers).toEqual(readmeOrder().map((name) => [name, 200]));
    } finally {
      configureHandlers(table);
      await fresh.close();
    }
  });
});

describe("npm run invoke's database", () => {
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'endpoint-'));
  const file = path.join(scratch, 'endpoint.json');
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('is the one a running npm start announced, whatever its port, and it says so', async () => {
    const tableName = uniqueTableName('announced');
    writeFileSync(file, JSON.stringify({ endpoint: table.endpoint, tableName, pid: process.pid }));
    const db = await openLocalDatabase({ ...process.env, DYNAMODB_ENDPOINT: '', DYNAMODB_PORT: '', LOCAL_ENDPOINT_FILE: file });
    try {
      expect([db.endpoint, db.tableName]).toEqual([table.endpoint, tableName]);
      expect(db.source).toBe(`npm start's (pid ${process.pid}, ${path.relative(process.cwd(), file)})`);
    } finally {
      await db.close();
      const client = localClient(table.endpoint);
      await deleteTable(client, tableName);
      client.destroy();
    }
  });

  it("is not a stopped npm start's: a stale announcement is passed over, and DYNAMODB_PORT's engine says so", async () => {
    const gone = spawnSync(process.execPath, ['-e', '0']).pid!; // a process that has exited
    writeFileSync(file, JSON.stringify({ endpoint: 'http://127.0.0.1:9', tableName: 'nope', pid: gone }));
    expect(readRunningDatabase({ LOCAL_ENDPOINT_FILE: file })?.pid).toBe(gone);
    const port = new URL(table.endpoint).port;
    const db = await openLocalDatabase({ ...process.env, DYNAMODB_ENDPOINT: '', DYNAMODB_PORT: port, LOCAL_ENDPOINT_FILE: file });
    try {
      expect([db.endpoint, db.tableName, db.source]).toEqual([`http://127.0.0.1:${port}`, LOCAL_TABLE_NAME, `the engine on DYNAMODB_PORT ${port}`]);
    } finally {
      await db.close();
      const client = localClient(table.endpoint);
      await deleteTable(client, LOCAL_TABLE_NAME);
      client.destroy();
    }
  });
});

describe('npm start stops, ports freed, however it is told to', () => {
  const refused = (port: number) =>
    new Promise<boolean>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port });
      socket.once('connect', () => (socket.destroy(), resolve(false)));
      socket.once('error', () => resolve(true));
    });
  const groupAlive = (pgid: number) => {
    try {
      process.kill(-pgid, 0);
      return true;
    } catch {
      return false;
    }
  };

  // `detached`: npm leads a process group of its own, as in a terminal, where a hangup reaches the whole group.
  it.each([
    ['SIGTERM to the npm process alone (npm passes it to its shell, which dies without passing it on)', 'SIGTERM', false],
    ['SIGHUP to the whole group (the terminal closed)', 'SIGHUP', true],
    ['SIGINT to the whole group (Ctrl-C)', 'SIGINT', true],
  ] as const)('%s', async (_, signal, group) => {
    const scratch = mkdtempSync(path.join(os.tmpdir(), 'npm-start-'));
    const announcement = path.join(scratch, 'endpoint.json');
    const npm = spawn('npm', ['start', '--', '--memory'], {
      cwd: ROOT,
      detached: true,
      env: { ...process.env, PORT: '0', DYNAMODB_PORT: '0', DYNAMODB_ENDPOINT: '', TABLE_NAME: '', LOCAL_ENDPOINT_FILE: announcement },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let output = '';
      npm.stderr!.on('data', (chunk: Buffer) => (output += chunk));
      await new Promise<void>((resolve, reject) => {
        npm.stdout!.on('data', (chunk: Buffer) => {
          output += chunk;
          if (/curl -s -X POST/.test(output)) resolve();
        });
        npm.once('exit', (code) => reject(new Error(`npm start exited with ${code}: ${output}`)));
      });
      const apiPort = Number(/listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(output)![1]);
      const dbPort = Number(/DynamoDB Local\) at http:\/\/127\.0\.0\.1:(\d+)/.exec(output)![1]);
      expect(readRunningDatabase({ LOCAL_ENDPOINT_FILE: announcement })?.endpoint).toBe(`http://127.0.0.1:${dbPort}`);
      expect([await refused(apiPort), await refused(dbPort)]).toEqual([false, false]);

      process.kill(group ? -npm.pid! : npm.pid!, signal);
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline && (groupAlive(npm.pid!) || !(await refused(apiPort)) || !(await refused(dbPort)))) {
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect({ processesLeft: groupAlive(npm.pid!), apiPortFree: await refused(apiPort), dynamoDbPortFree: await refused(dbPort) }).toEqual({
        processesLeft: false,
        apiPortFree: true,
        dynamoDbPortFree: true,
      });
      expect(existsSync(announcement)).toBe(false);
    } finally {
      if (groupAlive(npm.pid!)) process.kill(-npm.pid!, 'SIGKILL');
      rmSync(scratch, { recursive: true, force: true });
    }
  }, 60_000);
});
