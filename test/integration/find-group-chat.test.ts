/**
 * POST message/find_group_chat on a real DynamoDB engine (DynamoDB Local): the original contract, exact
 * mode, paging, same-second bursts, the hold-back, unknown chapters and every bad input.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { MAX_MESSAGE_LENGTH, MAX_PAGE_SIZE, type GroupChatPage, type Message } from '../../lambda/contract';
import { chatStore, dynamoDbConfig } from '../../lambda/data';
import { NotMemberError } from '../../lambda/domain/errors';
import { HEAD_READ_UNITS, POLL_READ_UNITS, findGroupChat } from '../../lambda/domain/find-group-chat';
import { MAX_MESSAGES_PER_SECOND, sendGroupChat } from '../../lambda/domain/send-group-chat';
import { DEMO_CHAPTER_ID, seedDemoChapter } from '../../local/demo-chapter';
import type { LambdaHandler } from '../../local/handlers';
import seedExample from '../fixtures/seed-example-response.json';
import { call, eventFor, type RequestShape } from '../support/api';
import { handlersFor } from '../support/chat-client';
import { messageRun, putMessages, startTestTable, type TestTable } from '../support/dynamodb';

const PATH = '/message/find_group_chat';

let table: TestTable;
let handler: LambdaHandler;

beforeAll(async () => {
  table = await startTestTable();
  ({ find: handler } = await handlersFor(table));
  await seedDemoChapter(table.db, table.tableName);
});

afterAll(() => table.close());

const poll = (shape: RequestShape) => call<GroupChatPage>(handler, eventFor(PATH, shape));
const ids = (list: Message[]) => list.map((m) => m.id);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** Polls as a client that always sends back what the previous response told it, until caught up. */
async function pollUntilCaughtUp(chapterId: number, mode: 'last_id' | 'msg_time', limit?: number) {
  const pages: Message[][] = [];
  let cursor = 0;
  for (let round = 0; round < 1000; round++) {
    const { body } = await poll({ json: { id: chapterId, [mode]: cursor, ...(limit && { limit }) } });
    const page = body.data!;
    pages.push(page.list);
    if (page.list.length > 0) {
      const last = page.list[page.list.length - 1];
      cursor = mode === 'last_id' ? last.id : last.create_time;
    }
    if (!page.has_more) return pages;
  }
  throw new Error('never caught up');
}

describe('the original contract (legacy mode: id + msg_time)', () => {
  it('answers the seed example verbatim for id=1&msg_time=0, posted as a form', async () => {
    const response = await poll({ form: `id=${DEMO_CHAPTER_ID}&msg_time=0` });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ ...seedExample, data: { ...seedExample.data, has_more: false } });
    expect(response.headers).toMatchObject({
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'no-store',
    });
  });

  it.each<[string, RequestShape]>([
    ['JSON numbers', { json: { id: 1, msg_time: 0 } }],
    ['JSON numeric strings', { json: { id: '1', msg_time: '0' } }],
    ['a base64-encoded form (as API Gateway delivers it)', { form: 'id=1&msg_time=0', base64: true }],
    ['a plain form', { form: 'id=1&msg_time=0', base64: false }],
    ['the query string', { query: 'id=1&msg_time=0' }],
    ['a body without Content-Type', { raw: 'id=1&msg_time=0' }],
  ])('reads the parameters from %s', async (_, shape) => {
    const { status, body } = await poll(shape);
    expect(status).toBe(200);
    expect(ids(body.data!.list)).toEqual(range(33, 39));
  });

  it('returns only the messages newer than msg_time, oldest first', async () => {
    const { body } = await poll({ form: 'id=1&msg_time=1719284000' });
    expect(ids(body.data!.list)).toEqual([37, 38, 39]);
    expect(body.data!.member_count).toBe(2);
  });

  it('returns an empty list once the client holds the newest message', async () => {
    const { body } = await poll({ form: 'id=1&msg_time=1719287588' });
    expect(body.data).toEqual({ member_count: 2, list: [], has_more: false });
  });
});

describe('exact mode (last_id)', () => {
  it('serves ids 33–39 in order from last_id=0 (nothing held yet)', async () => {
    const { body } = await poll({ json: { id: 1, last_id: 0 } });
    expect(ids(body.data!.list)).toEqual(range(33, 39));
    expect(body.data!.has_more).toBe(false);
    expect(body.data!.member_count).toBe(2);
  });

  it('serves only the ids after last_id, and nothing when caught up', async () => {
    expect(ids((await poll({ json: { id: 1, last_id: 35 } })).body.data!.list)).toEqual([36, 37, 38, 39]);
    expect((await poll({ json: { id: 1, last_id: 39 } })).body.data).toEqual({ member_count: 2, list: [], has_more: false });
  });

  it('takes last_id over msg_time when both are given', async () => {
    const { body } = await poll({ json: { id: 1, msg_time: 0, last_id: 38 } });
    expect(ids(body.data!.list)).toEqual([39]);
  });

  it('pages by limit and says whether more is waiting', async () => {
    const first = (await poll({ json: { id: 1, last_id: 0, limit: 3 } })).body.data!;
    expect([ids(first.list), first.has_more, first.member_count]).toEqual([[33, 34, 35], true, 2]);
    const last = (await poll({ json: { id: 1, last_id: 36, limit: 3 } })).body.data!;
    expect([ids(last.list), last.has_more, last.member_count]).toEqual([[37, 38, 39], false, 2]);
  });
});

describe('an unknown chapter', () => {
  it.each(['msg_time', 'last_id'])('has no messages and member_count 0 (%s)', async (mode) => {
    const { status, body } = await poll({ json: { id: 424242, [mode]: 0 } });
    expect(status).toBe(200);
    expect(body).toEqual({ code: 200, msg: 'ok', data: { member_count: 0, list: [], has_more: false } });
  });
});

describe('same-second bursts: more messages in one second than a page', () => {
  const chapter = 2;
  // 12 messages in second T, 230 in second T+1, 5 in T+2: the middle second is larger than any page.
  const burst = [
    ...messageRun({ firstId: 1, count: 12, firstTime: 1_700_000_000, perSecond: 12 }),
    ...messageRun({ firstId: 13, count: 230, firstTime: 1_700_000_001, perSecond: 230 }),
    ...messageRun({ firstId: 243, count: 5, firstTime: 1_700_000_002, perSecond: 5 }),
  ];
  beforeAll(() => putMessages(table, chapter, burst));

  it.each([undefined, 5, 100, 200])('legacy polls deliver each message once, in order, with limit %s', async (limit) => {
    const pages = await pollUntilCaughtUp(chapter, 'msg_time', limit);
    expect(pages.flat().map((m) => m.id)).toEqual(range(1, 247));
    // No page ends inside a second: the next page starts in a later second.
    for (let i = 1; i < pages.length; i++) {
      if (pages[i].length > 0) expect(pages[i][0].create_time).toBeGreaterThan(pages[i - 1].at(-1)!.create_time);
    }
  });

  it.each([undefined, 5, 100, 200])('exact polls deliver each message once, in order, with limit %s', async (limit) => {
    const pages = await pollUntilCaughtUp(chapter, 'last_id', limit);
    expect(pages.flat().map((m) => m.id)).toEqual(range(1, 247));
    expect(Math.max(...pages.map((p) => p.length))).toBe(limit ?? 100);
  });
});

describe('the hold-back of legacy mode', () => {
  const chapter = 3;

  it('holds a message back until its second has passed plus the margin; exact mode serves it at once', async () => {
    const now = Math.floor(Date.now() / 1000);
    await putMessages(table, chapter, [
      { ...messageRun({ firstId: 1, count: 1, firstTime: now - 60, perSecond: 1 })[0] },
      { ...messageRun({ firstId: 2, count: 1, firstTime: now, perSecond: 1 })[0] },
    ]);
    expect(ids((await poll({ json: { id: chapter, msg_time: 0 } })).body.data!.list)).toEqual([1]);
    expect(ids((await poll({ json: { id: chapter, last_id: 0 } })).body.data!.list)).toEqual([1, 2]);
  });

  it('serves a message of second T from T+2 s on (margin 1 s), not before', async () => {
    const T = 1_800_000_000;
    await putMessages(table, 30, messageRun({ firstId: 1, count: 3, firstTime: T, perSecond: 3 }));
    const legacy = (nowMs: number) => findGroupChat(table.store, { chapterId: 30, cursor: { msgTime: 0 }, limit: 100 }, nowMs);
    expect((await legacy((T + 2) * 1000 - 1)).list).toEqual([]);
    expect(ids((await legacy((T + 2) * 1000)).list)).toEqual([1, 2, 3]);
  });
});

describe('a long history', () => {
  const chapter = 4;
  beforeAll(() => putMessages(table, chapter, messageRun({ firstId: 1, count: 10_000, firstTime: 1_600_000_000, perSecond: 4 })));

  it('answers msg_time=0 on 10 000 messages with the first page and has_more, never the whole history', async () => {
    const { body } = await poll({ form: `id=${chapter}&msg_time=0` });
    expect(body.data!.list).toHaveLength(100);
    expect(ids(body.data!.list)).toEqual(range(1, 100));
    expect(body.data!.has_more).toBe(true);
  });

  it('answers last_id=0 the same way in exact mode', async () => {
    const { body } = await poll({ json: { id: chapter, last_id: 0, limit: 200 } });
    expect(ids(body.data!.list)).toEqual(range(1, 200));
    expect(body.data!.has_more).toBe(true);
  });

  it('serves the newest messages from a cursor deep in the history', async () => {
    const { body } = await poll({ json: { id: chapter, last_id: 9_990 } });
    expect(ids(body.data!.list)).toEqual(range(9_991, 10_000));
    expect(body.data!.has_more).toBe(false);
  });
});

/** A store on the test table whose every request asks for and records the capacity it consumed. */
function countingStore() {
  const sent: { operation: string; units: number }[] = [];
  const client = new DynamoDBClient(dynamoDbConfig({ DYNAMODB_ENDPOINT: table.endpoint }));
  client.middlewareStack.add(
    (next, context) => async (args) => {
      (args.input as Record<string, unknown>).ReturnConsumedCapacity = 'TOTAL';
      const request = { operation: (context.commandName as string).replace(/Command$/, ''), units: 0 };
      sent.push(request); // in the order the requests are issued
      const out = await next(args);
      request.units = (out.output as { ConsumedCapacity?: { CapacityUnits?: number } }).ConsumedCapacity?.CapacityUnits ?? 0;
      return out;
    },
    { step: 'initialize' },
  );
  const db = DynamoDBDocumentClient.from(client);
  return { store: chatStore({ db, stampedWrites: db }, table.tableName), sent, take: () => sent.splice(0) };
}
const units = (sent: { units: number }[]) => sent.reduce((sum, r) => sum + r.units, 0);

describe('what a poll reads: the head and the membership first, then at most POLL_READ_UNITS', () => {
  // 2 000 characters, the longest msg_body: 4-byte emoji make an item of about 8 KB, CJK (3 bytes) about 6 KB.
  const bodies = { emoji: '😀'.repeat(MAX_MESSAGE_LENGTH), cjk: '汉'.repeat(MAX_MESSAGE_LENGTH) };
  const COUNT = 150;
  const chapterOf = { emoji: 9001, cjk: 9002 } as const;
  const MEMBER = 41;
  const STRANGER = 42;
  let counting: ReturnType<typeof countingStore>;

  beforeAll(async () => {
    counting = countingStore();
    for (const kind of ['emoji', 'cjk'] as const) {
      // 2 per second as sends would stamp them (second_seq), in seconds long past.
      const run = messageRun({ firstId: 1, count: COUNT, firstTime: 1_700_000_000, perSecond: 2 });
      await putMessages(table, chapterOf[kind], run.map((m) => ({ ...m, msg_body: bodies[kind] })));
      await table.store.addMembers(chapterOf[kind], [{ user_id: MEMBER, joined_at: 1 }]);
    }
  });
  beforeEach(() => counting.take());

  /** Polls as a member who always sends back what the previous page told it, until caught up; the reads of each poll. */
  async function catchUp(chapterId: number, mode: 'exact' | 'legacy') {
    const pages: { list: Message[]; units: number; operations: string[] }[] = [];
    let cursor = 0;
    for (let round = 0; round < 100; round++) {
      const page = await findGroupChat(counting.store, {
        chapterId,
        cursor: mode === 'exact' ? { lastId: cursor } : { msgTime: cursor },
        limit: MAX_PAGE_SIZE,
        readerId: MEMBER,
      });
      const sent = counting.take();
      pages.push({ list: page.list, units: units(sent), operations: sent.map((r) => r.operation) });
      const last = page.list.at(-1);
      if (last) cursor = mode === 'exact' ? last.id : last.create_time;
      if (!page.has_more) return pages;
    }
    throw new Error('never caught up');
  }

  it.each(['exact', 'legacy'] as const)('%s mode: an idle member reads the head and the membership, two GetItems, 1.5 units', async (mode) => {
    const cursor = mode === 'exact' ? { lastId: COUNT } : { msgTime: 1_700_000_000 + COUNT / 2 - 1 };
    const page = await findGroupChat(counting.store, { chapterId: chapterOf.emoji, cursor, limit: 100, readerId: MEMBER });
    expect(page).toEqual({ member_count: 1, list: [], has_more: false });
    const sent = counting.take();
    expect(sent.map((r) => r.operation)).toEqual(['GetItem', 'GetItem']);
    expect(units(sent)).toBeLessThanOrEqual(HEAD_READ_UNITS);
  });

  it.each(['exact', 'legacy'] as const)('%s mode: a non-member asking for everything is refused after the same two reads', async (mode) => {
    const cursor = mode === 'exact' ? { lastId: 0 } : { msgTime: 0 };
    const poll = findGroupChat(counting.store, { chapterId: chapterOf.emoji, cursor, limit: MAX_PAGE_SIZE, readerId: STRANGER });
    await expect(poll).rejects.toBeInstanceOf(NotMemberError);
    const sent = counting.take();
    expect(sent.map((r) => r.operation)).toEqual(['GetItem', 'GetItem']);
    expect(units(sent)).toBeLessThanOrEqual(HEAD_READ_UNITS);
  });

  it.each([
    ['exact', 'emoji'],
    ['exact', 'cjk'],
    ['legacy', 'emoji'],
    ['legacy', 'cjk'],
  ] as const)('%s mode (%s): a catch-up from 0 reads at most POLL_READ_UNITS per poll, cut in bytes with has_more, and loses and repeats nothing', async (mode, kind) => {
    const pages = await catchUp(chapterOf[kind], mode);
    expect(pages.flat().length).toBeGreaterThan(1);
    for (const page of pages) expect(page.units).toBeLessThanOrEqual(POLL_READ_UNITS);
    // The ceiling, not `limit`, ends the first page: 62.5 units hold 29–42 of these 6–8 KB messages.
    expect(pages[0].list.length).toBeGreaterThanOrEqual(25);
    expect(pages[0].list.length).toBeLessThanOrEqual(42);
    expect(pages.flatMap((p) => p.list).map((m) => m.id)).toEqual(range(1, COUNT));
    expect(pages.flatMap((p) => p.list).every((m) => m.msg_body === bodies[kind])).toBe(true);
    if (mode === 'legacy') {
      // No page ends inside a second.
      for (let i = 1; i < pages.length; i++) expect(pages[i].list[0].create_time).toBeGreaterThan(pages[i - 1].list.at(-1)!.create_time);
    }
  });

  it('a legacy page never ends inside a second, even one whose largest messages fill the ceiling', async () => {
    const chapterId = 9003;
    const full = messageRun({ firstId: 1, count: 3 * MAX_MESSAGES_PER_SECOND, firstTime: 1_700_000_000, perSecond: MAX_MESSAGES_PER_SECOND });
    await putMessages(table, chapterId, full.map((m) => ({ ...m, msg_body: bodies.emoji })));
    const pages = [];
    for (let cursor = 0, round = 0; round < 10; round++) {
      const page = await findGroupChat(counting.store, { chapterId, cursor: { msgTime: cursor }, limit: MAX_PAGE_SIZE });
      pages.push(page.list.map((m) => m.id));
      expect(units(counting.take())).toBeLessThanOrEqual(POLL_READ_UNITS);
      if (page.list.length > 0) cursor = page.list.at(-1)!.create_time;
      if (!page.has_more) break;
    }
    const second = (k: number) => range(k * MAX_MESSAGES_PER_SECOND + 1, (k + 1) * MAX_MESSAGES_PER_SECOND);
    expect(pages).toEqual([second(0), second(1), second(2)]);
  });

  it('a second larger than the ceiling (imported history) is still served whole, past the ceiling', async () => {
    const chapterId = 9004;
    const big = messageRun({ firstId: 1, count: 60, firstTime: 1_700_000_000, perSecond: 40 });
    await putMessages(table, chapterId, big.map((m) => ({ ...m, msg_body: bodies.emoji })));
    const first = await findGroupChat(table.store, { chapterId, cursor: { msgTime: 0 }, limit: 10 });
    expect([ids(first.list), first.has_more]).toEqual([range(1, 40), true]);
    const second = await findGroupChat(table.store, { chapterId, cursor: { msgTime: 1_700_000_000 }, limit: 10 });
    expect([ids(second.list), second.has_more]).toEqual([range(41, 60), false]);
  });

  it('exact mode on a chapter whose newest message was never recorded (written before the record existed): the log is read', async () => {
    const chapterId = 9005;
    await table.db.send(new PutCommand({ TableName: table.tableName, Item: { chapter_id: chapterId, sk: 'msg#0000000000000001', ...messageRun({ firstId: 1, count: 1, firstTime: 1_700_000_000, perSecond: 1 })[0] } }));
    const page = await findGroupChat(counting.store, { chapterId, cursor: { lastId: 0 }, limit: 10 });
    expect(ids(page.list)).toEqual([1]);
    expect(counting.take().map((r) => r.operation)).toEqual(['GetItem', 'Query']);
  });

  it('a sent message is recorded as the newest before the send answers, so the next poll reads it', async () => {
    const chapterId = chapterOf.cjk;
    const sent = await sendGroupChat(table.store, { chapterId, sender: { user_id: MEMBER, user_type: 1, user_name: 'm' }, body: 'after', clientMsgId: 'rec-1' });
    const page = await findGroupChat(counting.store, { chapterId, cursor: { lastId: COUNT }, limit: 10, readerId: MEMBER });
    expect(page.list).toEqual([sent]);
  });
});

describe('bad input: a 400 that names the parameter and the rule', () => {
  it.each<[string, RequestShape, string]>([
    ['id missing', { json: { msg_time: 0 } }, 'id is required'],
    ['id not a number', { form: 'id=abc&msg_time=0' }, 'id must be an integer'],
    ['id a float', { json: { id: 1.5, msg_time: 0 } }, 'id must be an integer'],
    ['id in exponent form', { form: 'id=1e3&msg_time=0' }, 'id must be an integer'],
    ['id in hex', { form: 'id=0x10&msg_time=0' }, 'id must be an integer'],
    ['id empty', { form: 'id=&msg_time=0' }, 'id must be an integer'],
    ['id null', { json: { id: null, msg_time: 0 } }, 'id must be an integer'],
    ['id an array', { json: { id: [1], msg_time: 0 } }, 'id must be an integer'],
    ['id an object', { json: { id: { n: 1 }, msg_time: 0 } }, 'id must be an integer'],
    ['id a boolean', { json: { id: true, msg_time: 0 } }, 'id must be an integer'],
    ['id zero', { json: { id: 0, msg_time: 0 } }, 'id must be at least 1'],
    ['id negative', { form: 'id=-3&msg_time=0' }, 'id must be at least 1'],
    ['id beyond 2^53', { form: 'id=9007199254740993&msg_time=0' }, 'id is too large'],
    ['id given twice, differently', { form: 'id=1&id=2&msg_time=0' }, 'id is given more than once with different values'],
    ['msg_time and last_id both missing', { json: { id: 1 } }, 'msg_time is required (or last_id)'],
    ['msg_time negative', { json: { id: 1, msg_time: -1 } }, 'msg_time must not be negative'],
    ['msg_time in milliseconds', { json: { id: 1, msg_time: 1719283991000 } }, 'msg_time must be in Unix seconds, not milliseconds'],
    ['msg_time a float string', { form: 'id=1&msg_time=1.5' }, 'msg_time must be an integer'],
    ['last_id negative', { json: { id: 1, last_id: -1 } }, 'last_id must not be negative'],
    ['last_id not a number', { json: { id: 1, last_id: 'x' } }, 'last_id must be an integer'],
    ['limit zero', { json: { id: 1, last_id: 0, limit: 0 } }, 'limit must be at least 1'],
    ['limit above the maximum', { json: { id: 1, last_id: 0, limit: 201 } }, 'limit must be at most 200'],
    ['limit not a number', { json: { id: 1, last_id: 0, limit: 'ten' } }, 'limit must be an integer'],
    ['malformed JSON', { raw: '{"id": 1, "msg_time": ', contentType: 'application/json' }, 'body is not valid JSON'],
    ['a JSON array', { raw: '[1, 0]', contentType: 'application/json' }, 'body must be a JSON object'],
    ['JSON null', { raw: 'null', contentType: 'application/json' }, 'body must be a JSON object'],
  ])('%s', async (_, shape, message) => {
    const { status, body } = await poll(shape);
    expect({ status, body }).toEqual({ status: 400, body: { code: 400, msg: message, data: null } });
  });

  it('answers 415 to a content type it does not read', async () => {
    const { status, body } = await poll({ raw: 'id=1&msg_time=0', contentType: 'text/plain' });
    expect({ status, code: body.code, data: body.data }).toEqual({ status: 415, code: 415, data: null });
    expect(body.msg).toMatch(/Content-Type/);
  });
});
