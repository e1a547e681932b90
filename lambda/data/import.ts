/**
 * The table side of an import of the old backend's history (`npm run import`, local/import/). Never
 * on a request path.
 *
 * - A message is one conditional PutItem (`attribute_not_exists(sk)`) of exactly the item a send
 *   writes (./items.ts' messageItem, with its second_seq): nothing is ever overwritten.
 * - Once every line is done, each chapter's newest message is recorded as a send records it
 *   (./message-log.ts recordNewest; polls read the log only past the newest recorded). BatchWriteItem
 *   cannot carry a condition, so it is not used for messages. When the id is taken, the holder comes
 *   back with the failed condition (ReturnValuesOnConditionCheckFailure, no extra read; a GetItem
 *   where the engine does not return it) and is compared field by field: the same message is
 *   "present" (an earlier run stored it), another one a "conflict" (kept, reported).
 * - Members go through the store's addMembers (./membership.ts): one transaction per ≤ 99 members
 *   with `ADD member_count`, so the count stays exact and a re-run adds nobody twice.
 * - --verify reads a chapter's messages back in id order, its member ids and member_count.
 *
 * Puts go out once each (maxAttempts 1): the importer retries throttling and 5xx itself and slows
 * down on them, which it could not do if the SDK swallowed them. Reads and member transactions keep
 * the SDK's retries (a transaction's retries carry its ClientRequestToken).
 */
import { ConditionalCheckFailedException, DescribeTableCommand, ResourceNotFoundException, type AttributeValue, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { TABLE, type Message } from '../contract';
import type { LoggedMessage, Member, PageKey } from '../ports/chat-store';
import { StorageUnavailableError } from '../ports/errors';
import { createChatStore } from './chat-store';
import { createDocumentClient } from './client';
import { countItems } from './count';
import { isUnavailableError } from './errors';
import { messageFromItem, messageItem } from './items';
import { MEMBER_SK_PREFIX, itemKey, messageSk } from './keys';

const { partitionKey, sortKey } = TABLE;

/** A message as the import stores it: the API fields and its position within its second. */
export type ImportedMessage = Message & { second_seq: number };
export type ImportedMember = Member;

/** What a message put found: stored now, already there (the same message), or another message at that id. */
export type PutOutcome = { outcome: 'imported' } | { outcome: 'present' } | { outcome: 'conflict'; existing: Message };

export interface ImportTable {
  readonly name: string;
  /** Fails with a one-line message unless the table exists. */
  check(): Promise<void>;
  /** Stores the message unless its id is taken; never overwrites. */
  putMessage(chapterId: number, message: ImportedMessage): Promise<PutOutcome>;
  /** Records the message as the chapter's newest unless a newer one is recorded. */
  recordNewest(chapterId: number, message: Pick<Message, 'id' | 'create_time'>): Promise<void>;
  /** Adds those of `members` who are not members yet, counting them into member_count; returns how many it added. */
  addMembers(chapterId: number, members: readonly ImportedMember[]): Promise<number>;
  /** The chapter's messages with id ≤ upToId, oldest first, a page at a time (strongly consistent). */
  messages(chapterId: number, upToId: number): AsyncGenerator<Message[]>;
  /** How many messages the chapter has with id > afterId (sent after the import, typically). */
  countMessagesAfter(chapterId: number, afterId: number): Promise<number>;
  /** The user ids of the chapter's member items. */
  memberIds(chapterId: number): Promise<number[]>;
  /** member_count as stored (strongly consistent). */
  memberCount(chapterId: number): Promise<number>;
  destroy(): void;
}

export interface ImportTableOptions {
  /** Sockets per client: at least the number of requests in flight. */
  sockets?: number;
  /** Per request; generous, as a busy engine may queue requests. */
  requestTimeoutMs?: number;
}

/** Throttling, 5xx, timeouts and network failures (also as the store raises them): worth another attempt, later. */
export function isRetryableImportError(error: unknown): boolean {
  return error instanceof StorageUnavailableError || isUnavailableError(error);
}

/** Whether two messages are the same: the six fields of the API. */
export function sameMessage(a: Message, b: Message): boolean {
  return (
    a.id === b.id &&
    a.user_id === b.user_id &&
    a.user_type === b.user_type &&
    a.user_name === b.user_name &&
    a.msg_body === b.msg_body &&
    a.create_time === b.create_time
  );
}

/** The holder returned by a failed condition, in the wire format (only S and N attributes matter here). */
function messageFromAttributes(item: Record<string, AttributeValue>): Message {
  const n = (name: string) => Number(item[name]?.N);
  const s = (name: string) => item[name]?.S as string;
  return { id: n('id'), user_id: n('user_id'), user_type: n('user_type'), user_name: s('user_name'), msg_body: s('msg_body'), create_time: n('create_time') };
}

export function openImportTable(config: DynamoDBClientConfig, tableName: string, options: ImportTableOptions = {}): ImportTable {
  const sockets = options.sockets ?? 64;
  const requestTimeout = options.requestTimeoutMs ?? 10_000;
  const agent = { keepAlive: true, maxSockets: sockets };
  const base: DynamoDBClientConfig = {
    ...config,
    requestHandler: { connectionTimeout: 3_000, requestTimeout, throwOnRequestTimeout: true, httpAgent: agent, httpsAgent: agent },
  };
  const puts = createDocumentClient({ ...base, maxAttempts: 1 });
  const reads = createDocumentClient({ ...base, maxAttempts: 5 });
  const store = createChatStore(base, tableName);
  const names = { '#pk': partitionKey.name, '#sk': sortKey.name };

  async function holder(chapterId: number, id: number, returned: Record<string, AttributeValue> | undefined): Promise<Message | undefined> {
    if (returned) return messageFromAttributes(returned);
    const out = await reads.send(new GetCommand({ TableName: tableName, Key: itemKey(chapterId, messageSk(id)), ConsistentRead: true }));
    return out.Item && messageFromItem(out.Item);
  }

  async function putMessage(chapterId: number, message: ImportedMessage): Promise<PutOutcome> {
    const logged: LoggedMessage = message;
    try {
      await puts.send(
        new PutCommand({
          TableName: tableName,
          Item: { ...messageItem(chapterId, logged) },
          ConditionExpression: 'attribute_not_exists(#sk)',
          ExpressionAttributeNames: { '#sk': sortKey.name },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { outcome: 'imported' };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const existing = await holder(chapterId, message.id, error.Item);
      // Deleted between the put and the read (GetItem fallback only): put it again.
      if (!existing) return putMessage(chapterId, message);
      return sameMessage(existing, message) ? { outcome: 'present' } : { outcome: 'conflict', existing };
    }
  }

  return {
    name: tableName,

    async check() {
      try {
        await reads.send(new DescribeTableCommand({ TableName: tableName }));
      } catch (error) {
        if (error instanceof ResourceNotFoundException) throw new Error(`table ${tableName} does not exist there`);
        throw error;
      }
    },

    putMessage,

    recordNewest: (chapterId, message) => store.recordNewest(chapterId, message),

    addMembers: (chapterId, members) => store.addMembers(chapterId, members),

    async *messages(chapterId, upToId) {
      let startKey: PageKey | undefined;
      do {
        const out = await reads.send(
          new QueryCommand({
            TableName: tableName,
            KeyConditionExpression: '#pk = :chapter AND #sk BETWEEN :from AND :to',
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: { ':chapter': chapterId, ':from': messageSk(0), ':to': messageSk(upToId) },
            ConsistentRead: true,
            ExclusiveStartKey: startKey,
          }),
        );
        yield (out.Items ?? []).map(messageFromItem);
        startKey = out.LastEvaluatedKey;
      } while (startKey);
    },

    countMessagesAfter(chapterId, afterId) {
      return countItems(reads, {
        TableName: tableName,
        KeyConditionExpression: '#pk = :chapter AND #sk BETWEEN :from AND :to',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: { ':chapter': chapterId, ':from': messageSk(afterId + 1), ':to': messageSk(Number.MAX_SAFE_INTEGER) },
      });
    },

    async memberIds(chapterId) {
      const ids: number[] = [];
      let startKey: PageKey | undefined;
      do {
        const out = await reads.send(
          new QueryCommand({
            TableName: tableName,
            KeyConditionExpression: '#pk = :chapter AND begins_with(#sk, :member)',
            ExpressionAttributeNames: { ...names, '#uid': 'user_id' },
            ExpressionAttributeValues: { ':chapter': chapterId, ':member': MEMBER_SK_PREFIX },
            ProjectionExpression: '#uid',
            ConsistentRead: true,
            ExclusiveStartKey: startKey,
          }),
        );
        for (const item of out.Items ?? []) ids.push(item.user_id as number);
        startKey = out.LastEvaluatedKey;
      } while (startKey);
      return ids;
    },

    memberCount: (chapterId) => store.currentMemberCount(chapterId),

    destroy() {
      puts.destroy();
      reads.destroy();
      store.destroy();
    },
  };
}
