/**
 * Who is a member of a chapter's chat, and `member_count`. Each change is transactional with the
 * count (lambda/data/membership.ts): idempotent — adding a member or removing a non-member changes
 * nothing — and answered with the count as it stands after it.
 *
 * Two ways in, chosen by the stack's `membership` setting (ENV.membership):
 * - a user joins or leaves for themselves (`joinGroupChat`, `leaveGroupChat`) only in `self` mode;
 * - the course platform's backend adds and removes members by id (`addMembers`, `removeMembers`,
 *   the IAM-authorized admin routes) in either mode.
 */
import type { Identity, MemberCount, MembershipMode } from '../contract';
import type { Membership } from '../ports/chat-store';
import { MembershipManagedError } from './errors';

/** A user may join or leave on their own only when the stack lets users decide (`self`). */
export function requireSelfServiceMembership(mode: MembershipMode): void {
  if (mode !== 'self') throw new MembershipManagedError();
}

export async function joinGroupChat(store: Membership, chapterId: number, member: Identity, nowMs = Date.now()): Promise<MemberCount> {
  await store.addMembers(chapterId, [{ ...member, joined_at: Math.floor(nowMs / 1000) }]);
  return { member_count: await store.currentMemberCount(chapterId) };
}

export async function leaveGroupChat(store: Membership, chapterId: number, userId: number): Promise<MemberCount> {
  await store.removeMembers(chapterId, [userId]);
  return { member_count: await store.currentMemberCount(chapterId) };
}

/** The course platform enrols users: members by id (their name and type are not known here). */
export async function addMembers(store: Membership, chapterId: number, userIds: readonly number[], nowMs = Date.now()): Promise<MemberCount> {
  const joinedAt = Math.floor(nowMs / 1000);
  await store.addMembers(chapterId, userIds.map((user_id) => ({ user_id, joined_at: joinedAt })));
  return { member_count: await store.currentMemberCount(chapterId) };
}

/** The course platform unenrols users. */
export async function removeMembers(store: Membership, chapterId: number, userIds: readonly number[]): Promise<MemberCount> {
  await store.removeMembers(chapterId, userIds);
  return { member_count: await store.currentMemberCount(chapterId) };
}
