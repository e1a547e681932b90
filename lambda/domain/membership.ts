/**
 * Joining and leaving a chapter's chat, and `member_count`.
 *
 * Members are the truth; both calls are idempotent writes of one. After each change the writer
 * bumps the chapter's membership version (atomic ADD → v), counts the members (strongly
 * consistent), and stores the count with version v only if no newer count is stored. The count
 * taken after the last change has the highest version, so it wins; a crash between the steps leaves
 * an older count that the next join or leave (or a retry of the same call) replaces. Polls read one
 * small item.
 */
import type { Identity, MemberCount } from '../contract';
import type { Membership } from '../ports/chat-store';

export async function joinGroupChat(store: Membership, chapterId: number, member: Identity, nowMs = Date.now()): Promise<MemberCount> {
  await store.putMemberIfAbsent(chapterId, { ...member, joined_at: Math.floor(nowMs / 1000) });
  return recountMembers(store, chapterId);
}

export async function leaveGroupChat(store: Membership, chapterId: number, userId: number): Promise<MemberCount> {
  await store.deleteMember(chapterId, userId);
  return recountMembers(store, chapterId);
}

export async function recountMembers(store: Membership, chapterId: number): Promise<MemberCount> {
  const version = await store.bumpMembershipVersion(chapterId);
  const count = await store.countMembers(chapterId);
  await store.storeMemberCount(chapterId, count, version);
  return { member_count: count };
}
