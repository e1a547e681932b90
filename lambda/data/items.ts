/**
 * The chat table's items, and the one mapping of each to and from the types the ports speak
 * (lambda/ports/chat-store.ts): message, member, presence (member_count), send reservation.
 */
import type { Message } from '../contract';
import type { LoggedMessage, Member } from '../ports/chat-store';
import { PRESENCE_SK, memberSk, messageSk } from './keys';

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

export function memberItem(chapterId: number, member: Member): MemberItem {
  return { chapter_id: chapterId, sk: memberSk(member.user_id), ...member };
}

/** The presence item of a chapter with `memberCount` members. */
export function presenceItem(chapterId: number, memberCount: number): PresenceItem {
  return { chapter_id: chapterId, sk: PRESENCE_SK, member_count: memberCount };
}
