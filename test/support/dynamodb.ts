/** A fresh chat table on an in-memory dynalite that the test file starts (never a mocked client). */
import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createChatStore, type ChatStore } from '../../lambda/data/chat-store';
import { dynamoDbConfig } from '../../lambda/data/client';
import { messageItem, type Message } from '../../lambda/data/table';
import { ensureTable, localClient, startDynalite } from '../../local/dynamodb';

export interface TestTable {
  endpoint: string;
  tableName: string;
  db: DynamoDBDocumentClient;
  store: ChatStore;
  close(): Promise<void>;
}

export async function startTestTable(tableName = 'chat-test'): Promise<TestTable> {
  const engine = await startDynalite();
  const db = localClient(engine.endpoint);
  await ensureTable(db, tableName);
  const store = createChatStore(dynamoDbConfig({ DYNAMODB_ENDPOINT: engine.endpoint }), tableName);
  return {
    endpoint: engine.endpoint,
    tableName,
    db,
    store,
    close: async () => {
      db.destroy();
      store.destroy();
      await engine.close();
    },
  };
}

/** Stores messages as they would have been sent (bypassing send: history, bursts, fixtures). */
export async function putMessages(table: TestTable, chapterId: number, messages: Message[]): Promise<void> {
  const batches: Message[][] = [];
  for (let i = 0; i < messages.length; i += 25) batches.push(messages.slice(i, i + 25));
  // A few batches at a time: dynalite is single-threaded, more parallelism only queues.
  for (let i = 0; i < batches.length; i += 8) {
    await Promise.all(
      batches.slice(i, i + 8).map(async (batch) => {
        let requests = batch.map((m) => ({ PutRequest: { Item: messageItem(chapterId, m) } }));
        while (requests.length > 0) {
          const out = await table.db.send(new BatchWriteCommand({ RequestItems: { [table.tableName]: requests } }));
          requests = (out.UnprocessedItems?.[table.tableName] ?? []) as typeof requests;
        }
      }),
    );
  }
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
