/**
 * Joining and leaving a chapter's chat, and `member_count`. Each is one transactional change of
 * members and count (lambda/data/membership.ts): idempotent — a join of a member or a leave of a
 * non-member changes nothing — and answered with the count as it stands after it.
 */
import type { Identity, MemberCount } from '../contract';
import type { Membership } from '../ports/chat-store';

export async function joinGroupChat(store: Membership, chapterId: number, member: Identity, nowMs = Date.now()): Promise<MemberCount> {
  await store.addMembers(chapterId, [{ ...member, joined_at: Math.floor(nowMs / 1000) }]);
  return { member_count: await store.currentMemberCount(chapterId) };
}

export async function leaveGroupChat(store: Membership, chapterId: number, userId: number): Promise<MemberCount> {
  await store.removeMembers(chapterId, [userId]);
  return { member_count: await store.currentMemberCount(chapterId) };
}
