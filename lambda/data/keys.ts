/**
 * How items are keyed in the chat table: the one place that builds a key string.
 *
 * Items of one chapter (partition `chapter_id`) sort as `member#…` < `msg#…` < `presence` < `send#…` < `sub#…`:
 * a Query `sk BETWEEN msg#<first wanted id> AND LAST_MESSAGE_SK` returns messages only.
 */
import { STREAM_KEY_PREFIX, TABLE } from '../contract';

// Messages and members are matched by the push stream's filters (lambda/contract/push.ts): their prefixes live there.
const MESSAGE_PREFIX = STREAM_KEY_PREFIX.message;
const MEMBER_PREFIX = STREAM_KEY_PREFIX.member;
const SEND_PREFIX = 'send#';
/** Push subscriptions: after `send#`, so no message or presence Query ever reads one. */
const SUBSCRIPTION_PREFIX = 'sub#';
/** Width of the zero-padded message id: Number.MAX_SAFE_INTEGER has 16 digits. */
const MESSAGE_ID_DIGITS = 16;

export const PRESENCE_SK = 'presence';
export const MEMBER_SK_PREFIX = MEMBER_PREFIX;
export const MESSAGE_SK_PREFIX = MESSAGE_PREFIX;
export const messageSk = (id: number): string => MESSAGE_PREFIX + String(id).padStart(MESSAGE_ID_DIGITS, '0');
/** The sort key of the largest possible message id: `msg#<id> … LAST_MESSAGE_SK` holds messages only. */
export const LAST_MESSAGE_SK = messageSk(Number.MAX_SAFE_INTEGER);
export const memberSk = (userId: number): string => MEMBER_PREFIX + String(userId);
export const sendReservationSk = (userId: number, clientMsgId: string): string => `${SEND_PREFIX}${userId}#${clientMsgId}`;
export const isMessageSk = (sk: string): boolean => sk.startsWith(MESSAGE_PREFIX);
/** A connection's subscription to a chapter; `subscriptionSkPrefix(userId)` starts all of a user's. */
export const subscriptionSkPrefix = (userId?: number): string => (userId === undefined ? SUBSCRIPTION_PREFIX : `${SUBSCRIPTION_PREFIX}${userId}#`);
export const subscriptionSk = (userId: number, connectionId: string): string => subscriptionSkPrefix(userId) + connectionId;
/** The member's user id of a `member#…` sort key, else undefined. */
export const memberIdOfSk = (sk: string): number | undefined => (sk.startsWith(MEMBER_PREFIX) ? Number(sk.slice(MEMBER_PREFIX.length)) : undefined);

export type Key = Record<string, number | string>;

/** The primary key of a chapter's item. */
export const itemKey = (chapterId: number, sk: string): Key => ({ [TABLE.partitionKey.name]: chapterId, [TABLE.sortKey.name]: sk });
