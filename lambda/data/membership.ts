/**
 * Member items and the presence item that holds member_count. A change of members is one
 * TransactWriteItems: the member puts (if absent) or deletes (if present) and `ADD member_count ±n`
 * on the presence item, so the count equals the member items after any interleaving, never goes
 * below zero, and a join or leave costs the same at any chapter size (no COUNT on any request path).
 *
 * The conditions make every retry safe: a put whose answer was lost fails its condition when sent
 * again (the SDK's retries also carry the same ClientRequestToken, which DynamoDB answers as the
 * first success within 10 minutes). A transaction is all or nothing, so the items whose condition
 * failed (already members, or not members) are dropped by their cancellation reasons and the rest
 * is sent again; a conflict with a concurrent transaction on the presence item is retried after a pause.
 */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import type { TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { TABLE } from '../contract';
import type { Membership } from '../ports/chat-store';
import { StorageUnavailableError } from '../ports/errors';
import { memberItem } from './items';
import { PRESENCE_SK, itemKey, memberSk } from './keys';
import type { TableAccess } from './table-access';

const { sortKey } = TABLE;
/** TransactWriteItems takes at most 100 items: 99 members and the presence item. */
export const MAX_MEMBERS_PER_TRANSACTION = 99;
/** Sends of one transaction that conflict with concurrent ones before the change answers 503 (retry-safe). */
const MAX_CONFLICTS = 8;

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

export function membership(table: TableAccess): Membership {
  /** The presence item's update that counts `delta` members in or out. */
  const countUpdate = (chapterId: number, delta: number): TransactItem => ({
    Update: {
      TableName: table.name,
      Key: itemKey(chapterId, PRESENCE_SK),
      UpdateExpression: 'ADD member_count :delta, member_changes :one',
      ExpressionAttributeValues: { ':delta': delta, ':one': 1 },
    },
  });

  /**
   * Applies `change` (one member write each, conditional) with the count update, in chunks: the
   * writes whose condition fails are dropped and the rest sent again. Returns how many were applied.
   */
  async function changeMembers<T>(chapterId: number, subjects: readonly T[], write: (subject: T) => TransactItem, sign: 1 | -1): Promise<number> {
    let applied = 0;
    for (let i = 0; i < subjects.length; i += MAX_MEMBERS_PER_TRANSACTION) {
      let pending = [...new Set(subjects.slice(i, i + MAX_MEMBERS_PER_TRANSACTION))];
      for (let conflicts = 0; pending.length > 0; ) {
        const items = [...pending.map(write), countUpdate(chapterId, sign * pending.length)];
        try {
          await table.transactWrite(items);
          applied += pending.length;
          break;
        } catch (error) {
          if (!(error instanceof TransactionCanceledException)) throw error;
          const reasons = error.CancellationReasons ?? [];
          const failed = new Set(pending.filter((_, k) => reasons[k]?.Code === 'ConditionalCheckFailed'));
          if (failed.size > 0) pending = pending.filter((subject) => !failed.has(subject));
          else if (++conflicts >= MAX_CONFLICTS) throw new StorageUnavailableError(error);
          else await pause(conflicts);
        }
      }
    }
    return applied;
  }

  const isMember: Membership['isMember'] = async (chapterId, userId) => {
    const out = await table.get({
      Key: itemKey(chapterId, memberSk(userId)),
      ConsistentRead: true,
      ProjectionExpression: '#sk',
      ExpressionAttributeNames: { '#sk': sortKey.name },
    });
    return out.Item !== undefined;
  };

  return {
    isMember,

    addMembers(chapterId, members) {
      const byId = new Map(members.map((m) => [m.user_id, m]));
      const put = (userId: number): TransactItem => ({
        Put: {
          TableName: table.name,
          Item: { ...memberItem(chapterId, byId.get(userId)!) },
          ConditionExpression: 'attribute_not_exists(#sk)',
          ExpressionAttributeNames: { '#sk': sortKey.name },
        },
      });
      return changeMembers(chapterId, [...byId.keys()], put, 1);
    },

    removeMembers(chapterId, userIds) {
      const remove = (userId: number): TransactItem => ({
        Delete: {
          TableName: table.name,
          Key: itemKey(chapterId, memberSk(userId)),
          ConditionExpression: 'attribute_exists(#sk)',
          ExpressionAttributeNames: { '#sk': sortKey.name },
        },
      });
      return changeMembers(chapterId, userIds, remove, -1);
    },

    async currentMemberCount(chapterId) {
      const out = await table.get({ Key: itemKey(chapterId, PRESENCE_SK), ConsistentRead: true, ProjectionExpression: 'member_count' });
      return (out.Item?.member_count as number | undefined) ?? 0;
    },
  };
}

/** Full jitter, growing from 20 ms to 320 ms: spreads transactions that keep conflicting on one presence item. */
function pause(attempt: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * 2 ** Math.min(attempt - 1, 4)));
}
