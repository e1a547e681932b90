/**
 * The compatibility matrix: the local server (the deployed handlers behind API Gateway's payload
 * format 2.0, on a test table) called the way existing app stacks call it, with the real libraries
 * and tools — Node's own fetch, axios, the form-data package's streams, curl — each in the body
 * encodings it sends by default or when asked. Every row posts to
 *   - find_group_chat `id=1&msg_time=0` and must get the seed example verbatim;
 *   - join_group_chat, then send_group_chat with Chinese text and emoji, which must arrive intact
 *     (answered, stored and read back character for character).
 * Each row also checks the Content-Type its client really sent, so the matrix says what it covers.
 */
import axios, { type AxiosRequestConfig } from 'axios';
import { build } from 'esbuild';
import FormDataStream from 'form-data';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { ROUTES, type Message } from '../../lambda/contract';
import { esbuildOptionsFor } from '../../lib/bundling';
import { apiGatewayEvent } from '../../local/api-gateway-event';
import { seedDemoChapter } from '../../local/demo-chapter';
import { loadHandlers } from '../../local/handlers';
import { createLocalServer } from '../../local/server';
import seedExample from '../fixtures/seed-example-response.json';
import type { Envelope } from '../support/api';
import { runBundle } from '../support/bundle';
import { configureHandlers, identityHeaders } from '../support/chat-client';
import { startTestTable, type TestTable } from '../support/dynamodb';

const run = promisify(execFile);

const FIND = '/message/find_group_chat';
const JOIN = '/message/join_group_chat';
const SEND = '/message/send_group_chat';
const SEED_RESPONSE = { ...seedExample, data: { ...seedExample.data, has_more: false } };
/**
 * Chinese text, emoji (a ZWJ sequence among them) and a character outside the BMP. No '&', '+', '='
 * or ';', so it can be typed into `curl -d` and `curl -F` as it is, as people do.
 */
const TEXT = '老师好 👋 第三章的作业什么时候交？🙂 “谢谢” 𠮷野家 👩‍👩‍👧 ✓';

type Fields = Record<string, string | number>;
interface Answer {
  status: number;
  body: Envelope<Record<string, unknown>>;
}
/** How one app stack posts `fields` to `url` with extra `headers` (the x-user-* identity). */
type Post = (url: string, fields: Fields, headers: Record<string, string>) => Promise<Answer>;

const strings = (fields: Fields): [string, string][] => Object.entries(fields).map(([name, value]) => [name, String(value)]);
/** axios answers every status, as an app's error handling would see it. */
const AXIOS: AxiosRequestConfig = { validateStatus: () => true };

const readAnswer = (response: IncomingMessage): Promise<Answer> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    response.on('data', (chunk: Buffer) => chunks.push(chunk));
    response.on('end', () => resolve({ status: response.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
    response.on('error', reject);
  });

function formDataStream(fields: Fields): FormDataStream {
  const form = new FormDataStream();
  for (const [name, value] of strings(fields)) form.append(name, value);
  return form;
}

/** curl as people type it: the encoding options given, identity as -H, status on the last line. */
async function curl(url: string, args: string[], headers: Record<string, string>): Promise<Answer> {
  const headerArgs = Object.entries(headers).flatMap(([name, value]) => ['-H', `${name}: ${value}`]);
  const { stdout } = await run('curl', ['-s', '-S', '-w', '\n%{http_code}', ...headerArgs, ...args, url]);
  const lines = stdout.trimEnd().split('\n');
  return { status: Number(lines.pop()), body: JSON.parse(lines.join('\n')) };
}

/** [row name, the media type the client sends, how it posts]. */
const CLIENTS: [string, string, Post][] = [
  [
    'fetch with URLSearchParams',
    'application/x-www-form-urlencoded',
    async (url, fields, headers) => {
      const response = await fetch(url, { method: 'POST', headers, body: new URLSearchParams(strings(fields)) });
      return { status: response.status, body: await response.json() };
    },
  ],
  [
    'fetch with FormData',
    'multipart/form-data',
    async (url, fields, headers) => {
      const form = new FormData();
      for (const [name, value] of strings(fields)) form.append(name, value);
      const response = await fetch(url, { method: 'POST', headers, body: form });
      return { status: response.status, body: await response.json() };
    },
  ],
  [
    'fetch with JSON.stringify',
    'application/json',
    async (url, fields, headers) => {
      const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(fields) });
      return { status: response.status, body: await response.json() };
    },
  ],
  [
    'axios defaults (an object)',
    'application/json',
    async (url, fields, headers) => {
      const response = await axios.post(url, fields, { ...AXIOS, headers });
      return { status: response.status, body: response.data };
    },
  ],
  [
    'axios with Content-Type application/x-www-form-urlencoded',
    'application/x-www-form-urlencoded',
    async (url, fields, headers) => {
      const response = await axios.post(url, fields, { ...AXIOS, headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers } });
      return { status: response.status, body: response.data };
    },
  ],
  [
    'axios.postForm',
    'multipart/form-data',
    async (url, fields, headers) => {
      const response = await axios.postForm(url, fields, { ...AXIOS, headers });
      return { status: response.status, body: response.data };
    },
  ],
  [
    'form-data stream, form.submit()',
    'multipart/form-data',
    (url, fields, headers) => {
      const { hostname, port, pathname } = new URL(url);
      return new Promise((resolve, reject) => {
        formDataStream(fields).submit({ host: hostname, port, path: pathname, headers }, (error, response) => {
          if (error) reject(error);
          else readAnswer(response).then(resolve, reject);
        });
      });
    },
  ],
  [
    'form-data stream piped into http.request',
    'multipart/form-data',
    (url, fields, headers) => {
      const form = formDataStream(fields);
      return new Promise((resolve, reject) => {
        const request = httpRequest(url, { method: 'POST', headers: { ...form.getHeaders(), ...headers } }, (response) => readAnswer(response).then(resolve, reject));
        request.on('error', reject);
        form.pipe(request);
      });
    },
  ],
  [
    'form-data stream through axios',
    'multipart/form-data',
    async (url, fields, headers) => {
      const form = formDataStream(fields);
      const response = await axios.post(url, form, { ...AXIOS, headers: { ...form.getHeaders(), ...headers } });
      return { status: response.status, body: response.data };
    },
  ],
  [
    "curl -d 'a=1&b=2'",
    'application/x-www-form-urlencoded',
    (url, fields, headers) => curl(url, ['-d', strings(fields).map(([name, value]) => `${name}=${value}`).join('&')], headers),
  ],
  [
    'curl --data-urlencode',
    'application/x-www-form-urlencoded',
    (url, fields, headers) => curl(url, strings(fields).flatMap(([name, value]) => ['--data-urlencode', `${name}=${value}`]), headers),
  ],
  ['curl -F', 'multipart/form-data', (url, fields, headers) => curl(url, strings(fields).flatMap(([name, value]) => ['-F', `${name}=${value}`]), headers)],
  ['curl --json', 'application/json', (url, fields, headers) => curl(url, ['--json', JSON.stringify(fields)], headers)],
];

let table: TestTable;
let server: Server;
let base: string;
/** The Content-Type of each request the server received, by path. */
let received: { path: string; contentType: string }[] = [];

beforeAll(async () => {
  table = await startTestTable();
  configureHandlers(table); // header identity, self-service membership: what npm start runs
  await seedDemoChapter(table.db, table.tableName);
  server = createLocalServer(await loadHandlers());
  server.on('request', (req: IncomingMessage) => received.push({ path: req.url ?? '', contentType: req.headers['content-type'] ?? '' }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await table.close();
});
beforeEach(() => {
  received = [];
});

const mediaTypeSent = (path: string) => received.filter((r) => r.path === path).map((r) => r.contentType.split(';')[0].trim().toLowerCase());

it('curl here supports --json (7.82 or later)', async () => {
  const { stdout } = await run('curl', ['--version']);
  const [major, minor] = /^curl (\d+)\.(\d+)/.exec(stdout)!.slice(1).map(Number);
  expect(major > 7 || (major === 7 && minor >= 82)).toBe(true);
});

describe.each(CLIENTS.map(([name, mediaType, post], row) => ({ name, mediaType, post, row })))('$name ($mediaType)', ({ mediaType, post, row }) => {
  it('× find_group_chat, id=1&msg_time=0: the seed example verbatim', async () => {
    const answer = await post(`${base}${FIND}`, { id: 1, msg_time: 0 }, {});
    expect(mediaTypeSent(FIND)).toEqual([mediaType]);
    expect(answer).toEqual({ status: 200, body: SEED_RESPONSE });
  });

  it('× send_group_chat (after join_group_chat): Chinese text and emoji arrive intact', async () => {
    // A chapter and a user of this row's own, so each row's message is the chapter's only one.
    const chapter = 100 + row;
    const user = { user_id: 1000 + row, user_type: 2, user_name: `学员${row} 🙂` };
    const headers = identityHeaders(user);
    expect(await post(`${base}${JOIN}`, { id: chapter }, headers)).toEqual({ status: 200, body: { code: 200, msg: 'ok', data: { member_count: 1 } } });

    const sent = await post(`${base}${SEND}`, { id: chapter, msg_body: TEXT, client_msg_id: `matrix-${row}` }, headers);
    expect(mediaTypeSent(SEND)).toEqual([mediaType]);
    expect(sent.status).toBe(200);
    const message = sent.body.data as unknown as Message;
    expect(message).toMatchObject({ id: 1, ...user, msg_body: TEXT });

    // Read back as stored, by an exact-mode poll.
    const poll = await fetch(`${base}${FIND}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: chapter, last_id: 0 }) });
    expect(await poll.json()).toEqual({ code: 200, msg: 'ok', data: { member_count: 1, list: [message], has_more: false } });
  });
});

describe('file uploads, as real clients send them, are refused and store nothing', () => {
  const chapter = 99;
  const user = { user_id: 999, user_type: 2, user_name: 'uploader' };
  beforeAll(async () => {
    const join = await fetch(`${base}${JOIN}`, { method: 'POST', headers: { 'content-type': 'application/json', ...identityHeaders(user) }, body: JSON.stringify({ id: chapter }) });
    expect(join.status).toBe(200);
  });
  afterEach(async () => {
    const poll = await fetch(`${base}${FIND}`, { method: 'POST', body: new URLSearchParams({ id: String(chapter), last_id: '0' }) });
    expect(((await poll.json()) as Envelope<{ list: Message[] }>).data!.list).toEqual([]);
  });

  it('fetch with FormData and a Blob (a file part): 400', async () => {
    const form = new FormData();
    form.append('id', String(chapter));
    form.append('client_msg_id', 'blob');
    form.append('msg_body', new Blob([TEXT], { type: 'text/plain' }), 'note.txt');
    const response = await fetch(`${base}${SEND}`, { method: 'POST', headers: identityHeaders(user), body: form });
    expect([response.status, await response.json()]).toEqual([400, { code: 400, msg: 'multipart part "msg_body" is a file: only text fields are read', data: null }]);
  });

  it('curl -F msg_body=@file: 400', async () => {
    const answer = await curl(`${base}${SEND}`, ['-F', `id=${chapter}`, '-F', 'client_msg_id=at-file', '-F', `msg_body=@${__filename}`], identityHeaders(user));
    expect(answer).toEqual({ status: 400, body: { code: 400, msg: 'multipart part "msg_body" is a file: only text fields are read', data: null } });
  });

  it('form-data with a Buffer (a binary part, application/octet-stream): 415', async () => {
    const form = formDataStream({ id: chapter, client_msg_id: 'buffer' });
    form.append('msg_body', Buffer.from(TEXT));
    const response = await axios.post(`${base}${SEND}`, form, { ...AXIOS, headers: { ...form.getHeaders(), ...identityHeaders(user) } });
    expect([response.status, response.data]).toEqual([
      415,
      { code: 415, msg: 'multipart part "msg_body" has Content-Type application/octet-stream: only text fields (text/plain) are read', data: null },
    ]);
  });
});

describe('the deployed bundle', () => {
  it('reads a FormData body in the built find function (esbuild as deployed; the parser loaded on first use)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'multipart-bundle-'));
    try {
      const entry = ROUTES.find((r) => r.id === 'FindGroupChat')!.entry;
      const bundle = path.join(dir, 'index.mjs');
      await build({ ...esbuildOptionsFor(path.resolve(__dirname, '../..', entry)), outfile: bundle, logLevel: 'warning' });
      const form = new FormData();
      form.append('id', '1');
      form.append('msg_time', '0');
      const request = new Request('http://localhost/', { method: 'POST', body: form });
      const eventFile = path.join(dir, 'event.json');
      const headers = { 'content-type': request.headers.get('content-type')! };
      writeFileSync(eventFile, JSON.stringify(apiGatewayEvent({ method: 'POST', url: FIND, headers, body: Buffer.from(await request.arrayBuffer()) })));
      const { stdout } = await runBundle(bundle, [eventFile], table, { POWERTOOLS_METRICS_DISABLED: 'true' });
      const { result } = JSON.parse(stdout.trim().split('\n').pop()!) as { result: { statusCode: number; body: string } };
      expect({ status: result.statusCode, body: JSON.parse(result.body) }).toEqual({ status: 200, body: SEED_RESPONSE });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
