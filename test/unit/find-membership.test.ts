/**
 * findGroupChat's first reads, on a store whose reads the test completes by hand: the chapter's head
 * and the reader's membership are read at once (a strongly consistent membership read: nobody who
 * has just joined is turned away), a non-member is refused before any message is read, and a member
 * who holds the newest message recorded reads nothing more.
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
  const store: PollReads = {
    chapterHead: pending('chapterHead') as PollReads['chapterHead'],
    isMember: pending('isMember') as PollReads['isMember'],
    messagesAfterId: pending('messagesAfterId') as PollReads['messagesAfterId'],
    messagesByCreateTime: pending('messagesByCreateTime') as PollReads['messagesByCreateTime'],
  };
  return { store, calls };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));
const NOW = 1_700_000_100_000;
const NOW_S = NOW / 1000;
const head = (newestId: number | undefined, newestTime: number | undefined) => ({ memberCount: 3, newestId, newestTime });

test.each([
  ['exact', { lastId: 5 }],
  ['legacy', { msgTime: NOW_S - 10 }],
] as const)('%s mode: head and membership at once; an idle member reads nothing more', async (_, cursor) => {
  const { store, calls } = pendingStore();
  const page = findGroupChat(store, { chapterId: 1, cursor, limit: 100, readerId: 7 }, NOW);
  await flush();
  expect(calls.map((c) => [c.method, c.args])).toEqual([
    ['chapterHead', [1]],
    ['isMember', [1, 7]],
  ]);
  calls[0].resolve(head(5, NOW_S - 10));
  calls[1].resolve(true);
  await expect(page).resolves.toEqual({ member_count: 3, list: [], has_more: false });
  expect(calls).toHaveLength(2);
});

test.each([
  ['exact', { lastId: 0 }],
  ['legacy', { msgTime: 0 }],
] as const)('%s mode: a non-member is refused before any message is read', async (_, cursor) => {
  const { store, calls } = pendingStore();
  const page = findGroupChat(store, { chapterId: 1, cursor, limit: 100, readerId: 7 }, NOW);
  await flush();
  calls[0].resolve(head(500, NOW_S - 5));
  calls[1].resolve(false);
  await expect(page).rejects.toEqual(new NotMemberError('read'));
  expect(calls.map((c) => c.method)).toEqual(['chapterHead', 'isMember']);
});

test.each([
  ['a newer message is recorded', head(6, NOW_S - 3)],
  ['nothing is recorded (a chapter from before the record): the log is read', head(undefined, undefined)],
])('exact mode, %s: a member reads the log after the id held', async (_, chapterHead) => {
  const { store, calls } = pendingStore();
  const query: FindGroupChatQuery = { chapterId: 1, cursor: { lastId: 5 }, limit: 100, readerId: 7 };
  const page = findGroupChat(store, query, NOW);
  await flush();
  calls[0].resolve(chapterHead);
  calls[1].resolve(true);
  await flush();
  expect(calls[2].method).toBe('messagesAfterId');
  expect(calls[2].args.slice(0, 3)).toEqual([1, 5, 101]);
  const message = { id: 6, user_id: 7, user_type: 1, user_name: 'a', msg_body: 'hi', create_time: NOW_S - 3 };
  calls[2].resolve({ messages: [message], nextKey: undefined, exhausted: false });
  await expect(page).resolves.toEqual({ member_count: 3, list: [message], has_more: false });
});

test('without a reader (open demo) nobody is asked about membership', async () => {
  const { store, calls } = pendingStore();
  const page = findGroupChat(store, { chapterId: 1, cursor: { lastId: 2 }, limit: 100 }, NOW);
  await flush();
  expect(calls.map((c) => c.method)).toEqual(['chapterHead']);
  calls[0].resolve(head(2, NOW_S - 60));
  await expect(page).resolves.toEqual({ member_count: 3, list: [], has_more: false });
});
