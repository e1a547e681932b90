/**
 * Membership decided by the course platform, on DynamoDB Local: the admin routes add_members and
 * remove_members (idempotent, 1–100 ids per call, no user identity read), and the stack's
 * `membership` setting — `managed` refuses a user's own join and leave (403, nothing stored),
 * `self` lets them in, and a non-member's leave changes nothing.
 */
import { ENV, MAX_USER_IDS_PER_CALL } from '../../lambda/contract';
import type { LambdaHandler } from '../../local/handlers';
import { call, eventFor } from '../support/api';
import {
  adminClient,
  adminHandlersFor,
  chatClient,
  handlersFor,
  identityHeaders,
  jsonEvent,
  withClaims,
  type AdminHandlers,
  type Handlers,
} from '../support/chat-client';
import { chapterItems, startTestTable, type TestTable } from '../support/dynamodb';

let table: TestTable;
let handlers: Handlers;
let admin: ReturnType<typeof adminClient>;
let adminHandlers: AdminHandlers;

beforeAll(async () => {
  table = await startTestTable('admin');
  handlers = await handlersFor(table); // membership `self`, header identity: a dev stack or an open demo
  adminHandlers = await adminHandlersFor(table);
  admin = adminClient(adminHandlers);
});
afterAll(() => table.close());

const alice = { user_id: 31, user_type: 3, user_name: 'alice' };
const chapterItemsOf = (chapterId: number) => chapterItems(table, chapterId);
const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);


/** The member ids of a chapter, from its member items, and member_count from its presence item. */
async function membersOf(chapterId: number): Promise<{ ids: number[]; count: number | undefined }> {
  const items = await chapterItemsOf(chapterId);
  return {
    ids: items.filter((i) => String(i.sk).startsWith('member#')).map((i) => i.user_id as number).sort((a, b) => a - b),
    count: items.find((i) => i.sk === 'presence')?.member_count as number | undefined,
  };
}

describe('admin/add_members and admin/remove_members', () => {
  it('add is idempotent: adding members again changes nothing and answers the same count', async () => {
    expect((await admin.add(1, [1, 2, 3])).body).toEqual({ code: 200, msg: 'ok', data: { member_count: 3 } });
    expect((await admin.add(1, [1, 2, 3])).body.data).toEqual({ member_count: 3 });
    expect((await admin.add(1, [3, 4])).body.data).toEqual({ member_count: 4 });
    expect(await membersOf(1)).toEqual({ ids: [1, 2, 3, 4], count: 4 });
  });

  it('remove is idempotent: removing non-members changes nothing and answers the same count', async () => {
    expect((await admin.remove(1, [2, 4])).body).toEqual({ code: 200, msg: 'ok', data: { member_count: 2 } });
    expect((await admin.remove(1, [2, 4])).body.data).toEqual({ member_count: 2 });
    expect((await admin.remove(1, [4, 99])).body.data).toEqual({ member_count: 2 });
    expect(await membersOf(1)).toEqual({ ids: [1, 3], count: 2 });
  });

  it('members the platform added are members: they send, and their poll counts them', async () => {
    await admin.add(2, [alice.user_id]);
    const sent = await chatClient(handlers, alice).send(2, 'added by the platform');
    expect([sent.status, sent.body.data?.user_name]).toEqual([200, 'alice']);
    expect((await chatClient(handlers, alice).poll({ id: 2, last_id: 0 })).body.data!.member_count).toBe(1);
  });

  it(`takes ${MAX_USER_IDS_PER_CALL} ids in one call, as a JSON array or a comma-separated form value`, async () => {
    const ids = range(1000, MAX_USER_IDS_PER_CALL);
    expect((await admin.add(3, ids)).body.data).toEqual({ member_count: MAX_USER_IDS_PER_CALL });
    expect(await membersOf(3)).toEqual({ ids, count: MAX_USER_IDS_PER_CALL });

    const form = eventFor('/admin/remove_members', { form: `id=3&user_ids=${ids.join(',')}` });
    const removed = await call(adminHandlers.remove, form);
    expect([removed.status, removed.body.data]).toEqual([200, { member_count: 0 }]);
    expect(await membersOf(3)).toEqual({ ids: [], count: 0 });
  });

  it(`refuses ${MAX_USER_IDS_PER_CALL + 1} ids with a 400 naming user_ids, and stores nothing`, async () => {
    await admin.add(4, [1]);
    const before = await chapterItemsOf(4);
    const ids = range(2000, MAX_USER_IDS_PER_CALL + 1);
    for (const [route, params] of [
      [adminHandlers.add, { id: 4, user_ids: ids }],
      [adminHandlers.remove, { id: 4, user_ids: [1, ...ids.slice(1)] }],
    ] as const) {
      const { status, body } = await call(route, jsonEvent('/admin/x', params));
      expect({ status, body }).toEqual({
        status: 400,
        body: { code: 400, msg: `user_ids must list at most ${MAX_USER_IDS_PER_CALL} user ids per call, got ${MAX_USER_IDS_PER_CALL + 1}`, data: null },
      });
    }
    expect(await chapterItemsOf(4)).toEqual(before);
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['user_ids missing', { id: 5 }, 'user_ids is required'],
    ['user_ids empty', { id: 5, user_ids: [] }, 'user_ids must list 1 to 100 user ids: a JSON array, or comma-separated'],
    ['a bad id among good ones', { id: 5, user_ids: [6, 7, 0] }, 'user_ids: item 3 is not a user id (an integer of at least 1)'],
    ['id missing', { user_ids: [6] }, 'id is required'],
  ])('answers 400 to %s and stores nothing (a good id before a bad one included)', async (_, params, msg) => {
    for (const route of [adminHandlers.add, adminHandlers.remove]) {
      const { status, body } = await call(route, jsonEvent('/admin/x', params));
      expect({ status, body }).toEqual({ status: 400, body: { code: 400, msg, data: null } });
    }
    expect(await chapterItemsOf(5)).toEqual([]);
  });
});

describe('the admin routes read no user identity', () => {
  const mallory = { user_id: 66, user_type: 1, user_name: 'mallory' };

  it('x-user-* headers and token claims neither change what is added or removed nor are needed', async () => {
    // The same calls on three chapters: without identity, with mallory's headers, with mallory's claims.
    const plain = (path: string, params: Record<string, unknown>) => jsonEvent(path, params);
    const headed = (path: string, params: Record<string, unknown>) => jsonEvent(path, params, identityHeaders(mallory));
    const claimed = (path: string, params: Record<string, unknown>) => withClaims(jsonEvent(path, params), mallory);
    const answers: unknown[] = [];
    for (const [chapterId, event] of [
      [10, plain],
      [11, headed],
      [12, claimed],
    ] as const) {
      const add = await call(adminHandlers.add, event('/admin/add_members', { id: chapterId, user_ids: [1, 2, 3] }));
      const remove = await call(adminHandlers.remove, event('/admin/remove_members', { id: chapterId, user_ids: [2] }));
      answers.push([add.status, add.body, remove.status, remove.body]);
      // mallory neither became a member nor was taken for one of the ids.
      expect(await membersOf(chapterId)).toEqual({ ids: [1, 3], count: 2 });
    }
    expect(answers[1]).toEqual(answers[0]);
    expect(answers[2]).toEqual(answers[0]);
    expect(answers[0]).toEqual([200, { code: 200, msg: 'ok', data: { member_count: 3 } }, 200, { code: 200, msg: 'ok', data: { member_count: 2 } }]);
  });

  it('nor when the functions take identity from tokens: no claims is not a 401 there', async () => {
    let tokenStack: AdminHandlers | undefined;
    await jest.isolateModulesAsync(async () => {
      tokenStack = await adminHandlersFor(table, undefined, 'jwt');
    });
    process.env[ENV.identitySource] = 'headers';
    const { status, body } = await call(tokenStack!.add, jsonEvent('/admin/add_members', { id: 13, user_ids: [5] }));
    expect([status, body.data]).toEqual([200, { member_count: 1 }]);
  });
});

describe('membership `self`: users join and leave on their own', () => {
  it("a non-member's leave changes nothing and answers the current count", async () => {
    await admin.add(20, [1, 2]);
    const before = await chapterItemsOf(20);
    const { status, body } = await chatClient(handlers, alice).leave(20);
    expect([status, body.data]).toEqual([200, { member_count: 2 }]);
    expect(await chapterItemsOf(20)).toEqual(before);
  });

  it('a join adds the caller beside the members the platform added', async () => {
    expect((await chatClient(handlers, alice).join(20)).body.data).toEqual({ member_count: 3 });
    expect(await membersOf(20)).toEqual({ ids: [1, 2, alice.user_id], count: 3 });
  });
});

describe('membership `managed`: the course platform decides', () => {
  let managed: { join: LambdaHandler; leave: LambdaHandler; send: LambdaHandler };

  beforeAll(async () => {
    // The functions read MEMBERSHIP once at init: load fresh copies as a managed stack runs them.
    process.env[ENV.membership] = 'managed';
    await jest.isolateModulesAsync(async () => {
      const [join, leave, send] = await Promise.all([
        import('../../lambda/handlers/join-group-chat'),
        import('../../lambda/handlers/leave-group-chat'),
        import('../../lambda/handlers/send-group-chat'),
      ]);
      managed = { join: join.handler, leave: leave.handler, send: send.handler };
    });
    process.env[ENV.membership] = 'self';
  });

  const as = (handler: LambdaHandler, path: string, params: Record<string, unknown>) => call<{ member_count: number }>(handler, jsonEvent(path, params, identityHeaders(alice)));
  const refusal = {
    status: 403,
    body: { code: 403, msg: 'membership is managed by the course platform: members follow course enrolment and cannot join or leave themselves', data: null },
  };

  it('join_group_chat answers 403 saying so, and stores nothing (not even a presence item)', async () => {
    const { status, body } = await as(managed.join, '/message/join_group_chat', { id: 30 });
    expect({ status, body }).toEqual(refusal);
    expect(await chapterItemsOf(30)).toEqual([]);
  });

  it("join_group_chat answers 403 in a chapter with members too, and the count and members stay", async () => {
    await admin.add(31, [1, 2]);
    const before = await chapterItemsOf(31);
    const { status, body } = await as(managed.join, '/message/join_group_chat', { id: 31 });
    expect({ status, body }).toEqual(refusal);
    expect(await chapterItemsOf(31)).toEqual(before);
  });

  it('leave_group_chat answers 403 to a member, who stays a member', async () => {
    await admin.add(32, [alice.user_id, 2]);
    const before = await chapterItemsOf(32);
    const { status, body } = await as(managed.leave, '/message/leave_group_chat', { id: 32 });
    expect({ status, body }).toEqual(refusal);
    expect(await chapterItemsOf(32)).toEqual(before);
    expect(await membersOf(32)).toEqual({ ids: [2, alice.user_id], count: 2 });
  });

  it('an identity is still checked first (401), and a bad id is still a 400', async () => {
    expect((await call(managed.join, jsonEvent('/message/join_group_chat', { id: 33 }))).status).toBe(401);
    expect((await as(managed.leave, '/message/leave_group_chat', { id: 'x' })).body).toEqual({ code: 400, msg: 'id must be an integer', data: null });
  });

  it('the platform adds and removes; members send, former members cannot', async () => {
    expect((await as(managed.send, '/message/send_group_chat', { id: 34, msg_body: 'hi', client_msg_id: 'm-1' })).status).toBe(403);
    await admin.add(34, [alice.user_id]);
    expect((await as(managed.send, '/message/send_group_chat', { id: 34, msg_body: 'hi', client_msg_id: 'm-2' })).status).toBe(200);
    await admin.remove(34, [alice.user_id]);
    expect((await as(managed.send, '/message/send_group_chat', { id: 34, msg_body: 'hi again', client_msg_id: 'm-3' })).status).toBe(403);
  });

  it('a MEMBERSHIP the functions do not know fails their init', async () => {
    process.env[ENV.membership] = 'open';
    try {
      await jest.isolateModulesAsync(async () => {
        await expect(import('../../lambda/handlers/join-group-chat')).rejects.toThrow('MEMBERSHIP must be managed or self, got "open"');
      });
    } finally {
      process.env[ENV.membership] = 'self';
    }
  });
});
