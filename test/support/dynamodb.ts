/** A fresh chat table on an in-memory dynalite that the test file starts (never a mocked client). */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ENV, type Message } from '../../lambda/contract';
import { createChatStore, dynamoDbConfig, writeHistory } from '../../lambda/data';
import type { ChatStore } from '../../lambda/ports/chat-store';
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
  const store = createChatStore(dynamoDbConfig({ [ENV.dynamodbEndpoint]: engine.endpoint }), tableName);
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
