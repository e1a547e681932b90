/**
 * findGroupChat's membership check, on a store whose reads the test completes by hand: the
 * membership read is issued together with the messages read (never after it), and a "not a member"
 * from the cheap read is confirmed by a strongly consistent one before the caller is turned away.
 */
import { NotMemberError } from '../../lambda/domain/errors';
import { findGroupChat, type FindGroupChatQuery } from '../../lambda/domain/find-group-chat';
import type { PollReads } from '../../lambda/ports/chat-store';

type Call = { method: string; args: unknown[]; resolve: (value: unknown) => void };

/** A PollReads whose every read stays pending until the test resolves it. */
function pendingStore() {
  const calls: Call[] = [];
  const pending =
    (method: string) =>
    (...args: unknown[]) =>
      new Promise((resolve) => calls.push({ method, args, resolve }));
  const store = {
    messagesAfterId: pending('messagesAfterId'),
    messagesByCreateTime: pending('messagesByCreateTime'),
    memberCount: pending('memberCount'),
    isMember: pending('isMember'),
    memberCountAndMembership: pending('memberCountAndMembership'),
  } as unknown as PollReads;
  return { store, calls };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));
const NOW = 1_700_000_100_000;

test('exact mode: messages and membership are read at once', async () => {
  const { store, calls } = pendingStore();
  const query: FindGroupChatQuery = { chapterId: 1, cursor: { lastId: 0 }, limit: 100, readerId: 7 };
  const page = findGroupChat(store, query, NOW);
  await flush();
  expect(calls.map((c) => [c.method, c.args])).toEqual([
    ['messagesAfterId', [1, 0, 101]],
    ['isMember', [1, 7, { consistent: false }]],
  ]);
  calls[0].resolve({ messages: [], memberCount: 3, truncated: false });
  calls[1].resolve(true);
  await expect(page).resolves.toEqual({ member_count: 3, list: [], has_more: false });
});

test('legacy mode: the index Query and one read of presence and membership, at once', async () => {
  const { store, calls } = pendingStore();
  const page = findGroupChat(store, { chapterId: 1, cursor: { msgTime: 0 }, limit: 100, readerId: 7 }, NOW);
  await flush();
  expect(calls.map((c) => c.method)).toEqual(['messagesByCreateTime', 'memberCountAndMembership']);
  calls[0].resolve({ messages: [], nextKey: undefined });
  calls[1].resolve({ memberCount: 2, isMember: true });
  await expect(page).resolves.toEqual({ member_count: 2, list: [], has_more: false });
});

test.each([
  ['a stale "no" (just joined): the consistent read says yes, the page is served', true],
  ['a real "no": 403', false],
])('%s', async (_, consistentAnswer) => {
  const { store, calls } = pendingStore();
  const page = findGroupChat(store, { chapterId: 1, cursor: { lastId: 0 }, limit: 100, readerId: 7 }, NOW);
  await flush();
  calls[0].resolve({ messages: [], memberCount: 1, truncated: false });
  calls[1].resolve(false);
  await flush();
  expect(calls.slice(2).map((c) => [c.method, c.args])).toEqual([['isMember', [1, 7]]]);
  calls[2].resolve(consistentAnswer);
  if (consistentAnswer) await expect(page).resolves.toMatchObject({ member_count: 1 });
  else await expect(page).rejects.toEqual(new NotMemberError('read'));
});

test('without a reader (open demo) nobody is asked about membership', async () => {
  const { store, calls } = pendingStore();
  const page = findGroupChat(store, { chapterId: 1, cursor: { lastId: 0 }, limit: 100 }, NOW);
  await flush();
  expect(calls.map((c) => c.method)).toEqual(['messagesAfterId']);
  calls[0].resolve({ messages: [], memberCount: 0, truncated: false });
  await expect(page).resolves.toEqual({ member_count: 0, list: [], has_more: false });
});
