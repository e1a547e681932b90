/**
 * member_count under concurrency, crashes and faults: every join and leave is one transaction (a
 * conditional member write + ADD member_count), so the count equals the member items after any
 * interleaving, never goes below zero, and a call retried after a lost answer is counted once.
 * 60 users join, leave and rejoin one chapter at once, with crashes after each step (the call is
 * then retried) and with DynamoDB faults injected below the SDK.
 */
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ENV, type MemberCount } from '../../lambda/contract';
import { createChatStore, dynamoDbConfig, recountMembers } from '../../lambda/data';
import { findGroupChat } from '../../lambda/domain/find-group-chat';
import { joinGroupChat, leaveGroupChat } from '../../lambda/domain/membership';
import type { ChatStore } from '../../lambda/ports/chat-store';
import { StorageUnavailableError } from '../../lambda/ports/errors';
import { crashingStore, InjectedCrash } from '../support/crash';
import { chapterItems, startTestTable, type TestTable } from '../support/dynamodb';
import { randomFaults, startFaultProxy, type FaultProxy } from '../support/fault-proxy';
import { seededRandom } from '../support/random';

let table: TestTable;
let proxy: FaultProxy;
/** The store of a function whose DynamoDB traffic goes through the fault proxy. */
let proxiedStore: ChatStore;

beforeAll(async () => {
  table = await startTestTable('presence');
  proxy = await startFaultProxy(table.endpoint);
  proxiedStore = createChatStore(dynamoDbConfig({ [ENV.dynamodbEndpoint]: proxy.endpoint }), table.tableName);
});
afterAll(async () => {
  proxiedStore.destroy();
  await proxy.close();
  await table.close();
});

const USERS = 60;
const STEPS = ['addMembers', 'removeMembers', 'currentMemberCount'];
const person = (id: number) => ({ user_id: id, user_type: 2, user_name: `user ${id}` });

/** The member items of a chapter, counted (strongly consistent): the truth member_count must equal. */
async function memberItems(chapterId: number): Promise<number> {
  return (await chapterItems(table, chapterId, 'member#')).length;
}

/** 60 users join, leave and rejoin (every third leaves again) at once; each call is retried until it completes. */
async function churn(chapterId: number, store: ChatStore, options: { crashRate: number; seed: number }) {
  const random = seededRandom(options.seed);
  const counts: number[] = [];
  const failures: Record<string, number> = {};
  async function untilDone(call: (store: ChatStore) => Promise<MemberCount>) {
    for (;;) {
      const crashStep = random() < options.crashRate ? STEPS[Math.floor(random() * STEPS.length)] : undefined;
      try {
        const result = await call(crashingStore(store, (method) => method === crashStep, () => random() * 25));
        counts.push(result.member_count);
        return;
      } catch (error) {
        if (error instanceof InjectedCrash) failures[`crash after ${error.after}`] = (failures[`crash after ${error.after}`] ?? 0) + 1;
        else if (error instanceof StorageUnavailableError) failures.unavailable = (failures.unavailable ?? 0) + 1;
        else throw error;
      }
    }
  }
  const users = Array.from({ length: USERS }, (_, i) => person(1000 + i));
  await Promise.all(
    users.map(async (user, i) => {
      await untilDone((s) => joinGroupChat(s, chapterId, user));
      await untilDone((s) => leaveGroupChat(s, chapterId, user.user_id));
      await untilDone((s) => joinGroupChat(s, chapterId, user));
      if (i % 3 === 0) await untilDone((s) => leaveGroupChat(s, chapterId, user.user_id));
    }),
  );
  return { counts, failures, expected: users.filter((_, i) => i % 3 !== 0).length };
}

async function expectCountIsTheMembers(chapterId: number, expected: number) {
  expect(await memberItems(chapterId)).toBe(expected);
  expect(await table.store.currentMemberCount(chapterId)).toBe(expected);
  const poll = await findGroupChat(table.store, { chapterId, cursor: { lastId: 0 }, limit: 100 });
  expect(poll.member_count).toBe(expected);
}

it('with crashes after every step: member_count ends equal to the member items, never negative', async () => {
  const { counts, failures, expected } = await churn(7, table.store, { crashRate: 0.3, seed: 20261127 });
  await expectCountIsTheMembers(7, expected);
  expect(Math.min(...counts)).toBeGreaterThanOrEqual(0);
  expect(Math.max(...counts)).toBeLessThanOrEqual(USERS);
  expect(counts).toHaveLength(USERS * 3 + USERS / 3);
  // The crashes happened, at every step (a busy engine may add retry-safe 503s: 60 transactions at once on one presence item conflict).
  expect(Object.keys(failures).filter((k) => k !== 'unavailable').sort()).toEqual(STEPS.map((step) => `crash after ${step}`).sort());
  console.info(`presence with crashes: ${counts.length} calls completed, ${JSON.stringify(failures)}`);
});

it('with DynamoDB faults (lost answers, throttling, 5xx, reset connections) and crashes: the count stays exact', async () => {
  proxy.resetCounts();
  proxy.setPlan(randomFaults(0.15, ['lost-response', 'throttle', 'server-error', 'reset-before', 'provisioned-throughput'], { seed: 14 }));
  const { counts, failures, expected } = await churn(17, proxiedStore, { crashRate: 0.1, seed: 1414 });
  proxy.setPlan(undefined);
  await expectCountIsTheMembers(17, expected);
  expect(Math.min(...counts)).toBeGreaterThanOrEqual(0);
  const faults = proxy.counts();
  expect(faults['lost-response']).toBeGreaterThan(10);
  console.info(`presence with faults: ${counts.length} calls completed, ${JSON.stringify(failures)}; injected ${JSON.stringify(faults)}`);
});

describe('one join or leave', () => {
  it('whose answer was lost is retried by the SDK with the same ClientRequestToken and counted once', async () => {
    const tokens: string[] = [];
    proxy.setPlan((request) => {
      if (request.operation !== 'TransactWriteItems') return undefined;
      tokens.push((request.body as { ClientRequestToken: string }).ClientRequestToken);
      return request.attempt === 1 ? 'lost-response' : undefined;
    });
    const joined = await joinGroupChat(proxiedStore, 21, person(1));
    const left = await leaveGroupChat(proxiedStore, 21, 1);
    const rejoined = await joinGroupChat(proxiedStore, 21, person(1));
    proxy.setPlan(undefined);
    expect([joined, left, rejoined]).toEqual([{ member_count: 1 }, { member_count: 0 }, { member_count: 1 }]);
    // Each call: a first attempt whose answer was lost, and the SDK's retry with the same token.
    expect(tokens).toHaveLength(6);
    expect(new Set(tokens).size).toBe(3);
    expect([tokens[0], tokens[2], tokens[4]]).toEqual([tokens[1], tokens[3], tokens[5]]);
    await expectCountIsTheMembers(21, 1);
  });

  it("of a member (join) or a non-member (leave) changes nothing and answers the current count", async () => {
    await joinGroupChat(table.store, 22, person(1));
    await joinGroupChat(table.store, 22, person(2));
    expect(await joinGroupChat(table.store, 22, person(1))).toEqual({ member_count: 2 });
    expect(await leaveGroupChat(table.store, 22, 99)).toEqual({ member_count: 2 });
    expect(await leaveGroupChat(table.store, 23, 99)).toEqual({ member_count: 0 }); // a chapter nobody joined
    await expectCountIsTheMembers(22, 2);
    expect(await memberItems(23)).toBe(0);
  });

  it('costs the same at any chapter size: no COUNT Query, one transaction and one GetItem', async () => {
    await table.store.addMembers(24, Array.from({ length: 500 }, (_, i) => ({ user_id: 10_000 + i, joined_at: 1 })));
    const operations: string[] = [];
    proxy.setPlan((request) => void operations.push(request.operation));
    await joinGroupChat(proxiedStore, 24, person(1));
    await leaveGroupChat(proxiedStore, 24, 1);
    proxy.setPlan(undefined);
    expect(operations).toEqual(['TransactWriteItems', 'GetItem', 'TransactWriteItems', 'GetItem']);
    await expectCountIsTheMembers(24, 500);
  });
});

describe('many members at once (the course platform)', () => {
  it('adds and removes in transactions of at most 99, counting only those that changed', async () => {
    const ids = Array.from({ length: 150 }, (_, i) => 20_000 + i);
    await table.store.addMembers(25, ids.slice(0, 10).map((user_id) => ({ user_id, joined_at: 1 })));
    expect(await table.store.addMembers(25, ids.map((user_id) => ({ user_id, joined_at: 1 })))).toBe(140);
    expect(await table.store.removeMembers(25, [...ids.slice(100), 1, 2, 3])).toBe(50);
    await expectCountIsTheMembers(25, 100);
  });
});

describe('repair (npm run repair-members) for the rare drift', () => {
  it('stores the number of member items as member_count', async () => {
    await table.store.addMembers(26, [1, 2, 3].map((user_id) => ({ user_id, joined_at: 1 })));
    await driftCount(26, 42);
    expect(await recountMembers(table.db, table.tableName, 26)).toEqual({ chapterId: 26, before: 42, after: 3 });
    await expectCountIsTheMembers(26, 3);
  });

  it('counts again when a join lands between its count and its write, and ends exact', async () => {
    await table.store.addMembers(27, [1, 2].map((user_id) => ({ user_id, joined_at: 1 })));
    await driftCount(27, 9);
    let joinedMeanwhile = false;
    // The first time the repair writes its count, a user joins just before: its count is stale.
    const db = new Proxy(table.db, {
      get(target, property, receiver) {
        if (property !== 'send') return Reflect.get(target, property, receiver);
        return async (command: { constructor: { name: string } }) => {
          if (command.constructor.name === 'UpdateCommand' && !joinedMeanwhile) {
            joinedMeanwhile = true;
            await joinGroupChat(table.store, 27, person(3));
          }
          return target.send(command as never);
        };
      },
    });
    const result = await recountMembers(db, table.tableName, 27);
    expect(joinedMeanwhile).toBe(true);
    expect(result.after).toBe(3);
    await expectCountIsTheMembers(27, 3);
  });
});

/** A manual edit or a restore: member_count no longer matches the member items. */
async function driftCount(chapterId: number, wrongCount: number) {
  await table.db.send(
    new UpdateCommand({
      TableName: table.tableName,
      Key: { chapter_id: chapterId, sk: 'presence' },
      UpdateExpression: 'SET member_count = :n',
      ExpressionAttributeValues: { ':n': wrongCount },
    }),
  );
}
