/**
 * The polling queries: what find_group_chat reads. Exact mode is one Query on the table, legacy
 * mode a Query on the `by_create_time` index beside one small read of member_count (and membership).
 */
import { TABLE } from '../contract';
import type { PollReads } from '../ports/chat-store';
import { messageFromItem } from './items';
import { PRESENCE_SK, isMessageSk, itemKey, memberSk, messageSk } from './keys';
import type { TableAccess } from './table-access';

const { partitionKey, sortKey, createTimeIndex } = TABLE;

export function pollReads(table: TableAccess, isMember: PollReads['isMember']): Omit<PollReads, 'isMember'> {
  const memberCount = async (chapterId: number): Promise<number> => {
    // Eventually consistent: the count is advisory (the seed says it may differ between requests) and this halves its cost.
    const out = await table.get({ Key: itemKey(chapterId, PRESENCE_SK), ProjectionExpression: 'member_count' });
    return (out.Item?.member_count as number | undefined) ?? 0;
  };

  return {
    memberCount,

    /** One strongly consistent Query over `msg#<afterId+1> … presence`: the messages and, when the page is not full, the presence item. */
    async messagesAfterId(chapterId, afterId, maxItems) {
      const out = await table.query({
        KeyConditionExpression: '#pk = :chapter AND #sk BETWEEN :from AND :presence',
        ExpressionAttributeNames: { '#pk': partitionKey.name, '#sk': sortKey.name },
        ExpressionAttributeValues: { ':chapter': chapterId, ':from': messageSk(afterId + 1), ':presence': PRESENCE_SK },
        ConsistentRead: true,
        Limit: maxItems,
      });
      const messages = [];
      let count: number | undefined;
      for (const item of out.Items ?? []) {
        if (isMessageSk(item[sortKey.name] as string)) messages.push(messageFromItem(item));
        else if (item[sortKey.name] === PRESENCE_SK) count = item.member_count as number;
      }
      return { messages, memberCount: count, truncated: out.LastEvaluatedKey !== undefined };
    },

    async messagesByCreateTime(chapterId, fromTime, toTime, maxItems, startKey) {
      const out = await table.query({
        IndexName: createTimeIndex.name,
        KeyConditionExpression: '#pk = :chapter AND #t BETWEEN :from AND :to',
        ExpressionAttributeNames: { '#pk': partitionKey.name, '#t': createTimeIndex.sortKey.name },
        ExpressionAttributeValues: { ':chapter': chapterId, ':from': fromTime, ':to': toTime },
        ConsistentRead: true,
        Limit: maxItems,
        ExclusiveStartKey: startKey,
      });
      return { messages: (out.Items ?? []).map(messageFromItem), nextKey: out.LastEvaluatedKey };
    },

    /** One eventually consistent BatchGetItem; keys DynamoDB leaves unprocessed (under throttling) are read one by one, with the SDK's retries. */
    async memberCountAndMembership(chapterId, userId) {
      const presenceKey = itemKey(chapterId, PRESENCE_SK);
      const memberKey = itemKey(chapterId, memberSk(userId));
      const out = await table.batchGet([presenceKey, memberKey], {
        ProjectionExpression: '#sk, member_count',
        ExpressionAttributeNames: { '#sk': sortKey.name },
      });
      if ((out.UnprocessedKeys?.[table.name]?.Keys?.length ?? 0) > 0) {
        const [count, member] = await Promise.all([memberCount(chapterId), isMember(chapterId, userId, { consistent: false })]);
        return { memberCount: count, isMember: member };
      }
      const items = out.Responses?.[table.name] ?? [];
      const presence = items.find((item) => item[sortKey.name] === PRESENCE_SK);
      return {
        memberCount: (presence?.member_count as number | undefined) ?? 0,
        isMember: items.some((item) => item[sortKey.name] === memberKey[sortKey.name]),
      };
    },
  };
}
