/**
 * How items are keyed in the chat table: the one place that builds a key string.
 *
 * Items of one chapter (partition `chapter_id`) sort as `member#…` < `msg#…` < `presence` < `send#…`,
 * so one Query `sk BETWEEN msg#<first wanted id> AND presence` returns new messages and the presence
 * item (which holds member_count), and send reservations never fall inside it.
 */
import { TABLE } from '../contract';

const MESSAGE_PREFIX = 'msg#';
const MEMBER_PREFIX = 'member#';
const SEND_PREFIX = 'send#';
/** Width of the zero-padded message id: Number.MAX_SAFE_INTEGER has 16 digits. */
const MESSAGE_ID_DIGITS = 16;

export const PRESENCE_SK = 'presence';
export const MEMBER_SK_PREFIX = MEMBER_PREFIX;
export const MESSAGE_SK_PREFIX = MESSAGE_PREFIX;
export const messageSk = (id: number): string => MESSAGE_PREFIX + String(id).padStart(MESSAGE_ID_DIGITS, '0');
export const memberSk = (userId: number): string => MEMBER_PREFIX + String(userId);
export const sendReservationSk = (userId: number, clientMsgId: string): string => `${SEND_PREFIX}${userId}#${clientMsgId}`;
export const isMessageSk = (sk: string): boolean => sk.startsWith(MESSAGE_PREFIX);

export type Key = Record<string, number | string>;

/** The primary key of a chapter's item. */
export const itemKey = (chapterId: number, sk: string): Key => ({ [TABLE.partitionKey.name]: chapterId, [TABLE.sortKey.name]: sk });
