/**
 * The database the warm and cold measurements run against: the embedded engine in a child process
 * (./database-server.ts), the chat table from the shared definition, and two chapters — one with a
 * short history, one with a long one — each with its presence item and the benchmark's caller as a member.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { writeHistory } from '../../lambda/data';
import { ensureTable, localClient } from '../../local/dynamodb';
import { messageRun } from '../../test/support/dynamodb';
import { PROJECT_ROOT } from './build';

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

/** Starts ./database-server.ts and resolves with its endpoint. */
function startDatabaseProcess(): Promise<{ endpoint: string; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'database-server.ts')], {
    cwd: PROJECT_ROOT,
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

/** A chapter of `count` messages (one a second, long past), its presence item and USER_ID as member. */
export async function seedChapter(db: DynamoDBDocumentClient, tableName: string, id: number, count: number): Promise<Chapter> {
  const messages = messageRun({ firstId: 1, count, firstTime: FIRST_TIME, perSecond: 1 });
  const members = [{ user_id: USER_ID, user_type: 3, user_name: 'bench', joined_at: FIRST_TIME }];
  // dynalite is single-threaded: a few batches in flight keep it busy, more only queue.
  await writeHistory(db, tableName, id, { messages, members }, { parallel: 6 });
  const last = messages[messages.length - 1];
  return { id, messages: count, lastId: last.id, lastTime: last.create_time };
}

export async function startBenchDatabase(largeHistory: number): Promise<BenchDatabase> {
  const engine = await startDatabaseProcess();
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
