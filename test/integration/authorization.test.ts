/**
 * The handlers as deployed behind the JWT authorizer (identity from verified claims), on DynamoDB Local:
 * 401 without an identity, 403 for a caller who is not a member of the chapter, 405/404 from the
 * `$default` route, 413 and 415 for bodies we do not read, and a member's poll in one round trip.
 * (503 under injected DynamoDB faults: read-faults.test.ts, which runs in this mode too.)
 */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { handler as notRouted } from '../../lambda/handlers/not-routed';
import { MAX_BODY_BYTES } from '../../lambda/http/params';
import { apiGatewayEvent } from '../../local/api-gateway-event';
import { call, eventFor } from '../support/api';
import { chatClient, handlersFor, jsonEvent, withClaims, type Handlers } from '../support/chat-client';
import { messageRun, putMessages, startTestTable, type TestTable } from '../support/dynamodb';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy';

let table: TestTable;
let proxy: FaultProxy;
let handlers: Handlers;

const CHAPTER = 1;
const OTHER_CHAPTER = 2;
const alice = { user_id: 21, user_type: 2, user_name: 'alice' };
const mallory = { user_id: 66, user_type: 2, user_name: 'mallory' };
const SECRET = 'the answer to exercise 3 is 42';

beforeAll(async () => {
  table = await startTestTable();
  proxy = await startFaultProxy(table.endpoint);
  handlers = await handlersFor(table, proxy.endpoint, 'jwt');
  await putMessages(table, CHAPTER, [
    ...messageRun({ firstId: 1, count: 2, firstTime: 1_700_000_000, perSecond: 1 }),
    { id: 3, ...alice, msg_body: SECRET, create_time: 1_700_000_002 },
  ]);
  await chatClient(handlers, alice).join(CHAPTER);
  await chatClient(handlers, mallory).join(OTHER_CHAPTER);
});
afterAll(async () => {
  await proxy.close();
  await table.close();
});

async function chapterItemCount(chapterId: number): Promise<number> {
  const out = await table.db.send(
    new QueryCommand({ TableName: table.tableName, KeyConditionExpression: 'chapter_id = :c', ExpressionAttributeValues: { ':c': chapterId }, Select: 'COUNT' }),
  );
  return out.Count ?? 0;
}

const ROUTE_CALLS = [
  ['find', '/message/find_group_chat', { id: CHAPTER, last_id: 0 }],
  ['send', '/message/send_group_chat', { id: CHAPTER, msg_body: 'hi' }],
  ['join', '/message/join_group_chat', { id: CHAPTER }],
  ['leave', '/message/leave_group_chat', { id: CHAPTER }],
] as const;

describe('401: no verified identity', () => {
  test.each(ROUTE_CALLS)('%s without token claims answers 401 and changes nothing', async (name, path, params) => {
    const before = await chapterItemCount(CHAPTER);
    const { status, body } = await call(handlers[name], jsonEvent(path, params));
    expect({ status, body }).toEqual({ status: 401, body: { code: 401, msg: 'a valid token is required', data: null } });
    expect(await chapterItemCount(CHAPTER)).toBe(before);
  });

  test('claims without a usable user id answer 401', async () => {
    const event = withClaims(jsonEvent('/message/find_group_chat', { id: CHAPTER, last_id: 0 }), alice);
    (event.requestContext as unknown as { authorizer: { jwt: { claims: Record<string, string> } } }).authorizer.jwt.claims.user_id = 'abc';
    const { status, body } = await call(handlers.find, event);
    expect(status).toBe(401);
    expect(body).toEqual({ code: 401, msg: 'token claim user_id must be an integer of at least 1', data: null });
  });
});

describe("403: reading or writing a chapter one is not a member of", () => {
  test.each([{ last_id: 0 }, { msg_time: 0 }])('a non-member polling %j gets 403 and not a word of the chat', async (cursor) => {
    const { status, body } = await chatClient(handlers, mallory).poll({ id: CHAPTER, ...cursor });
    expect({ status, body }).toEqual({
      status: 403,
      body: { code: 403, msg: 'only members of this chapter may read it', data: null },
    });
    expect(JSON.stringify(body)).not.toContain(SECRET);
  });

  test('a member reads the chat in both modes', async () => {
    const a = chatClient(handlers, alice);
    const exact = await a.poll({ id: CHAPTER, last_id: 0 });
    expect(exact.status).toBe(200);
    expect(exact.body.data).toMatchObject({ member_count: 1, has_more: false });
    expect(exact.body.data!.list.map((m) => m.id)).toEqual([1, 2, 3]);
    const legacy = await a.poll({ id: CHAPTER, msg_time: 0 });
    expect(legacy.status).toBe(200);
    expect(legacy.body.data!.list.map((m) => m.id)).toEqual([1, 2, 3]);
  });

  test('joining opens the chat at once, leaving closes it at once', async () => {
    const m = chatClient(handlers, mallory);
    await m.join(CHAPTER);
    expect((await m.poll({ id: CHAPTER, last_id: 2 })).body.data!.list.map((x) => x.msg_body)).toEqual([SECRET]);
    await m.leave(CHAPTER);
    expect((await m.poll({ id: CHAPTER, last_id: 2 })).status).toBe(403);
    expect((await m.poll({ id: CHAPTER, msg_time: 0 })).status).toBe(403);
  });

  test('a non-member cannot send (403) and nothing is stored', async () => {
    const before = await chapterItemCount(CHAPTER);
    const { status, body } = await chatClient(handlers, mallory).send(CHAPTER, 'let me in');
    expect({ status, code: body.code }).toEqual({ status: 403, code: 403 });
    expect(await chapterItemCount(CHAPTER)).toBe(before);
  });
});

describe("an idle member's poll is one round trip: the chapter's head and the membership, read at once", () => {
  /** The DynamoDB operations one poll issues, as seen on the wire. */
  async function operationsOf(params: Record<string, unknown>): Promise<string[]> {
    const seen: string[] = [];
    proxy.setPlan((request) => {
      seen.push(request.operation);
      return undefined;
    });
    try {
      expect((await chatClient(handlers, alice).poll(params)).status).toBe(200);
    } finally {
      proxy.setPlan(undefined);
    }
    return seen.sort();
  }

  test('an idle exact poll: two GetItems (presence, member item), no Query', async () => {
    expect(await operationsOf({ id: CHAPTER, last_id: 3 })).toEqual(['GetItem', 'GetItem']);
  });

  test('an idle legacy poll: the same two GetItems, no Query', async () => {
    expect(await operationsOf({ id: CHAPTER, msg_time: 1_700_000_002 })).toEqual(['GetItem', 'GetItem']);
  });

  test('a poll behind the newest message: the two GetItems, then the Query', async () => {
    expect(await operationsOf({ id: CHAPTER, last_id: 2 })).toEqual(['GetItem', 'GetItem', 'Query']);
  });
});

describe("405 and 404: the `$default` route's function answers what no route matched", () => {
  test.each(['GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'])('%s on a route path: 405 with Allow: POST', async (method) => {
    const { status, headers, body } = await call(notRouted, apiGatewayEvent({ method, url: '/message/find_group_chat?id=1' }));
    expect({ status, allow: headers.allow, body }).toEqual({ status: 405, allow: 'POST', body: { code: 405, msg: 'method must be POST', data: null } });
  });

  test.each(['/', '/message', '/message/find_group_chat/', '/message/FIND_GROUP_CHAT', '/admin/../message/x'])('POST %s: 404', async (url) => {
    const { status, body } = await call(notRouted, apiGatewayEvent({ method: 'POST', url }));
    expect({ status, body }).toEqual({ status: 404, body: { code: 404, msg: 'no such route', data: null } });
  });
});

describe('413 and 415: bodies we do not read', () => {
  test(`a body over ${MAX_BODY_BYTES / 1024} KB: 413`, async () => {
    const event = withClaims(jsonEvent('/message/find_group_chat', { id: CHAPTER, last_id: 0, pad: 'x'.repeat(MAX_BODY_BYTES) }), alice);
    const { status, body } = await call(handlers.find, event);
    expect({ status, body }).toEqual({ status: 413, body: { code: 413, msg: `request body must be at most ${MAX_BODY_BYTES / 1024} KB`, data: null } });
  });

  test.each(['text/plain', 'application/xml', 'application/octet-stream', 'multipart/mixed; boundary=x'])('content type %s: 415', async (contentType) => {
    const event = withClaims(eventFor('/message/send_group_chat', { raw: 'id=1&msg_body=hi', contentType }), alice);
    const { status, body } = await call(handlers.send, event);
    expect({ status, code: body.code, data: body.data }).toEqual({ status: 415, code: 415, data: null });
  });
});
