/**
 * A fresh chat table for a test file, on the one engine of the test run (never a mocked client):
 * DynamoDB Local, which Jest's global setup starts, or the engine DYNAMODB_ENDPOINT names
 * (test/support/dynamodb-global-setup.ts). Each table has a name of its own and is deleted when
 * the file is done, so files run in parallel and a shared engine keeps nothing behind.
 */
import { QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { randomBytes } from 'node:crypto';
import { ENV, type Message } from '../../lambda/contract';
import { createChatStore, dynamoDbConfig, writeHistory } from '../../lambda/data';
import type { ChatStore } from '../../lambda/ports/chat-store';
import { deleteTable, ensureTable, localClient } from '../../local/dynamodb';
import { TEST_ENDPOINT_ENV } from './dynamodb-global-setup';

export interface TestTable {
  endpoint: string;
  tableName: string;
  db: DynamoDBDocumentClient;
  store: ChatStore;
  close(): Promise<void>;
}

/** The endpoint of the run's engine. */
export function testEndpoint(): string {
  const endpoint = process.env[TEST_ENDPOINT_ENV];
  if (!endpoint) throw new Error(`${TEST_ENDPOINT_ENV} is not set: run the tests through jest (its global setup starts the engine)`);
  return endpoint;
}

/** A unique table name: `test-<purpose>-<random>`, so runs against one shared engine never meet. */
export function uniqueTableName(purpose = 'chat'): string {
  return `test-${purpose}-${randomBytes(6).toString('hex')}`;
}

export async function startTestTable(purpose?: string): Promise<TestTable> {
  const endpoint = testEndpoint();
  const tableName = uniqueTableName(purpose);
  const db = localClient(endpoint);
  // No stream: push tests turn it on (local/push does for the table it serves); see createTableInput.
  await ensureTable(db, tableName, { stream: false });
  const store = createChatStore(dynamoDbConfig({ ...process.env, [ENV.dynamodbEndpoint]: endpoint }), tableName);
  return {
    endpoint,
    tableName,
    db,
    store,
    close: async () => {
      store.destroy();
      await deleteTable(db, tableName);
      db.destroy();
    },
  };
}

/** Stores messages as they would have been sent (bypassing send: history, bursts, fixtures). */
export async function putMessages(table: TestTable, chapterId: number, messages: Message[]): Promise<void> {
  await writeHistory(table.db, table.tableName, chapterId, { messages });
}

/** `count` messages with ids from `firstId`, `perSecond` of them sharing each create_time from `firstTime`. */
export function messageRun(options: { firstId: number; count: number; firstTime: number; perSecond: number }): Message[] {
  return Array.from({ length: options.count }, (_, i) => ({
    id: options.firstId + i,
    user_id: 7,
    user_type: 2,
    user_name: 'tester',
    msg_body: `message ${options.firstId + i}`,
    create_time: options.firstTime + Math.floor(i / options.perSecond),
  }));
}

/** Every item of a chapter whose sort key starts with `skPrefix` (all when empty), strongly consistent, page by page: what the table holds. */
export async function chapterItems(table: Pick<TestTable, 'db' | 'tableName'>, chapterId: number, skPrefix = ''): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const out = await table.db.send(
      new QueryCommand({
        TableName: table.tableName,
        KeyConditionExpression: skPrefix ? 'chapter_id = :c AND begins_with(sk, :p)' : 'chapter_id = :c',
        ExpressionAttributeValues: { ':c': chapterId, ...(skPrefix && { ':p': skPrefix }) },
        ConsistentRead: true,
        ExclusiveStartKey: startKey,
      }),
    );
    items.push(...(out.Items ?? []));
    startKey = out.LastEvaluatedKey;
  } while (startKey);
  return items;
}
