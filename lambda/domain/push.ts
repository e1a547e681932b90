/**
 * Push: who may subscribe, and what reaches the subscribed connections when the table changes.
 * - Only members subscribe, checked at connect by the authorizer and again by the write of the
 *   subscriptions itself (a member who left in between is refused).
 * - New messages go to every subscription of their chapter, in id order per connection.
 * - A member who leaves or is removed loses their subscriptions first, then hears `unsubscribed`:
 *   the stream gives a chapter's changes in order, so no later message of it reaches them.
 * - A connection API Gateway calls gone loses its subscriptions.
 */
import { SUBSCRIPTION_TTL_SECONDS, type Message } from '../contract';
import type { ChatChange, ConnectionGateway, Subscription, SubscriptionStore } from '../ports/push';
import { NotMemberError } from './errors';

/**
 * API Gateway accepts posts to a connection only once its `$connect` has returned: a 410 for a
 * subscription younger than this is the connect still under way, not a gone connection. (The
 * client's poll after connecting covers what it missed meanwhile.)
 */
export const GONE_GRACE_MS = 30_000;
/** Posts in flight at once per chapter. */
const MAX_PARALLEL_POSTS = 64;

export async function authorizeSubscription(store: SubscriptionStore, userId: number, chapterIds: readonly number[]): Promise<void> {
  if (!(await store.isMemberOfAll(userId, chapterIds))) throw new NotMemberError('subscribe');
}

export async function subscribeConnection(
  store: SubscriptionStore,
  connection: { connectionId: string; userId: number; chapterIds: readonly number[] },
  now = Date.now(),
): Promise<void> {
  const expiresAt = Math.floor(now / 1000) + SUBSCRIPTION_TTL_SECONDS;
  if (!(await store.subscribe(connection.connectionId, connection.userId, connection.chapterIds, now, expiresAt))) throw new NotMemberError('subscribe');
}

export function unsubscribeConnection(store: SubscriptionStore, connection: { connectionId: string; userId: number; chapterIds: readonly number[] }): Promise<void> {
  return store.unsubscribe(connection.connectionId, connection.userId, connection.chapterIds);
}

/** What a fan-out could not do: the changes to hand back (they are retried, with every later change of their chapter), and why. */
export interface FanOutResult {
  failedRefs: string[];
  errors: unknown[];
}

/**
 * Delivers a batch of changes. Chapters go in parallel; within a chapter the changes go in stream
 * order (a run of messages sorted by id). A chapter stops at its first failure: that change and
 * every later one of its chapter are returned as failed, so a retry resends them in order
 * (clients drop what they hold already).
 */
export async function fanOut(store: SubscriptionStore, gateway: ConnectionGateway, changes: readonly ChatChange[], now = () => Date.now()): Promise<FanOutResult> {
  const byChapter = new Map<number, ChatChange[]>();
  for (const change of changes) byChapter.set(change.chapterId, [...(byChapter.get(change.chapterId) ?? []), change]);
  const result: FanOutResult = { failedRefs: [], errors: [] };
  await Promise.all(
    [...byChapter].map(async ([chapterId, list]) => {
      let next = 0;
      try {
        while (next < list.length) {
          const change = list[next];
          if (change.kind === 'memberRemoved') {
            await cutOff(store, gateway, chapterId, change.userId);
            next += 1;
            continue;
          }
          let end = next;
          while (end < list.length && list[end].kind === 'message') end += 1;
          const messages = list
            .slice(next, end)
            .map((c) => (c as Extract<ChatChange, { kind: 'message' }>).message)
            .sort((a, b) => a.id - b.id);
          await deliver(store, gateway, chapterId, messages, now);
          next = end;
        }
      } catch (error) {
        result.failedRefs.push(...list.slice(next).map((c) => c.ref));
        result.errors.push(error);
      }
    }),
  );
  return result;
}

/** Each subscription of the chapter gets the messages in id order; a gone connection's subscription is deleted. */
async function deliver(store: SubscriptionStore, gateway: ConnectionGateway, chapterId: number, messages: Message[], now: () => number): Promise<void> {
  const subscriptions = await store.subscriptions(chapterId);
  await inParallel(subscriptions, async (subscription) => {
    for (const message of messages) {
      if (!(await gateway.post(subscription.connectionId, { type: 'message', chapter_id: chapterId, message }))) {
        if (now() - subscription.connectedAt > GONE_GRACE_MS) await store.removeSubscription(subscription);
        return;
      }
    }
  });
}

/** The member's subscriptions of the chapter are deleted, then each connection hears `unsubscribed`. */
async function cutOff(store: SubscriptionStore, gateway: ConnectionGateway, chapterId: number, userId: number): Promise<void> {
  const subscriptions = await store.subscriptions(chapterId, userId);
  await inParallel(subscriptions, async (subscription: Subscription) => {
    await store.removeSubscription(subscription);
    await gateway.post(subscription.connectionId, { type: 'unsubscribed', chapter_id: chapterId });
  });
}

/** Runs `task` on every item, at most MAX_PARALLEL_POSTS at once; rejects with the first failure once all have settled. */
async function inParallel<T>(items: readonly T[], task: (item: T) => Promise<void>): Promise<void> {
  let index = 0;
  const failures: unknown[] = [];
  const worker = async () => {
    while (index < items.length) {
      const item = items[index++];
      await task(item).catch((error: unknown) => failures.push(error));
    }
  };
  await Promise.all(Array.from({ length: Math.min(MAX_PARALLEL_POSTS, items.length) }, worker));
  if (failures.length > 0) throw failures[0];
}
