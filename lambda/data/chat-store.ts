/**
 * Data access for the chat table: every DynamoDB request the functions make is issued here.
 * It speaks in items and keys; the paging and cursor rules live in the domain modules.
 */
import { ConditionalCheckFailedException, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import {
  MEMBER_SK_PREFIX,
  MESSAGE_SK_PREFIX,
  PRESENCE_SK,
  TABLE,
  isMessageSk,
  memberSk,
  messageFromItem,
  messageSk,
  sendReservationSk,
  type MemberItem,
  type Message,
  type MessageItem,
  type SendReservationItem,
} from './table';
import { createDocumentClient, dynamoDbConfig, requiredEnv, singleAttemptConfig } from './client';

const { partitionKey, sortKey, createTimeIndex } = TABLE;

/** Runs a conditional write: true when applied, false when its condition did not hold. */
async function conditionally(write: Promise<unknown>): Promise<boolean> {
  try {
    await write;
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}

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

export interface ChatStoreClients {
  /** Every request but message puts, with the SDK's retries. */
  db: DynamoDBDocumentClient;
  /** Message puts: one attempt each (see singleAttemptConfig). */
  stampedWrites: DynamoDBDocumentClient;
}

export class ChatStore {
  private readonly db: DynamoDBDocumentClient;
  private readonly stampedWrites: DynamoDBDocumentClient;

  constructor(
    clients: ChatStoreClients,
    readonly tableName: string,
  ) {
    this.db = clients.db;
    this.stampedWrites = clients.stampedWrites;
  }

  /** Closes the clients' connections (local tools and tests; a function keeps its store for life). */
  destroy(): void {
    this.db.destroy();
    this.stampedWrites.destroy();
  }

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
        Key: this.key(chapterId, PRESENCE_SK),
        ProjectionExpression: 'member_count',
      }),
    );
    return (out.Item?.member_count as number | undefined) ?? 0;
  }

  /**
   * `member_count` and whether `userId` is a member, in one eventually consistent BatchGetItem (a
   * legacy poll's second request, beside the messages Query). Keys DynamoDB leaves unprocessed
   * (under throttling) are read one by one, with the SDK's retries.
   */
  async memberCountAndMembership(chapterId: number, userId: number): Promise<{ memberCount: number; isMember: boolean }> {
    const presenceKey = this.key(chapterId, PRESENCE_SK);
    const memberKey = this.key(chapterId, memberSk(userId));
    const out = await this.db.send(
      new BatchGetCommand({
        RequestItems: {
          [this.tableName]: {
            Keys: [presenceKey, memberKey],
            ProjectionExpression: '#sk, member_count',
            ExpressionAttributeNames: { '#sk': sortKey.name },
          },
        },
      }),
    );
    if ((out.UnprocessedKeys?.[this.tableName]?.Keys?.length ?? 0) > 0) {
      const [memberCount, isMember] = await Promise.all([this.memberCount(chapterId), this.isMember(chapterId, userId, { consistent: false })]);
      return { memberCount, isMember };
    }
    const items = out.Responses?.[this.tableName] ?? [];
    const presence = items.find((item) => item[sortKey.name] === PRESENCE_SK);
    return {
      memberCount: (presence?.member_count as number | undefined) ?? 0,
      isMember: items.some((item) => item[sortKey.name] === memberKey[sortKey.name]),
    };
  }

  // ---- messages (send) ---------------------------------------------------------------------------

  private key(chapterId: number, sk: string) {
    return { [partitionKey.name]: chapterId, [sortKey.name]: sk };
  }

  /** The chapter's newest message item (strongly consistent), or undefined when it has none. */
  async lastMessage(chapterId: number): Promise<MessageItem | undefined> {
    const out = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: '#pk = :chapter AND begins_with(#sk, :msg)',
        ExpressionAttributeNames: { '#pk': partitionKey.name, '#sk': sortKey.name },
        ExpressionAttributeValues: { ':chapter': chapterId, ':msg': MESSAGE_SK_PREFIX },
        ConsistentRead: true,
        ScanIndexForward: false,
        Limit: 1,
      }),
    );
    return out.Items?.[0] as MessageItem | undefined;
  }

  async messageItem(chapterId: number, id: number): Promise<MessageItem | undefined> {
    const out = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: this.key(chapterId, messageSk(id)), ConsistentRead: true }),
    );
    return out.Item as MessageItem | undefined;
  }

  /** Writes the item unless one with its key exists: true when written. */
  private putIfAbsent(client: DynamoDBDocumentClient, item: { chapter_id: number; sk: string }): Promise<boolean> {
    return conditionally(client.send(new PutCommand({ TableName: this.tableName, Item: item, ConditionExpression: 'attribute_not_exists(#sk)', ExpressionAttributeNames: { '#sk': sortKey.name } })));
  }

  /** Stores the message unless its id is taken: the claim of the id. One attempt, no SDK retry. */
  putMessageIfAbsent(item: MessageItem): Promise<boolean> {
    return this.putIfAbsent(this.stampedWrites, item);
  }

  async sendReservation(chapterId: number, userId: number, clientMsgId: string): Promise<SendReservationItem | undefined> {
    const out = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: this.key(chapterId, sendReservationSk(userId, clientMsgId)), ConsistentRead: true }),
    );
    return out.Item as SendReservationItem | undefined;
  }

  putSendReservationIfAbsent(item: SendReservationItem): Promise<boolean> {
    return this.putIfAbsent(this.db, item);
  }

  /** Moves a reservation from one candidate id to the next, only if nobody moved it first. */
  moveSendReservation(chapterId: number, sk: string, from: number, to: number): Promise<boolean> {
    return conditionally(
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: this.key(chapterId, sk),
          UpdateExpression: 'SET msg_id = :to',
          ConditionExpression: 'msg_id = :from',
          ExpressionAttributeValues: { ':from': from, ':to': to },
        }),
      ),
    );
  }

  // ---- members and presence (join, leave) ------------------------------------------------------

  /** Whether the member item exists; strongly consistent unless `consistent` is false (half the cost). */
  async isMember(chapterId: number, userId: number, { consistent = true } = {}): Promise<boolean> {
    const out = await this.db.send(
      new GetCommand({
        TableName: this.tableName,
        Key: this.key(chapterId, memberSk(userId)),
        ConsistentRead: consistent,
        ProjectionExpression: '#sk',
        ExpressionAttributeNames: { '#sk': sortKey.name },
      }),
    );
    return out.Item !== undefined;
  }

  /** Adds the member item; an existing one (a second join) is kept as it is. */
  async putMemberIfAbsent(item: MemberItem): Promise<void> {
    await this.putIfAbsent(this.db, item);
  }

  async deleteMember(chapterId: number, userId: number): Promise<void> {
    await this.db.send(new DeleteCommand({ TableName: this.tableName, Key: this.key(chapterId, memberSk(userId)) }));
  }

  /** Atomically bumps presence.version and returns the new value: the order of membership counts. */
  async bumpPresenceVersion(chapterId: number): Promise<number> {
    const out = await this.db.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: this.key(chapterId, PRESENCE_SK),
        UpdateExpression: 'ADD version :one',
        ExpressionAttributeValues: { ':one': 1 },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    return out.Attributes!.version as number;
  }

  /** The number of member items (strongly consistent COUNT, page by page). */
  async countMembers(chapterId: number): Promise<number> {
    let count = 0;
    let startKey: StartKey | undefined;
    do {
      const out = await this.db.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: '#pk = :chapter AND begins_with(#sk, :member)',
          ExpressionAttributeNames: { '#pk': partitionKey.name, '#sk': sortKey.name },
          ExpressionAttributeValues: { ':chapter': chapterId, ':member': MEMBER_SK_PREFIX },
          ConsistentRead: true,
          Select: 'COUNT',
          ExclusiveStartKey: startKey,
        }),
      );
      count += out.Count ?? 0;
      startKey = out.LastEvaluatedKey;
    } while (startKey);
    return count;
  }

  /** Stores a count taken at `version` unless a count taken at a newer version is stored already. */
  storeMemberCount(chapterId: number, memberCount: number, version: number): Promise<boolean> {
    return conditionally(
      this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: this.key(chapterId, PRESENCE_SK),
          UpdateExpression: 'SET member_count = :count, count_version = :v',
          ConditionExpression: 'attribute_not_exists(count_version) OR count_version < :v',
          ExpressionAttributeValues: { ':count': memberCount, ':v': version },
        }),
      ),
    );
  }
}

export function createChatStore(config: DynamoDBClientConfig, tableName: string): ChatStore {
  return new ChatStore(
    { db: createDocumentClient(config), stampedWrites: createDocumentClient(singleAttemptConfig(config)) },
    tableName,
  );
}

/** The store every function uses: the table named by TABLE_NAME. Read once at init. */
export function chatStoreFromEnv(env: NodeJS.ProcessEnv = process.env): ChatStore {
  return createChatStore(dynamoDbConfig(env), requiredEnv('TABLE_NAME', env));
}
