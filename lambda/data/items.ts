/**
 * The chat table's items, and the one mapping of each to and from the types the ports speak
 * (lambda/ports/chat-store.ts, lambda/ports/push.ts): message, member, presence (member_count), send reservation,
 * push subscription.
 */
import { MAX_CLIENT_MSG_ID_LENGTH, MAX_MESSAGE_LENGTH, MAX_USER_NAME_LENGTH, TABLE, type Message } from '../contract';
import type { LoggedMessage, Member } from '../ports/chat-store';
import type { Subscription } from '../ports/push';
import { PRESENCE_SK, memberSk, messageSk, subscriptionSk } from './keys';

export interface MessageItem extends LoggedMessage {
  chapter_id: number;
  sk: string;
}

/**
 * A send with a `client_msg_id` claims ids through this item: every attempt of that send (a retry
 * of the whole call included) tries the same candidate id, so at most one message is stored for it.
 */
export interface SendReservationItem {
  chapter_id: number;
  sk: string;
  /** The id this send is trying to store its message at (or stored it at). */
  msg_id: number;
  expires_at: number;
}

export interface MemberItem extends Member {
  chapter_id: number;
  sk: string;
}

export interface PresenceItem {
  chapter_id: number;
  sk: typeof PRESENCE_SK;
  /** The number of member items: changed in the same transaction as they are. */
  member_count: number;
  /** Bumped by every change of members: a recount (lambda/data/repair.ts) stores its count only if none happened meanwhile. */
  member_changes?: number;
  /** The newest message recorded by its send (MessageLog.recordNewest): a poll reads the log only past it. */
  newest_id?: number;
  newest_time?: number;
}

export function messageItem(chapterId: number, message: LoggedMessage): MessageItem {
  return { chapter_id: chapterId, sk: messageSk(message.id), ...message };
}

/** The API view of a stored message item: the six contract fields in the seed's order, nothing internal. */
export function messageFromItem(item: MessageItem | Record<string, unknown>): Message {
  return {
    id: item.id as number,
    user_id: item.user_id as number,
    user_type: item.user_type as number,
    user_name: item.user_name as string,
    msg_body: item.msg_body as string,
    create_time: item.create_time as number,
  };
}

/** The log's view of a stored message item: the API fields plus origin and second_seq. */
export function loggedMessageFromItem(item: MessageItem | Record<string, unknown>): LoggedMessage {
  return {
    ...messageFromItem(item),
    ...(item.origin !== undefined && { origin: item.origin as string }),
    ...(item.second_seq !== undefined && { second_seq: item.second_seq as number }),
  };
}

/** A push connection's subscription to a chapter (lambda/data/subscriptions.ts). */
export interface SubscriptionItem {
  chapter_id: number;
  sk: string;
  connection_id: string;
  user_id: number;
  /** When `$connect` wrote it (epoch ms): a connection is not postable while `$connect` runs, so a young one's 410 is not believed. */
  connected_at: number;
  /** Epoch s: TTL, for a connection whose `$disconnect` never ran. */
  expires_at: number;
}

export function subscriptionItem(chapterId: number, subscription: Subscription, expiresAt: number): SubscriptionItem {
  return {
    chapter_id: chapterId,
    sk: subscriptionSk(subscription.userId, subscription.connectionId),
    connection_id: subscription.connectionId,
    user_id: subscription.userId,
    connected_at: subscription.connectedAt,
    expires_at: expiresAt,
  };
}

export function subscriptionFromItem(item: Record<string, unknown>): Subscription {
  return {
    chapterId: item.chapter_id as number,
    userId: item.user_id as number,
    connectionId: item.connection_id as string,
    connectedAt: item.connected_at as number,
  };
}

export function memberItem(chapterId: number, member: Member): MemberItem {
  return { chapter_id: chapterId, sk: memberSk(member.user_id), ...member };
}

/** The presence item of a chapter with `memberCount` members. */
export function presenceItem(chapterId: number, memberCount: number): PresenceItem {
  return { chapter_id: chapterId, sk: PRESENCE_SK, member_count: memberCount };
}

/**
 * An item's size as DynamoDB counts it for capacity: per attribute its name's UTF-8 bytes plus its
 * value's — a string's UTF-8 bytes, a number's 1 byte per two significant digits plus 1.
 */
export function itemBytes(item: Record<string, unknown>): number {
  let bytes = 0;
  for (const [name, value] of Object.entries(item)) {
    if (value === undefined) continue;
    bytes += Buffer.byteLength(name);
    if (typeof value === 'string') bytes += Buffer.byteLength(value);
    else if (typeof value === 'number') bytes += Math.ceil(String(Math.abs(value)).replace(/^0+|\.|0+$/g, '').length / 2) + 1;
    else throw new Error(`itemBytes: unexpected ${typeof value} attribute ${name}`);
  }
  return bytes;
}

/** The largest message item a send can write: every limit at its maximum, every character 4 bytes in UTF-8. */
export const MAX_MESSAGE_ITEM_BYTES = itemBytes({
  ...messageItem(Number.MAX_SAFE_INTEGER, {
    id: Number.MAX_SAFE_INTEGER,
    user_id: Number.MAX_SAFE_INTEGER,
    user_type: Number.MAX_SAFE_INTEGER,
    user_name: '\u{1F600}'.repeat(MAX_USER_NAME_LENGTH),
    msg_body: '\u{1F600}'.repeat(MAX_MESSAGE_LENGTH),
    create_time: Number.MAX_SAFE_INTEGER,
    origin: `${Number.MAX_SAFE_INTEGER}#${'x'.repeat(MAX_CLIENT_MSG_ID_LENGTH)}`,
    second_seq: Number.MAX_SAFE_INTEGER,
  }),
});

/** An index entry of a local secondary index: the item (projection ALL), its index key again and 100 bytes of overhead. */
export const MAX_INDEX_ENTRY_BYTES = MAX_MESSAGE_ITEM_BYTES + Buffer.byteLength(TABLE.createTimeIndex.sortKey.name) + 21 + 100;
