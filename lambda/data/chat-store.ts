/**
 * Data access for the chat table: every DynamoDB request the functions make is issued here.
 * It speaks in items and keys; the paging and cursor rules live in the domain modules.
 */
import { GetCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  PRESENCE_SK,
  TABLE,
  isMessageSk,
  messageFromItem,
  messageSk,
  type Message,
} from './table';

const { partitionKey, sortKey, createTimeIndex } = TABLE;

export type StartKey = Record<string, unknown>;

export interface MessagesAfterId {
  /** Messages with id > afterId, oldest first; at most `maxItems`. */
  messages: Message[];
  /** `member_count` of the presence item when the page reached it (it sorts after every message). */
  memberCount: number | undefined;
  /** DynamoDB stopped early (item limit or 1 MB) and more items may follow. */
  truncated: boolean;
}

export interface MessagesByTime {
  messages: Message[];
  /** Where to continue; absent when the range is exhausted. */
  nextKey: StartKey | undefined;
}

export class ChatStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    readonly tableName: string,
  ) {}

  /**
   * One strongly consistent Query over `msg#<afterId+1> … presence`: the messages after `afterId`
   * and, when the page is not full, the presence item in the same request.
   */
  async messagesAfterId(chapterId: number, afterId: number, maxItems: number): Promise<MessagesAfterId> {
    const out = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: '#pk = :chapter AND #sk BETWEEN :from AND :presence',
        ExpressionAttributeNames: { '#pk': partitionKey.name, '#sk': sortKey.name },
        ExpressionAttributeValues: { ':chapter': chapterId, ':from': messageSk(afterId + 1), ':presence': PRESENCE_SK },
        ConsistentRead: true,
        Limit: maxItems,
      }),
    );
    const messages: Message[] = [];
    let memberCount: number | undefined;
    for (const item of out.Items ?? []) {
      if (isMessageSk(item[sortKey.name] as string)) messages.push(messageFromItem(item));
      else if (item[sortKey.name] === PRESENCE_SK) memberCount = item.member_count as number;
    }
    return { messages, memberCount, truncated: out.LastEvaluatedKey !== undefined };
  }

  /** Messages with fromTime ≤ create_time ≤ toTime through the LSI, oldest first (strongly consistent). */
  async messagesByCreateTime(
    chapterId: number,
    fromTime: number,
    toTime: number,
    maxItems: number,
    startKey?: StartKey,
  ): Promise<MessagesByTime> {
    const out = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: createTimeIndex.name,
        KeyConditionExpression: '#pk = :chapter AND #t BETWEEN :from AND :to',
        ExpressionAttributeNames: { '#pk': partitionKey.name, '#t': createTimeIndex.sortKey.name },
        ExpressionAttributeValues: { ':chapter': chapterId, ':from': fromTime, ':to': toTime },
        ConsistentRead: true,
        Limit: maxItems,
        ExclusiveStartKey: startKey,
      }),
    );
    return { messages: (out.Items ?? []).map(messageFromItem), nextKey: out.LastEvaluatedKey };
  }

  /**
   * `member_count` from the presence item; 0 for a chapter nobody joined. Eventually consistent:
   * the count is advisory (the seed says it may differ between requests) and this halves its cost.
   */
  async memberCount(chapterId: number): Promise<number> {
    const out = await this.db.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { [partitionKey.name]: chapterId, [sortKey.name]: PRESENCE_SK },
        ProjectionExpression: 'member_count',
      }),
    );
    return (out.Item?.member_count as number | undefined) ?? 0;
  }
}
