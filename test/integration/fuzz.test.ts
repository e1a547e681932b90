/**
 * Hostile input: 10 000 generated requests against the four handlers on DynamoDB Local — wrong and random
 * content types, truncated and malformed bodies, base64 flags that lie, odd numbers and strings,
 * arrays, objects, null, repeated and prototype keys, oversized bodies, missing or malformed identity,
 * odd methods and paths (dispatched as API Gateway does: no matching route → the `$default` function),
 * and multipart/form-data bodies: valid, truncated, with a wrong, missing or odd boundary, without
 * the closing delimiter, with huge part counts, file and binary parts, odd part headers.
 * Every answer is a valid envelope, bad input gets a 4xx (never a 5xx), and the stored data changes
 * only by the sends, joins and leaves that answered 200.
 */
import fc from 'fast-check';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { MAX_BODY_BYTES, chapterIdParam, readParams } from '../../lambda/http/params';
import { MAX_MULTIPART_FIELD_BYTES, MAX_MULTIPART_PARTS } from '../../lambda/http/multipart';
import { handler as notRouted } from '../../lambda/handlers/not-routed';
import { apiGatewayEvent, matchRoute } from '../../local/api-gateway-event';
import { messageFromItem } from '../../lambda/data/items';
import { joinGroupChat } from '../../lambda/domain/membership';
import { seedDemoChapter } from '../../local/demo-chapter';
import { call } from '../support/api';
import { handlersFor, type Handlers } from '../support/chat-client';
import { startTestTable, type TestTable } from '../support/dynamodb';

const RUNS = 10_000;

let table: TestTable;
let handlers: Handlers;
beforeAll(async () => {
  table = await startTestTable();
  handlers = await handlersFor(table);
});
afterAll(() => table.close());

const ROUTES = ['find', 'send', 'join', 'leave'] as const;
const PATHS = { find: '/message/find_group_chat', send: '/message/send_group_chat', join: '/message/join_group_chat', leave: '/message/leave_group_chat' };
const ROUTE_OF_PATH: Record<string, (typeof ROUTES)[number]> = Object.fromEntries(ROUTES.map((r) => [PATHS[r], r]));
const method = fc.oneof(
  { arbitrary: fc.constant('POST'), weight: 8 },
  { arbitrary: fc.constantFrom('GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'TRACE', 'PROPFIND'), weight: 1 },
);
/** A route's path mostly; sometimes one that is nearly right, or anything at all. */
const path = (route: (typeof ROUTES)[number]) =>
  fc.oneof(
    { arbitrary: fc.constant(PATHS[route]), weight: 8 },
    {
      arbitrary: fc.oneof(
        fc.constantFrom('/', '/message', '/message/', `${PATHS[route]}/`, PATHS[route].toUpperCase(), `/v2${PATHS[route]}`, '/message/../message/find_group_chat', '/%00'),
        fc.webPath().map((p) => (p.startsWith('/') ? p : `/${p}`)),
      ),
      weight: 1,
    },
  );

const oddNumber = fc.oneof(
  fc.integer({ min: 1, max: 4 }), // real chapters, so valid requests reach real data
  fc.integer(),
  fc.double(),
  fc.constantFrom(0, -1, 1e21, 2 ** 53, 2 ** 53 + 2, Number.MAX_SAFE_INTEGER, 1719283991000, -0),
);
const oddString = fc.oneof(
  fc.constantFrom('', ' ', '1', '01', '1.0', '1e3', '0x10', '-5', '+5', '１', 'NaN', 'Infinity', '9007199254740993', '1,2', 'null', 'true'),
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.string({ unit: 'grapheme', maxLength: 3000 }),
);
const oddValue: fc.Arbitrary<unknown> = fc.oneof(
  oddNumber,
  oddString,
  oddNumber.map(String),
  fc.constantFrom(null, true, false, [], {}, [1], { n: 1 }),
  fc.array(oddNumber, { maxLength: 3 }),
);
const KEYS = ['id', 'msg_time', 'last_id', 'limit', 'msg_body', 'client_msg_id', '__proto__', 'constructor', 'toString', 'user_id'];
const params = fc.dictionary(fc.oneof(fc.constantFrom(...KEYS), fc.string({ maxLength: 8 })), oddValue, { maxKeys: 6 });

const formOf = (p: Record<string, unknown>) => Object.entries(p).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`).join('&');

const body = fc.oneof(
  params.map((p) => JSON.stringify(p)),
  params.map(formOf),
  params.map((p) => `${formOf(p)}&${formOf(p)}`), // every key repeated
  fc.tuple(params, fc.nat()).map(([p, cut]) => JSON.stringify(p).slice(0, cut % 40)), // truncated JSON
  fc.constantFrom('', 'null', '[]', '[1,2]', '"id=1"', '{', '{"id":', '{"id":1,"id":2,"msg_time":0}', '{"__proto__":{"id":1},"msg_time":0}', 'id=1&msg_time=0&id=', '%', 'id=%E0%A4%A', '\u0000'),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.constant('id=1&msg_body=' + 'x'.repeat(MAX_BODY_BYTES)), // oversized
);
const contentType = fc.oneof(
  fc.constantFrom(undefined, 'application/json', 'application/x-www-form-urlencoded', 'APPLICATION/JSON; charset=UTF-8', 'text/plain', 'multipart/form-data; boundary=x', 'application/vnd.api+json', '', ';', 'application/json;;'),
  fc.string({ maxLength: 20 }),
);
const identity = fc.oneof(
  fc.constant({ 'x-user-id': '7', 'x-user-type': '2', 'x-user-name': 'fuzzer' }),
  fc.constant({}),
  fc.record({ 'x-user-id': oddString, 'x-user-type': oddString, 'x-user-name': oddString }, { requiredKeys: [] }),
);

/** A multipart/form-data body as a client lays it out (RFC 7578), from its parts. */
interface PartSpec {
  name?: string;
  value: string;
  filename?: string;
  type?: string;
  encoding?: string;
}
const CRLF = '\r\n';
function multipartOf(boundary: string, parts: PartSpec[]): string {
  const head = (p: PartSpec) =>
    [
      `Content-Disposition: form-data${p.name === undefined ? '' : `; name="${p.name}"`}${p.filename === undefined ? '' : `; filename="${p.filename}"`}`,
      ...(p.type === undefined ? [] : [`Content-Type: ${p.type}`]),
      ...(p.encoding === undefined ? [] : [`Content-Transfer-Encoding: ${p.encoding}`]),
    ].join(CRLF);
  return parts.map((p) => `--${boundary}${CRLF}${head(p)}${CRLF}${CRLF}${p.value}${CRLF}`).join('') + `--${boundary}--${CRLF}`;
}
const boundary = fc.oneof(
  fc.constantFrom('X', '----formdata-undici-032154812345', '--------------------------123456789012345678901234', 'a'.repeat(70)),
  fc.stringMatching(/^[0-9A-Za-z'()+_,./:=?-]{1,70}$/),
);
/** Mostly text fields with our parameter names; sometimes a file, a binary or typed part, an odd header. */
const partSpec: fc.Arbitrary<PartSpec> = fc.record(
  {
    name: fc.oneof({ arbitrary: fc.constantFrom(...KEYS), weight: 6 }, { arbitrary: fc.string({ maxLength: 8 }), weight: 1 }),
    value: fc.oneof(oddValue.map(String), fc.constant('x'.repeat(MAX_MULTIPART_FIELD_BYTES + 1))),
    filename: fc.constantFrom('note.txt', '', 'C:\\photos\\a.png', 'a"b'),
    type: fc.constantFrom('text/plain', 'text/plain; charset=UTF-8', 'text/plain; charset=latin1', 'application/octet-stream', 'image/png', 'application/json', 'text/html', ''),
    encoding: fc.constantFrom('7bit', '8bit', 'binary', 'base64', 'quoted-printable'),
  },
  { requiredKeys: ['value'] },
);
const contentTypeFor = (b: string) => fc.constantFrom(`multipart/form-data; boundary=${b}`, `multipart/form-data; boundary="${b}"`, `Multipart/Form-Data; charset=utf-8; boundary=${b}`);
/** Multipart bodies with the Content-Type that goes with them: valid or broken in one of the ways clients and attackers break them. */
const multipart = fc
  .record({
    boundary,
    parts: fc.oneof(
      { arbitrary: fc.array(partSpec, { maxLength: 6 }), weight: 6 },
      // Huge part counts: tiny fields, from just over the limit to as many as 32 KB holds (and beyond).
      { arbitrary: fc.integer({ min: MAX_MULTIPART_PARTS + 1, max: 3000 }).map((n) => Array.from({ length: n }, (): PartSpec => ({ name: 'id', value: '1' }))), weight: 1 },
    ),
    damage: fc.constantFrom('none', 'none', 'none', 'truncated', 'wrong boundary', 'no boundary', 'no closing delimiter', 'prefixed garbage', 'bare LF'),
    cut: fc.nat(),
    garbage: fc.string({ maxLength: 20 }),
  })
  .chain(({ boundary: b, parts, damage, cut, garbage }) =>
    contentTypeFor(b).map((type) => {
      const body = multipartOf(b, parts);
      switch (damage) {
        case 'truncated':
          return { body: body.slice(0, cut % Math.max(body.length, 1)), contentType: type };
        case 'wrong boundary':
          return { body, contentType: `multipart/form-data; boundary=${b}Z` };
        case 'no boundary':
          return { body, contentType: 'multipart/form-data' };
        case 'no closing delimiter':
          return { body: body.slice(0, body.lastIndexOf(`--${b}--`)), contentType: type };
        case 'prefixed garbage':
          return { body: `${garbage}${body}`, contentType: type };
        case 'bare LF':
          return { body: body.replaceAll(CRLF, '\n'), contentType: type };
        default:
          return { body, contentType: type };
      }
    }),
  );

const hostile = fc.record({
  route: fc.constantFrom(...ROUTES),
  method,
  path: fc.constantFrom(...ROUTES).chain(path),
  body,
  contentType,
  base64: fc.constantFrom('honest', 'lying', 'plain'),
  query: fc.oneof(fc.constant(''), params.map(formOf), fc.string({ maxLength: 30 })),
  identity,
});
/** Requests that are valid or nearly so, so that successes (and what they change) are exercised too. */
const wellFormed = fc.record({
  route: fc.constantFrom(...ROUTES),
  method: fc.constant('POST'),
  path: fc.constant(''), // the route's own path
  body: fc
    .record(
      {
        id: fc.oneof(fc.integer({ min: 1, max: 4 }), fc.constantFrom('2', 0, -1)),
        msg_time: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 2_000_000_000 })),
        last_id: fc.integer({ min: 0, max: 50 }),
        limit: fc.integer({ min: 0, max: 201 }),
        msg_body: fc.oneof(fc.string({ minLength: 1, maxLength: 50 }), fc.constantFrom(' ', '老师好', '😀'.repeat(2000))),
        client_msg_id: fc.constantFrom('a', 'b', 'c', 'bad key'),
      },
      { requiredKeys: ['id'] },
    )
    .map((p) => JSON.stringify(p)),
  contentType: fc.constant('application/json'),
  base64: fc.constant('plain' as const),
  query: fc.constant(''),
  identity: fc.constant({ 'x-user-id': '7', 'x-user-type': '2', 'x-user-name': 'fuzzer' }),
});
/** The same, as multipart/form-data text fields (API Gateway base64-encodes them). */
const wellFormedMultipart = fc.tuple(wellFormed, boundary).map(([r, b]) => ({
  ...r,
  body: multipartOf(b, Object.entries(JSON.parse(r.body) as Record<string, unknown>).map(([name, value]) => ({ name, value: String(value) }))),
  contentType: `multipart/form-data; boundary=${b}`,
  base64: 'honest' as const,
}));
const multipartHostile = fc
  .tuple(hostile, multipart, fc.constantFrom('honest', 'honest', 'plain', 'lying'))
  .map(([r, m, base64]) => ({ ...r, method: 'POST', path: '', body: m.body, contentType: m.contentType, base64 }));
const request = fc.oneof(
  { arbitrary: hostile.map((r) => ({ ...r, kind: 'hostile' })), weight: 6 },
  { arbitrary: wellFormed.map((r) => ({ ...r, kind: 'well-formed JSON' })), weight: 2 },
  { arbitrary: multipartHostile.map((r) => ({ ...r, kind: 'multipart' })), weight: 3 },
  { arbitrary: wellFormedMultipart.map((r) => ({ ...r, kind: 'well-formed multipart' })), weight: 1 },
);

async function scanTable() {
  const out = await table.db.send(new ScanCommand({ TableName: table.tableName }));
  return (out.Items ?? []).filter((item) => !String(item.sk).startsWith('send#')); // reservations are internal bookkeeping
}

it(`answers ${RUNS} generated requests with valid envelopes, 4xx for bad input, and changes data only on success`, async () => {
  // Chapter 1 holds the demo history; user 7 (the only valid identity generated) starts in chapter 2.
  await seedDemoChapter(table.db, table.tableName);
  await joinGroupChat(table.store, 2, { user_id: 7, user_type: 2, user_name: 'fuzzer' });
  const before = await scanTable();
  const sent: Record<string, unknown>[] = [];
  const statuses: Record<string, Record<number, number>> = { find: {}, send: {}, join: {}, leave: {}, $default: {} };
  /** Answers to multipart requests, by status, and the messages they name. */
  const multipartStatuses: Record<number, number> = {};
  const multipartMessages = new Set<string>();

  await fc.assert(
    fc.asyncProperty(request, async (r) => {
      const raw = Buffer.from(r.body, 'utf8');
      const url = r.path || PATHS[r.route];
      const event = apiGatewayEvent({
        method: r.method,
        url: `${url}${r.query ? `?${r.query}` : ''}`,
        headers: { ...(r.contentType !== undefined && { 'content-type': r.contentType }), ...r.identity },
        body: raw,
      });
      // As API Gateway dispatches: the matching route's function, or the `$default` route's.
      const route = matchRoute(r.method, event.rawPath) && ROUTE_OF_PATH[event.rawPath];
      if (r.base64 === 'honest') Object.assign(event, { body: raw.toString('base64'), isBase64Encoded: raw.length > 0 });
      if (r.base64 === 'lying') Object.assign(event, { body: r.body, isBase64Encoded: true });
      if (r.base64 === 'plain') Object.assign(event, { body: r.body, isBase64Encoded: false });

      const { status, headers, body: envelope } = await call<Record<string, unknown>>(route ? handlers[route] : notRouted, event);
      statuses[route || '$default'][status] = (statuses[route || '$default'][status] ?? 0) + 1;
      if (r.kind.includes('multipart')) {
        multipartStatuses[status] = (multipartStatuses[status] ?? 0) + 1;
        if (status !== 200) multipartMessages.add(String(envelope.msg).replace(/"[^"]*"/g, '"…"'));
        // A valid multipart body is read like its JSON twin: any refusal is about the parameters, not the encoding.
        if (r.kind === 'well-formed multipart') expect(`${status} ${envelope.msg}`).not.toMatch(/^(415|413|\d+ (multipart|Content-Type|every multipart))/);
      }
      if (!route) expect(status === 404 || status === 405).toBe(true);
      expect(status >= 200 && status < 500).toBe(true);
      expect(envelope.code).toBe(status);
      expect(typeof envelope.msg).toBe('string');
      expect(headers).toMatchObject({ 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
      if (status === 200) expect(typeof envelope.data).toBe('object');
      else expect(envelope.data).toBeNull();
      // The chapter a successful send stored into, read from the request as the handler reads it.
      if (status === 200 && route === 'send') sent.push({ chapter: chapterIdParam(await readParams(event)), ...envelope.data! });
    }),
    { numRuns: RUNS, seed: 20261127 },
  );

  const after = await scanTable();
  const key = (item: Record<string, unknown>) => `${item.chapter_id}/${item.sk}`;
  const beforeKeys = new Set(before.map(key));
  const afterKeys = new Set(after.map(key));
  const added = after.filter((item) => !beforeKeys.has(key(item)));
  const removed = before.filter((item) => !afterKeys.has(key(item)));
  // The new messages are exactly those that sends answered 200 for (a send retried with its
  // client_msg_id answers the original again, so distinct answers count).
  const distinctSent = new Map(sent.map((m) => [JSON.stringify(m), m]));
  const addedMessages = added
    .filter((item) => String(item.sk).startsWith('msg#'))
    .map((item) => ({ chapter: item.chapter_id, ...messageFromItem(item) }));
  const byContent = (a: object, b: object) => JSON.stringify(a).localeCompare(JSON.stringify(b));
  expect(addedMessages.sort(byContent)).toEqual([...distinctSent.values()].sort(byContent));
  // Members come and go only for the one valid identity, and only where a join or leave succeeded;
  // no message, and nobody else's membership, ever disappears.
  for (const item of [...added, ...removed].filter((i) => String(i.sk).startsWith('member#'))) expect(item.user_id).toBe(7);
  expect(removed.every((item) => String(item.sk).startsWith('member#'))).toBe(true);
  expect(added.every((item) => /^(msg#|member#|presence$)/.test(String(item.sk)))).toBe(true);
  expect(statuses.send[200]).toBeGreaterThan(10);
  expect(statuses.join[200]).toBeGreaterThan(10);
  expect(statuses.leave[200]).toBeGreaterThan(10);
  expect(statuses.$default[404]).toBeGreaterThan(10);
  expect(statuses.$default[405]).toBeGreaterThan(10);
  // Multipart was read (sends stored from it) and refused in each way, never with a 5xx.
  expect(multipartStatuses[200]).toBeGreaterThan(50);
  expect(multipartStatuses[400]).toBeGreaterThan(50);
  expect(multipartStatuses[413]).toBeGreaterThan(10);
  expect(multipartStatuses[415]).toBeGreaterThan(10);
  console.info(`fuzz: multipart answers by status ${JSON.stringify(multipartStatuses)}; refusals:\n  ${[...multipartMessages].sort().join('\n  ')}`);
  console.info(`fuzz: ${RUNS} requests; answers by route and status ${JSON.stringify(statuses)}; items added ${added.length}, removed ${removed.length}`);
}, 600_000);
