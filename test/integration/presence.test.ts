/**
 * member_count under concurrency and crashes: 60 users join, leave and rejoin one chapter at once,
 * with crashes injected between the steps of join and leave (each crashed call is retried) and
 * random stalls before every step, so counts taken at different versions race to be stored.
 */
import { findGroupChat } from '../../lambda/domain/find-group-chat';
import type { MemberCount } from '../../lambda/contract';
import { joinGroupChat, leaveGroupChat } from '../../lambda/domain/membership';
import { crashingStore, InjectedCrash } from '../support/crash';
import { seededRandom } from '../support/random';
import { startTestTable, type TestTable } from '../support/dynamodb';

let table: TestTable;
beforeAll(async () => (table = await startTestTable()));
afterAll(() => table.close());

const USERS = 60;
const CHAPTER = 7;
const STEPS = ['putMemberIfAbsent', 'deleteMember', 'bumpMembershipVersion', 'countMembers', 'storeMemberCount'];

it('member_count ends equal to the member items, never negative, and polls report it', async () => {
  const random = seededRandom(20261127);
  const counts: number[] = [];
  const crashes: Record<string, number> = {};
  /** Runs one call with a 30 % chance of a crash after one of its steps; retries it until it completes. */
  async function withCrashes(call: (store: typeof table.store) => Promise<MemberCount>) {
    for (;;) {
      const crashStep = random() < 0.3 ? STEPS[Math.floor(random() * STEPS.length)] : undefined;
      try {
        const result = await call(crashingStore(table.store, (method) => method === crashStep, () => random() * 25));
        counts.push(result.member_count);
        return;
      } catch (error) {
        if (!(error instanceof InjectedCrash)) throw error;
        crashes[error.after] = (crashes[error.after] ?? 0) + 1;
      }
    }
  }

  const users = Array.from({ length: USERS }, (_, i) => ({ user_id: 1000 + i, user_type: 2, user_name: `user ${i}` }));
  // Every user joins, leaves and rejoins; every third user leaves again at the end.
  await Promise.all(
    users.map(async (user, i) => {
      await withCrashes((store) => joinGroupChat(store, CHAPTER, user));
      await withCrashes((store) => leaveGroupChat(store, CHAPTER, user.user_id));
      await withCrashes((store) => joinGroupChat(store, CHAPTER, user));
      if (i % 3 === 0) await withCrashes((store) => leaveGroupChat(store, CHAPTER, user.user_id));
    }),
  );

  const expected = users.filter((_, i) => i % 3 !== 0).length;
  expect(await table.store.countMembers(CHAPTER)).toBe(expected);
  expect(await table.store.memberCount(CHAPTER)).toBe(expected);
  const poll = await findGroupChat(table.store, { chapterId: CHAPTER, cursor: { lastId: 0 }, limit: 100 });
  expect(poll.member_count).toBe(expected);
  expect(Math.min(...counts)).toBeGreaterThanOrEqual(0);
  expect(Math.max(...counts)).toBeLessThanOrEqual(USERS);
  expect(counts).toHaveLength(USERS * 3 + USERS / 3);
  // The crashes happened, at every step.
  expect(Object.keys(crashes).sort()).toEqual([...STEPS].sort());
  console.info(`presence: ${USERS} users, ${counts.length} calls completed, crashes by step ${JSON.stringify(crashes)}`);
});

it('a crash after the last change leaves a stale count that a retry of the same call repairs', async () => {
  const user = { user_id: 1, user_type: 2, user_name: 'solo' };
  await joinGroupChat(table.store, 8, user);
  await expect(leaveGroupChat(crashingStore(table.store, (m) => m === 'deleteMember'), 8, 1)).rejects.toThrow(InjectedCrash);
  expect(await table.store.memberCount(8)).toBe(1); // stale: the member item is gone, the count not yet updated
  expect(await leaveGroupChat(table.store, 8, 1)).toEqual({ member_count: 0 });
  expect(await table.store.memberCount(8)).toBe(0);
});

it('a count taken before a later change never overwrites the count taken after it', async () => {
  const [x, y] = [
    { user_id: 1, user_type: 2, user_name: 'x' },
    { user_id: 2, user_type: 2, user_name: 'y' },
  ];
  // X's join counts (1 member), then stalls before storing; Y joins completely (2 members); X stores last.
  let release!: () => void;
  const stalled = new Promise<void>((resolve) => (release = resolve));
  let counted!: () => void;
  const xCounted = new Promise<void>((resolve) => (counted = resolve));
  const stallingStore = new Proxy(table.store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (property !== 'storeMemberCount') return typeof value === 'function' ? value.bind(target) : value;
      return async (...args: Parameters<typeof target.storeMemberCount>) => {
        counted();
        await stalled;
        return target.storeMemberCount(...args);
      };
    },
  });
  const xJoin = joinGroupChat(stallingStore, 9, x);
  await xCounted;
  expect(await joinGroupChat(table.store, 9, y)).toEqual({ member_count: 2 });
  release();
  expect(await xJoin).toEqual({ member_count: 1 }); // what X counted; the stored count stays the newer one
  expect(await table.store.memberCount(9)).toBe(2);
});
