/**
 * The polling query: which messages a poll returns, and whether more are waiting.
 *
 * Exact mode (`last_id`): messages with id > last_id. Ids are dense and claimed in order, so this
 * is gap-free and duplicate-free by construction.
 *
 * Legacy mode (`msg_time`, the original contract): messages with create_time > msg_time. Two rules
 * keep it loss-free for a client that always sends the create_time of the last message it holds:
 *  1. a page never ends inside a second: it grows past `limit` to finish the second it is in;
 *  2. a message is held back until its second has passed plus HOLD_BACK_MARGIN_MS, so a message
 *     stamped with an already-served second cannot appear later (writers stamp right before the put).
 *
 * Cost: every poll first reads the chapter's head (member_count and the newest message recorded) and,
 * with a `readerId` (authorization on), the reader's membership, both at once. Only a member who is
 * behind reads messages, and no poll reads more than POLL_READ_UNITS: a page is cut in bytes as well
 * as in count (`has_more`), a legacy page at the end of its last whole second.
 */
import type { GroupChatPage, Message } from '../contract';
import type { ChapterHead, PageKey, PollReads, ReadBudget } from '../ports/chat-store';
import { NotMemberError } from './errors';

/** Longer than the worst delay between a writer stamping create_time and its put becoming visible. */
export const HOLD_BACK_MARGIN_MS = 1000;
/**
 * The most DynamoDB read units one poll reads (a unit: 4 KB read strongly consistent): 256 KB of
 * messages, far below Lambda's 6 MB answer and 64 polls of this size a second below a chapter's partition.
 */
export const POLL_READ_UNITS = 64;
/** What the first reads cost at most: the head (eventually consistent, ≤ 4 KB) and the membership (strongly consistent, ≤ 4 KB). */
export const HEAD_READ_UNITS = 1.5;

export type PollCursor = { lastId: number } | { msgTime: number };

export interface FindGroupChatQuery {
  chapterId: number;
  cursor: PollCursor;
  limit: number;
  /** The caller, who must be a member of the chapter; absent in an open demo (no authorization). */
  readerId?: number;
}

export async function findGroupChat(store: PollReads, query: FindGroupChatQuery, nowMs = Date.now()): Promise<GroupChatPage> {
  const { chapterId, cursor, limit, readerId } = query;
  const [head, isMember] = await Promise.all([
    store.chapterHead(chapterId),
    readerId === undefined || store.isMember(chapterId, readerId),
  ]);
  if (!isMember) throw new NotMemberError('read');
  const budget: ReadBudget = { remaining: POLL_READ_UNITS - HEAD_READ_UNITS };
  const page =
    'lastId' in cursor
      ? await pageAfterId(store, chapterId, cursor.lastId, limit, head, budget)
      : await pageAfterTime(store, chapterId, cursor.msgTime, limit, newestServableSecond(nowMs), head, budget);
  return { member_count: head.memberCount, ...page };
}

/** The newest create_time a legacy poll may serve at `nowMs`: its second has passed, plus the margin. */
export function newestServableSecond(nowMs: number, marginMs = HOLD_BACK_MARGIN_MS): number {
  return Math.floor((nowMs - marginMs) / 1000) - 1;
}

type Page = Omit<GroupChatPage, 'member_count'>;
const NOTHING_NEW: Page = { list: [], has_more: false };

async function pageAfterId(store: PollReads, chapterId: number, lastId: number, limit: number, head: ChapterHead, budget: ReadBudget): Promise<Page> {
  // A send answers only once its message is recorded: nothing newer than the record is missed for long.
  if (head.newestId !== undefined && head.newestId <= lastId) return NOTHING_NEW;
  const list: Message[] = [];
  let startKey: PageKey | undefined;
  for (;;) {
    const chunk = await store.messagesAfterId(chapterId, lastId, limit + 1 - list.length, budget, startKey);
    list.push(...chunk.messages);
    startKey = chunk.nextKey;
    if (list.length > limit) return { list: list.slice(0, limit), has_more: true };
    if (!startKey) return { list, has_more: false };
    if (chunk.exhausted) return { list, has_more: true };
  }
}

async function pageAfterTime(
  store: PollReads,
  chapterId: number,
  msgTime: number,
  limit: number,
  newest: number,
  head: ChapterHead,
  budget: ReadBudget,
): Promise<Page> {
  if (newest <= msgTime || (head.newestTime !== undefined && head.newestTime <= msgTime)) return NOTHING_NEW;
  return wholeSecondsPage(store, chapterId, msgTime + 1, newest, limit, budget);
}

/**
 * At least `limit` messages from [fromTime, toTime] (fewer when the range holds fewer or the budget
 * ends first), cut after the last whole second: every message of a second the page touches is in it.
 * Sends put at most MAX_MESSAGES_PER_SECOND messages in a second, so a whole second always fits the
 * budget; a larger second (imported history) is read whole past the budget rather than cut.
 */
async function wholeSecondsPage(store: PollReads, chapterId: number, fromTime: number, toTime: number, limit: number, budget: ReadBudget): Promise<Page> {
  const read: Message[] = [];
  let startKey: PageKey | undefined;
  for (;;) {
    const chunk = await store.messagesByCreateTime(chapterId, fromTime, toTime, limit + 1, budget, startKey);
    read.push(...chunk.messages);
    startKey = chunk.nextKey;
    if (!startKey) return { list: inIdOrder(read), has_more: false };
    if (read.length > limit) {
      const lastSecond = read[limit - 1].create_time;
      const end = read.findIndex((m, i) => i >= limit && m.create_time > lastSecond);
      if (end !== -1) return { list: inIdOrder(read.slice(0, end)), has_more: true };
    }
    if (chunk.exhausted) {
      // The last second read may go on: the page ends where it starts.
      const lastSecond = read[read.length - 1].create_time;
      const end = read.findIndex((m) => m.create_time === lastSecond);
      if (end > 0) return { list: inIdOrder(read.slice(0, end)), has_more: true };
      budget.remaining = Infinity;
    }
  }
}

/** The index orders by create_time only; within a second, the id gives the order messages were sent. */
function inIdOrder(messages: Message[]): Message[] {
  return messages.sort((a, b) => a.create_time - b.create_time || a.id - b.id);
}
