/**
 * The polling reads: what find_group_chat reads. First the presence item (member_count and the
 * newest message recorded), then — only when the client is behind — the messages, by id on the
 * table or by create_time on the `by_create_time` index, one budgeted Query at a time.
 */
import { TABLE } from '../contract';
import type { PageChunk, PollReads, ReadBudget } from '../ports/chat-store';
import { MAX_INDEX_ENTRY_BYTES, MAX_MESSAGE_ITEM_BYTES, messageFromItem, type PresenceItem } from './items';
import { LAST_MESSAGE_SK, PRESENCE_SK, itemKey, messageSk } from './keys';
import type { TableAccess } from './table-access';

const { partitionKey, sortKey, createTimeIndex } = TABLE;
/** What one read unit of a strongly consistent read covers. */
const BYTES_PER_READ_UNIT = 4096;

export function pollReads(table: TableAccess, isMember: PollReads['isMember']): PollReads {
  /**
   * One Query of at most `maxItems` whose worst case (every item of `largestItemBytes`) fits the
   * budget; what it consumed (as DynamoDB reports it) is taken from the budget.
   */
  const budgetedQuery = async (
    input: Parameters<TableAccess['query']>[0],
    maxItems: number,
    budget: ReadBudget,
    largestItemBytes: number,
  ): Promise<PageChunk> => {
    const affordable = (units: number) => Math.floor((Math.floor(units) * BYTES_PER_READ_UNIT) / largestItemBytes);
    const limit = Math.min(maxItems, affordable(budget.remaining));
    if (limit < 1) return { messages: [], nextKey: input.ExclusiveStartKey, exhausted: true };
    const out = await table.query({ ...input, ConsistentRead: true, Limit: limit, ReturnConsumedCapacity: 'TOTAL' });
    const items = out.Items ?? [];
    // An engine that does not report capacity is charged the worst case.
    budget.remaining -= out.ConsumedCapacity?.CapacityUnits ?? Math.ceil((limit * largestItemBytes) / BYTES_PER_READ_UNIT);
    return { messages: items.map(messageFromItem), nextKey: out.LastEvaluatedKey, exhausted: affordable(budget.remaining) < 1 };
  };

  return {
    isMember,

    async chapterHead(chapterId) {
      // Eventually consistent: a stale answer only makes a poll see a new message one poll later.
      const out = await table.get({ Key: itemKey(chapterId, PRESENCE_SK), ProjectionExpression: 'member_count, newest_id, newest_time' });
      const presence = out.Item as Partial<PresenceItem> | undefined;
      return { memberCount: presence?.member_count ?? 0, newestId: presence?.newest_id, newestTime: presence?.newest_time };
    },

    messagesAfterId(chapterId, afterId, maxItems, budget, startKey) {
      const input = {
        KeyConditionExpression: '#pk = :chapter AND #sk BETWEEN :from AND :last',
        ExpressionAttributeNames: { '#pk': partitionKey.name, '#sk': sortKey.name },
        ExpressionAttributeValues: { ':chapter': chapterId, ':from': messageSk(afterId + 1), ':last': LAST_MESSAGE_SK },
        ExclusiveStartKey: startKey,
      };
      return budgetedQuery(input, maxItems, budget, MAX_MESSAGE_ITEM_BYTES);
    },

    messagesByCreateTime(chapterId, fromTime, toTime, maxItems, budget, startKey) {
      const input = {
        IndexName: createTimeIndex.name,
        KeyConditionExpression: '#pk = :chapter AND #t BETWEEN :from AND :to',
        ExpressionAttributeNames: { '#pk': partitionKey.name, '#t': createTimeIndex.sortKey.name },
        ExpressionAttributeValues: { ':chapter': chapterId, ':from': fromTime, ':to': toTime },
        ExclusiveStartKey: startKey,
      };
      return budgetedQuery(input, maxItems, budget, MAX_INDEX_ENTRY_BYTES);
    },
  };
}
