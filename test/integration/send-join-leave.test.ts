/** send_group_chat, join_group_chat and leave_group_chat on DynamoDB Local: the contract of each route. */
import { sendGroupChat, MAX_MESSAGES_PER_SECOND } from '../../lambda/domain/send-group-chat';
import { apiGatewayEvent } from '../../local/api-gateway-event';
import { eventFor, call } from '../support/api';
import { chatClient, handlersFor, post, type Handlers } from '../support/chat-client';
import { chapterItems, startTestTable, type TestTable } from '../support/dynamodb';

let table: TestTable;
let handlers: Handlers;

beforeAll(async () => {
  table = await startTestTable();
  handlers = await handlersFor(table);
});
afterAll(() => table.close());

const chapterItemsOf = (chapterId: number) => chapterItems(table, chapterId);
const alice = { user_id: 11, user_type: 3, user_name: '一宠三花迷(测试)' };
const bob = { user_id: 12, user_type: 2, user_name: 'bob' };


describe('join and leave', () => {
  it('join adds the caller and answers member_count; joining twice changes nothing', async () => {
    const a = chatClient(handlers, alice);
    expect((await a.join(100)).body).toEqual({ code: 200, msg: 'ok', data: { member_count: 1 } });
    expect((await a.join(100)).body.data).toEqual({ member_count: 1 });
    expect((await chatClient(handlers, bob).join(100)).body.data).toEqual({ member_count: 2 });
    const members = (await chapterItemsOf(100)).filter((i) => String(i.sk).startsWith('member#'));
    expect(members.map((m) => [m.user_id, m.user_type, m.user_name])).toEqual([
      [11, 3, '一宠三花迷(测试)'],
      [12, 2, 'bob'],
    ]);
  });

  it('leave removes the caller; leaving twice changes nothing; polls report the count', async () => {
    const a = chatClient(handlers, alice);
    expect((await a.leave(100)).body.data).toEqual({ member_count: 1 });
    expect((await a.leave(100)).body.data).toEqual({ member_count: 1 });
    expect((await a.poll({ id: 100, last_id: 0 })).body.data!.member_count).toBe(1);
  });
});

describe('send', () => {
  beforeAll(async () => {
    await chatClient(handlers, alice).join(200);
    await chatClient(handlers, bob).join(200);
  });

  it('stores the message with the sender from the identity, trimmed, and returns it', async () => {
    const before = Math.floor(Date.now() / 1000);
    const { status, body } = await chatClient(handlers, alice).send(200, '  老师 hello \n');
    expect(status).toBe(200);
    expect(body.data).toEqual({ id: 1, ...alice, msg_body: '老师 hello', create_time: expect.any(Number) });
    expect(body.data!.create_time).toBeGreaterThanOrEqual(before);
    expect(Object.keys(body.data!)).toEqual(['id', 'user_id', 'user_type', 'user_name', 'msg_body', 'create_time']);
  });

  it('never takes the sender from the body', async () => {
    const { body } = await post<Record<string, unknown>>(
      handlers.send,
      '/message/send_group_chat',
      { id: 200, msg_body: 'spoof', client_msg_id: 'spoof-1', user_id: 12, user_name: 'bob', user_type: 1 },
      { 'x-user-id': '11', 'x-user-type': '3', 'x-user-name': 'alice' },
    );
    expect(body.data).toMatchObject({ user_id: 11, user_type: 3, user_name: 'alice' });
  });

  it('gives dense ids in order and the poll serves them', async () => {
    const b = chatClient(handlers, bob);
    const sent = [];
    for (const text of ['one', 'two', 'three']) sent.push((await b.send(200, text)).body.data!);
    expect(sent.map((m) => m.id)).toEqual([3, 4, 5]);
    const { body } = await b.poll({ id: 200, last_id: 2 });
    expect(body.data!.list).toEqual(sent);
  });

  it('returns the original message to a retry with the same client_msg_id, storing it once', async () => {
    const a = chatClient(handlers, alice);
    const first = (await a.send(200, 'once', 'k-1')).body.data!;
    const retry = (await a.send(200, 'once', 'k-1')).body.data!;
    expect(retry).toEqual(first);
    const other = (await chatClient(handlers, bob).send(200, 'once', 'k-1')).body.data!; // another user's key space
    expect(other.id).toBe(first.id + 1);
    const bodies = (await chapterItemsOf(200)).filter((i) => i.msg_body === 'once');
    expect(bodies).toHaveLength(2);
  });

  it('answers 409 to the same client_msg_id with another body, and stores nothing', async () => {
    const a = chatClient(handlers, alice);
    const first = (await a.send(200, 'the first body', 'k-409')).body.data!;
    const before = await chapterItemsOf(200);
    const { status, body } = await a.send(200, 'another body', 'k-409');
    expect({ status, body }).toEqual({
      status: 409,
      body: { code: 409, msg: 'client_msg_id was already used for a different message; use a new client_msg_id for a new message', data: null },
    });
    expect(await chapterItemsOf(200)).toEqual(before);
    expect((await a.send(200, 'the first body', 'k-409')).body.data).toEqual(first);
  });

  it('answers 403 to a caller who is not a member, and stores nothing', async () => {
    const stranger = chatClient(handlers, { user_id: 99, user_type: 1, user_name: 'stranger' });
    const before = await chapterItemsOf(200);
    const { status, body } = await stranger.send(200, 'let me in');
    expect([status, body.code, body.data]).toEqual([403, 403, null]);
    expect(await chapterItemsOf(200)).toEqual(before);
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['msg_body missing', { id: 200 }, 'msg_body is required'],
    ['msg_body blank', { id: 200, msg_body: ' \n\t ' }, 'msg_body must not be empty'],
    ['msg_body not text', { id: 200, msg_body: 5 }, 'msg_body must be a string'],
    ['msg_body too long', { id: 200, msg_body: '字'.repeat(2001) }, 'msg_body must be at most 2000 characters'],
    ['id missing', { msg_body: 'x' }, 'id is required'],
    ['id not an integer', { id: 'x', msg_body: 'x' }, 'id must be an integer'],
    ['client_msg_id missing', { id: 200, msg_body: 'x' }, 'client_msg_id is required (a key of your choosing per message, reused when you retry it)'],
    ['client_msg_id malformed', { id: 200, msg_body: 'x', client_msg_id: 'has spaces' }, "client_msg_id must be 1 to 64 letters, digits, '.', '_', ':' or '-'"],
    ['client_msg_id too long', { id: 200, msg_body: 'x', client_msg_id: 'k'.repeat(65) }, "client_msg_id must be 1 to 64 letters, digits, '.', '_', ':' or '-'"],
  ])('answers 400 to %s and stores nothing', async (_, params, msg) => {
    const before = await chapterItemsOf(200);
    const { status, body } = await post(handlers.send, '/message/send_group_chat', params, { 'x-user-id': '11', 'x-user-type': '3', 'x-user-name': 'a' });
    expect({ status, body }).toEqual({ status: 400, body: { code: 400, msg, data: null } });
    expect(await chapterItemsOf(200)).toEqual(before);
  });

  it('accepts a message of exactly 2000 characters (counted as characters, not bytes)', async () => {
    const { body } = await chatClient(handlers, alice).send(200, '字'.repeat(2000));
    expect([...body.data!.msg_body]).toHaveLength(2000);
  });

  it('accepts 2000 four-byte characters posted as a form (24 KB encoded), and answers 413 past 32 KB', async () => {
    const headers = { 'content-type': 'application/x-www-form-urlencoded', 'x-user-id': '11', 'x-user-type': '3', 'x-user-name': 'a' };
    const form = (text: string) => Buffer.from(`id=200&client_msg_id=${text.length}&msg_body=${encodeURIComponent(text)}`);
    const ok = await call<{ msg_body: string }>(handlers.send, apiGatewayEvent({ method: 'POST', url: '/message/send_group_chat', headers, body: form('😀'.repeat(2000)) }));
    expect([ok.status, [...ok.body.data!.msg_body].length]).toEqual([200, 2000]);
    const before = await chapterItemsOf(200);
    const tooLarge = await call(handlers.send, apiGatewayEvent({ method: 'POST', url: '/message/send_group_chat', headers, body: form('x'.repeat(33 * 1024)) }));
    expect({ status: tooLarge.status, body: tooLarge.body }).toEqual({ status: 413, body: { code: 413, msg: 'request body must be at most 32 KB', data: null } });
    expect(await chapterItemsOf(200)).toEqual(before);
  });
});

describe('identity', () => {
  it.each<[string, Record<string, string>, string]>([
    ['no identity at all', {}, 'x-user-id must be an integer of at least 1'],
    ['a non-numeric user id', { 'x-user-id': 'abc', 'x-user-type': '2', 'x-user-name': 'n' }, 'x-user-id must be an integer of at least 1'],
    ['a missing user type', { 'x-user-id': '5', 'x-user-name': 'n' }, 'x-user-type must be an integer of at least 0'],
    ['an empty name', { 'x-user-id': '5', 'x-user-type': '2', 'x-user-name': ' ' }, 'x-user-name must be a name of 1 to 64 characters'],
  ])('answers 401 to %s, on every route that acts for a caller', async (_, headers, msg) => {
    for (const [handler, path] of [
      [handlers.send, '/message/send_group_chat'],
      [handlers.join, '/message/join_group_chat'],
      [handlers.leave, '/message/leave_group_chat'],
    ] as const) {
      const { status, body } = await post(handler, path, { id: 300, msg_body: 'x' }, headers);
      expect({ status, body }).toEqual({ status: 401, body: { code: 401, msg, data: null } });
    }
    expect(await chapterItemsOf(300)).toEqual([]);
  });

  it('takes the identity from the JWT authorizer claims unless headers are configured, and then ignores x-user-* headers', async () => {
    delete process.env.IDENTITY_SOURCE;
    process.env.JWT_CLAIM_USER_ID = 'custom:uid';
    let join: Handlers['join'] = handlers.join;
    await jest.isolateModulesAsync(async () => {
      ({ handler: join } = await import('../../lambda/handlers/join-group-chat'));
    });
    process.env.IDENTITY_SOURCE = 'headers';
    delete process.env.JWT_CLAIM_USER_ID;

    const event = eventFor('/message/join_group_chat', { json: { id: 301 } });
    event.headers['x-user-id'] = '5';
    const withClaims = {
      ...event,
      requestContext: { ...event.requestContext, authorizer: { jwt: { claims: { 'custom:uid': '77', user_type: '2', name: 'jwt user' }, scopes: [] } } },
    };
    expect((await call(join, withClaims)).body.data).toEqual({ member_count: 1 });
    const members = (await chapterItemsOf(301)).filter((i) => String(i.sk).startsWith('member#'));
    expect(members.map((m) => [m.user_id, m.user_name])).toEqual([[77, 'jwt user']]);
    const headersOnly = await call(join, event);
    expect([headersOnly.status, headersOnly.body.msg]).toEqual([401, 'a valid token is required']);
  });
});

describe('the stamp of create_time', () => {
  it(`puts at most ${MAX_MESSAGES_PER_SECOND} messages in one second, so a legacy page stays bounded`, async () => {
    await chatClient(handlers, alice).join(400);
    const T = 1_900_000_000;
    const sender = { chapterId: 400, sender: alice, body: 'burst' };
    const times: number[] = [];
    for (let i = 0; i < MAX_MESSAGES_PER_SECOND + 3; i++) times.push((await sendGroupChat(table.store, { ...sender, clientMsgId: `b${i}` }, () => T * 1000)).create_time);
    expect(times.filter((t) => t === T)).toHaveLength(MAX_MESSAGES_PER_SECOND);
    expect(times.slice(MAX_MESSAGES_PER_SECOND)).toEqual([T + 1, T + 1, T + 1]);
  });

  it('never goes backwards when a writer clock is behind the newest message', async () => {
    await chatClient(handlers, alice).join(401);
    const first = await sendGroupChat(table.store, { chapterId: 401, sender: alice, body: 'a', clientMsgId: 'a' }, () => 2_000_000_000_000);
    const second = await sendGroupChat(table.store, { chapterId: 401, sender: alice, body: 'b', clientMsgId: 'b' }, () => 1_999_999_990_000);
    expect(second.create_time).toBe(first.create_time);
  });
});
