/**
 * The database the warm and cold measurements run against: dynalite in a child process, the chat
 * table from the shared definition, and two chapters — one with a short history, one with a long
 * one — each with its presence item and the benchmark's caller as a member.
 */
import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { PRESENCE_SK, memberItem, messageItem, type PresenceItem } from '../lambda/data/table';
import { ensureTable, localClient } from '../local/dynamodb';
import { messageRun } from '../test/support/dynamodb';

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
  tableName: string;
  db: DynamoDBDocumentClient;
  small: Chapter;
  large: Chapter;
  close(): Promise<void>;
}

/** Starts bench/dynalite-server.ts and resolves with its endpoint. */
function startDynaliteProcess(): Promise<{ endpoint: string; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'dynalite-server.ts')], {
    cwd: path.join(__dirname, '..'),
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`dynalite exited with ${code}`)));
    createInterface({ input: child.stdout! }).once('line', (endpoint) => {
      resolve({
        endpoint: endpoint.trim(),
        stop: () =>
          new Promise<void>((done) => {
            child.removeAllListeners('exit');
            child.once('exit', () => done());
            child.kill('SIGTERM');
          }),
      });
    });
  });
}

async function batchWrite(db: DynamoDBDocumentClient, tableName: string, items: Record<string, unknown>[]): Promise<void> {
  let requests = items.map((Item) => ({ PutRequest: { Item } }));
  while (requests.length > 0) {
    const out = await db.send(new BatchWriteCommand({ RequestItems: { [tableName]: requests } }));
    requests = (out.UnprocessedItems?.[tableName] ?? []) as typeof requests;
  }
}

/** A chapter of `count` messages (one a second, long past), its presence item and USER_ID as member. */
export async function seedChapter(db: DynamoDBDocumentClient, tableName: string, id: number, count: number): Promise<Chapter> {
  const presence: PresenceItem = { chapter_id: id, sk: PRESENCE_SK, member_count: 1, version: 1, count_version: 1 };
  const member = memberItem(id, { user_id: USER_ID, user_type: 3, user_name: 'bench', joined_at: FIRST_TIME });
  await batchWrite(db, tableName, [presence, member] as unknown as Record<string, unknown>[]);
  const messages = messageRun({ firstId: 1, count, firstTime: FIRST_TIME, perSecond: 1 });
  const batches: Record<string, unknown>[][] = [];
  for (let i = 0; i < messages.length; i += 25) {
    batches.push(messages.slice(i, i + 25).map((m) => messageItem(id, m) as unknown as Record<string, unknown>));
  }
  // dynalite is single-threaded: a few batches in flight keep it busy, more only queue.
  let next = 0;
  await Promise.all(
    Array.from({ length: 6 }, async () => {
      while (next < batches.length) await batchWrite(db, tableName, batches[next++]);
    }),
  );
  const last = messages[messages.length - 1];
  return { id, messages: count, lastId: last.id, lastTime: last.create_time };
}

export async function startBenchDatabase(largeHistory: number): Promise<BenchDatabase> {
  const engine = await startDynaliteProcess();
  const db = localClient(engine.endpoint);
  await ensureTable(db, TABLE_NAME);
  const small = await seedChapter(db, TABLE_NAME, 100, 100);
  const large = await seedChapter(db, TABLE_NAME, 200, largeHistory);
  return {
    endpoint: engine.endpoint,
    tableName: TABLE_NAME,
    db,
    small,
    large,
    close: async () => {
      db.destroy();
      await engine.stop();
    },
  };
}
