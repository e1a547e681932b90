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
 * With a `readerId` (authorization on), only members of the chapter may read it: the membership
 * read runs beside the messages read, never after it, so a poll still takes one round trip.
 */
import type { GroupChatPage, Message } from '../contract';
import type { PollReads } from '../ports/chat-store';
import { NotMemberError } from './errors';

/** Longer than the worst delay between a writer stamping create_time and its put becoming visible. */
export const HOLD_BACK_MARGIN_MS = 1000;

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
  const [page, isMember] =
    'lastId' in cursor
      ? await Promise.all([
          pageAfterId(store, chapterId, cursor.lastId, limit),
          readerId === undefined || store.isMember(chapterId, readerId, { consistent: false }),
        ])
      : await pageAfterTime(store, chapterId, cursor.msgTime, limit, nowMs, readerId);
  // The membership read is eventually consistent (half the cost); a "no" is confirmed with a strongly
  // consistent read, so someone who has just joined is not turned away. Denials are rare: this costs nothing.
  if (readerId !== undefined && !isMember && !(await store.isMember(chapterId, readerId))) {
    throw new NotMemberError('read');
  }
  return page;
}

/** The newest create_time a legacy poll may serve at `nowMs`: its second has passed, plus the margin. */
export function newestServableSecond(nowMs: number, marginMs = HOLD_BACK_MARGIN_MS): number {
  return Math.floor((nowMs - marginMs) / 1000) - 1;
}

async function pageAfterId(store: PollReads, chapterId: number, lastId: number, limit: number): Promise<GroupChatPage> {
  // One extra item: the presence item when the page is not full, or the message that proves more wait.
  const read = await store.messagesAfterId(chapterId, lastId, limit + 1);
  const hasMore = read.messages.length > limit || (read.memberCount === undefined && read.truncated);
  const memberCount = read.memberCount ?? (read.truncated ? await store.memberCount(chapterId) : 0);
  return { member_count: memberCount, list: read.messages.slice(0, limit), has_more: hasMore };
}

async function pageAfterTime(
  store: PollReads,
  chapterId: number,
  msgTime: number,
  limit: number,
  nowMs: number,
  readerId: number | undefined,
): Promise<[GroupChatPage, boolean]> {
  const newest = newestServableSecond(nowMs);
  const [page, presence] = await Promise.all([
    newest > msgTime ? wholeSecondsPage(store, chapterId, msgTime + 1, newest, limit) : { list: [], hasMore: false },
    // member_count and the membership in one request: a legacy poll stays at two requests.
    readerId === undefined
      ? store.memberCount(chapterId).then((memberCount) => ({ memberCount, isMember: true }))
      : store.memberCountAndMembership(chapterId, readerId),
  ]);
  return [{ member_count: presence.memberCount, list: page.list, has_more: page.hasMore }, presence.isMember];
}

/**
 * At least `limit` messages from [fromTime, toTime] (fewer only when the range holds fewer), cut
 * after the last whole second: every message of a second the page touches is in the page.
 */
async function wholeSecondsPage(
  store: PollReads,
  chapterId: number,
  fromTime: number,
  toTime: number,
  limit: number,
): Promise<{ list: Message[]; hasMore: boolean }> {
  const read: Message[] = [];
  let startKey;
  do {
    const chunk = await store.messagesByCreateTime(chapterId, fromTime, toTime, limit + 1, startKey);
    read.push(...chunk.messages);
    startKey = chunk.nextKey;
    if (read.length > limit) {
      const lastSecond = read[limit - 1].create_time;
      const end = read.findIndex((m, i) => i >= limit && m.create_time > lastSecond);
      if (end !== -1) return { list: inIdOrder(read.slice(0, end)), hasMore: true };
    }
  } while (startKey);
  return { list: inIdOrder(read), hasMore: false };
}

/** The index orders by create_time only; within a second, the id gives the order messages were sent. */
function inIdOrder(messages: Message[]): Message[] {
  return messages.sort((a, b) => a.create_time - b.create_time || a.id - b.id);
}
