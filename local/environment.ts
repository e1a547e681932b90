/**
 * The local database for `npm start` and `npm run invoke`: DynamoDB Local with the chat table and
 * the demo chapter, persisted under .local-data/ (git-ignored) unless in memory — or the engine
 * DYNAMODB_ENDPOINT names, which must answer. `npm start` writes where its database is to
 * .local-data/endpoint.json while it runs, so that `npm run invoke` uses that one, whatever its port.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ENV, MEMBERSHIP_MODES, type MembershipMode } from '../lambda/contract';
import { seedDemoChapter } from './demo-chapter';
import { ensureTable, localClient, openEngine } from './dynamodb';
import { answersListTables } from './dynamodb-local';

export const LOCAL_TABLE_NAME = 'group-chat-local';
export const DATA_DIR = path.resolve(__dirname, '..', '.local-data', 'dynamodb-local');
export const DEFAULT_DYNAMODB_PORT = 8000;
/**
 * Where a running `npm start` says which database it serves: `{ endpoint, tableName, pid }`.
 * LOCAL_ENDPOINT_FILE moves it (tests do, so as not to touch a developer's running server's).
 */
export function endpointFile(env: NodeJS.ProcessEnv = process.env): string {
  return env.LOCAL_ENDPOINT_FILE || path.resolve(__dirname, '..', '.local-data', 'endpoint.json');
}

export interface LocalDatabase {
  endpoint: string;
  tableName: string;
  /** Which database this is, for a one-line notice: e.g. `npm start's (pid 4242, .local-data/endpoint.json)`. */
  source?: string;
  /** Stops the engine when this process started it. */
  close(): Promise<void>;
}

/** What `npm start` writes to endpointFile() while it runs. */
export interface RunningDatabase {
  endpoint: string;
  tableName: string;
  /** The `npm start` process serving it. */
  pid: number;
}

/** Opens the engine (DYNAMODB_ENDPOINT's, else DynamoDB Local in memory or persisted in DATA_DIR), creates the table and seeds the demo chapter. */
export async function startLocalDatabase(options: { memory: boolean; port: number }): Promise<LocalDatabase> {
  const engine = await openEngine({ dbPath: options.memory ? undefined : DATA_DIR, port: options.port });
  try {
    await prepare(engine.endpoint);
  } catch (error) {
    await engine.close();
    throw error;
  }
  const source = process.env[ENV.dynamodbEndpoint]
    ? `${ENV.dynamodbEndpoint}'s`
    : `its own DynamoDB Local (${options.memory ? 'in memory' : `data in ${path.relative(process.cwd(), DATA_DIR) || DATA_DIR}`})`;
  return { endpoint: engine.endpoint, tableName: LOCAL_TABLE_NAME, source, close: engine.close };
}

/** Tells later `npm run invoke`s which database this `npm start` serves; `forget` undoes it. */
export function announceDatabase(db: LocalDatabase, env: NodeJS.ProcessEnv = process.env): { forget(): void } {
  const file = endpointFile(env);
  const running: RunningDatabase = { endpoint: db.endpoint, tableName: db.tableName, pid: process.pid };
  mkdirSync(path.dirname(file), { recursive: true });
  // Written whole, then renamed: a reader never sees half a file.
  writeFileSync(`${file}.${process.pid}`, `${JSON.stringify(running, null, 2)}\n`);
  renameSync(`${file}.${process.pid}`, file);
  return {
    forget: () => {
      // Another `npm start` may have announced itself since: only our own announcement is removed.
      if (readRunningDatabase(env)?.pid === process.pid) rmSync(file, { force: true });
    },
  };
}

/** What endpointFile() says, when it holds an announcement (it may be stale: its process may be gone). */
export function readRunningDatabase(env: NodeJS.ProcessEnv = process.env): RunningDatabase | undefined {
  try {
    const running = JSON.parse(readFileSync(endpointFile(env), 'utf8')) as Partial<RunningDatabase>;
    if (typeof running.endpoint === 'string' && typeof running.tableName === 'string' && Number.isInteger(running.pid)) {
      return running as RunningDatabase;
    }
  } catch {
    // no file, or not ours
  }
  return undefined;
}

/**
 * The database for one `npm run invoke`: DYNAMODB_ENDPOINT's when set; else the one a running
 * `npm start` announced (whatever its port); else, when DYNAMODB_PORT is set, whatever answers on
 * that port; else a DynamoDB Local of its own on .local-data/ (stopped again by `close`).
 * `source` says which.
 */
export async function openLocalDatabase(env: NodeJS.ProcessEnv = process.env): Promise<LocalDatabase> {
  if (!env[ENV.dynamodbEndpoint]) {
    const running = readRunningDatabase(env);
    // An https endpoint is a real DynamoDB (DYNAMODB_ENDPOINT of npm start's): its process being alive is enough.
    if (running && isAlive(running.pid) && (running.endpoint.startsWith('https:') || (await answersListTables(running.endpoint)))) {
      await prepare(running.endpoint, running.tableName);
      const file = path.relative(process.cwd(), endpointFile(env)) || endpointFile(env);
      return { ...running, source: `npm start's (pid ${running.pid}, ${file})`, close: async () => undefined };
    }
    const port = env.DYNAMODB_PORT;
    if (port && (await answersListTables(`http://127.0.0.1:${port}`))) {
      const endpoint = `http://127.0.0.1:${port}`;
      await prepare(endpoint);
      return { endpoint, tableName: LOCAL_TABLE_NAME, source: `the engine on DYNAMODB_PORT ${port}`, close: async () => undefined };
    }
  }
  return startLocalDatabase({ memory: false, port: 0 });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A local setting (an environment variable) has a value no run can use; `message` is one line. */
export class LocalSettingError extends Error {
  override name = 'LocalSettingError';
}

/**
 * Local runs let users join and leave on their own (`self`, as a dev stack does) unless MEMBERSHIP
 * says `managed`; anything else is refused with one line.
 */
export function localMembershipMode(env: NodeJS.ProcessEnv = process.env): MembershipMode {
  const value = env[ENV.membership] || 'self';
  if (!(MEMBERSHIP_MODES as readonly string[]).includes(value)) {
    throw new LocalSettingError(`${ENV.membership} must be ${MEMBERSHIP_MODES.join(' or ')}, got "${value}"`);
  }
  return value as MembershipMode;
}

/**
 * Configures the handlers (they read their settings at init) for a local run: the local database,
 * identity from the x-user-* headers (which only local runs and open demo stacks trust), the
 * membership mode (`self` unless MEMBERSHIP=managed), and no metrics output (CloudWatch's business:
 * locally it would print one EMF line per request). The admin routes are served without any
 * signature check: locally they are as open as the header identity.
 */
export function useLocalEnvironment(db: LocalDatabase): void {
  const membership = localMembershipMode();
  process.env[ENV.tableName] = db.tableName;
  process.env[ENV.dynamodbEndpoint] = db.endpoint;
  process.env[ENV.identitySource] = 'headers';
  process.env[ENV.membership] = membership;
  process.env[ENV.metricsDisabled] ??= 'true';
}

async function prepare(endpoint: string, tableName: string = LOCAL_TABLE_NAME): Promise<void> {
  const client = localClient(endpoint);
  try {
    await ensureTable(client, tableName);
    await seedDemoChapter(client, tableName);
  } finally {
    client.destroy();
  }
}
