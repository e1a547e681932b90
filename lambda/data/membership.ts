/** Member items and the presence item that holds member_count (lambda/domain/membership.ts says how the count is kept). */
import { TABLE } from '../contract';
import type { Membership, PageKey } from '../ports/chat-store';
import { memberItem } from './items';
import { MEMBER_SK_PREFIX, PRESENCE_SK, itemKey, memberSk } from './keys';
import { conditionally, type TableAccess } from './table-access';

const { partitionKey, sortKey } = TABLE;

export function membership(table: TableAccess): Membership {
  return {
    async isMember(chapterId, userId, { consistent = true } = {}) {
      const out = await table.get({
        Key: itemKey(chapterId, memberSk(userId)),
        ConsistentRead: consistent,
        ProjectionExpression: '#sk',
        ExpressionAttributeNames: { '#sk': sortKey.name },
      });
      return out.Item !== undefined;
    },

    async putMemberIfAbsent(chapterId, member) {
      await table.putIfAbsent({ ...memberItem(chapterId, member) });
    },

    async deleteMember(chapterId, userId) {
      await table.delete({ Key: itemKey(chapterId, memberSk(userId)) });
    },

    async bumpMembershipVersion(chapterId) {
      const out = await table.update({
        Key: itemKey(chapterId, PRESENCE_SK),
        UpdateExpression: 'ADD version :one',
        ExpressionAttributeValues: { ':one': 1 },
        ReturnValues: 'UPDATED_NEW',
      });
      return out.Attributes!.version as number;
    },

    /** A strongly consistent COUNT Query, page by page. */
    async countMembers(chapterId) {
      let count = 0;
      let startKey: PageKey | undefined;
      do {
        const out = await table.query({
          KeyConditionExpression: '#pk = :chapter AND begins_with(#sk, :member)',
          ExpressionAttributeNames: { '#pk': partitionKey.name, '#sk': sortKey.name },
          ExpressionAttributeValues: { ':chapter': chapterId, ':member': MEMBER_SK_PREFIX },
          ConsistentRead: true,
          Select: 'COUNT',
          ExclusiveStartKey: startKey,
        });
        count += out.Count ?? 0;
        startKey = out.LastEvaluatedKey;
      } while (startKey);
      return count;
    },

    storeMemberCount(chapterId, memberCount, version) {
      return conditionally(
        table.update({
          Key: itemKey(chapterId, PRESENCE_SK),
          UpdateExpression: 'SET member_count = :count, count_version = :v',
          ConditionExpression: 'attribute_not_exists(count_version) OR count_version < :v',
          ExpressionAttributeValues: { ':count': memberCount, ':v': version },
        }),
      );
    },
  };
}
