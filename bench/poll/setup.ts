/**
 * The database the warm and cold measurements run against: AWS's DynamoDB Local, in memory, as a
 * `java` process of its own (local/dynamodb-local.ts), so the benchmark process measures the
 * handler, not the database's work or garbage; the chat table from the shared definition; and two
 * chapters — one with a short history, one with a long one — each with its presence item and the
 * benchmark's caller as a member. The one place the poll benchmark starts an engine (the load part
 * runs `npm start -- --memory`, which starts its own).
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { writeHistory } from '../../lambda/data';
import { ensureTable, localClient } from '../../local/dynamodb';
import { startDynamoDbLocal } from '../../local/dynamodb-local';
import { messageRun } from '../../test/support/dynamodb';

export const TABLE_NAME = 'group-chat-bench';
/** The caller of every poll (a member of both chapters). */
export const USER_ID = 4242;
const FIRST_TIME = 1_700_000_000;

export interface Chapter {
  id: number;
  messages: number;
  /** The newest message's id and create_time: an idle poll holds them. */
  lastId: number;
  lastTime: number;
}

export interface BenchDatabase {
  endpoint: string;
  /** The java process's id. */
  pid: number;
  tableName: string;
  db: DynamoDBDocumentClient;
  small: Chapter;
  large: Chapter;
  /** Seconds until DynamoDB Local answered, and seconds to create the table and seed both chapters. */
  startS: number;
  seedS: number;
  close(): Promise<void>;
}

/**
 * BatchWrite requests in flight while seeding. DynamoDB Local is multi-threaded: on 2 vCPUs, one at a
 * time wrote about 4 400 items/s, 8 in flight 7 000–9 000 (100 000 messages in 13–19 s); 16 no faster.
 */
const SEED_PARALLEL = 8;

/** A chapter of `count` messages (one a second, long past), its presence item and USER_ID as member. */
export async function seedChapter(db: DynamoDBDocumentClient, tableName: string, id: number, count: number): Promise<Chapter> {
  const messages = messageRun({ firstId: 1, count, firstTime: FIRST_TIME, perSecond: 1 });
  const members = [{ user_id: USER_ID, user_type: 3, user_name: 'bench', joined_at: FIRST_TIME }];
  await writeHistory(db, tableName, id, { messages, members }, { parallel: SEED_PARALLEL });
  const last = messages[messages.length - 1];
  return { id, messages: count, lastId: last.id, lastTime: last.create_time };
}

/** A chapter of `count` members (user ids 1…count) and no messages; its presence item holds member_count = count. */
export async function seedMembers(db: DynamoDBDocumentClient, tableName: string, id: number, count: number): Promise<void> {
  const members = Array.from({ length: count }, (_, i) => ({ user_id: i + 1, user_type: 3, user_name: `member ${i + 1}`, joined_at: FIRST_TIME }));
  await writeHistory(db, tableName, id, { members }, { parallel: SEED_PARALLEL });
}

/** Always a DynamoDB Local of its own (DYNAMODB_ENDPOINT is not used: the figures are defined on this engine). */
export async function startBenchDatabase(largeHistory: number): Promise<BenchDatabase> {
  const t0 = performance.now();
  const engine = await startDynamoDbLocal();
  const startS = (performance.now() - t0) / 1000;
  const db = localClient(engine.endpoint);
  try {
    const t1 = performance.now();
    await ensureTable(db, TABLE_NAME);
    const small = await seedChapter(db, TABLE_NAME, 100, 100);
    const large = await seedChapter(db, TABLE_NAME, 200, largeHistory);
    const seedS = (performance.now() - t1) / 1000;
    return {
      endpoint: engine.endpoint,
      pid: engine.pid,
      tableName: TABLE_NAME,
      db,
      small,
      large,
      startS,
      seedS,
      close: async () => {
        db.destroy();
        await engine.close();
      },
    };
  } catch (error) {
    db.destroy();
    await engine.close();
    throw error;
  }
}
