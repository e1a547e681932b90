/**
 * Joining and leaving a chapter's chat, and `member_count`.
 *
 * Member items are the truth; both calls are idempotent writes of one. After each change the writer
 * bumps presence.version (atomic ADD → v), counts the member items (strongly consistent), and stores
 * the count with count_version = v only if no newer count is stored. The count taken after the last
 * change has the highest version, so it wins; a crash between the steps leaves an older count that
 * the next join or leave (or a retry of the same call) replaces. Polls read one small item.
 */
import type { ChatStore } from '../data/chat-store';
import { memberItem } from '../data/table';
import type { Identity } from './identity';

export type PresenceWriter = Pick<
  ChatStore,
  'putMemberIfAbsent' | 'deleteMember' | 'bumpPresenceVersion' | 'countMembers' | 'storeMemberCount'
>;

export interface MemberCount {
  member_count: number;
}

export async function joinGroupChat(store: PresenceWriter, chapterId: number, member: Identity, nowMs = Date.now()): Promise<MemberCount> {
  await store.putMemberIfAbsent(memberItem(chapterId, { ...member, joined_at: Math.floor(nowMs / 1000) }));
  return recountMembers(store, chapterId);
}

export async function leaveGroupChat(store: PresenceWriter, chapterId: number, userId: number): Promise<MemberCount> {
  await store.deleteMember(chapterId, userId);
  return recountMembers(store, chapterId);
}

export async function recountMembers(store: PresenceWriter, chapterId: number): Promise<MemberCount> {
  const version = await store.bumpPresenceVersion(chapterId);
  const count = await store.countMembers(chapterId);
  await store.storeMemberCount(chapterId, count, version);
  return { member_count: count };
}
