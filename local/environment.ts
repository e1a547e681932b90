/**
 * The local database for `npm start` and `npm run invoke`: DynamoDB Local with the chat table and
 * the demo chapter, persisted under .local-data/ (git-ignored) unless in memory — or the engine
 * DYNAMODB_ENDPOINT names, which must answer.
 */
import { connect } from 'node:net';
import path from 'node:path';
import { ENV, MEMBERSHIP_MODES, type MembershipMode } from '../lambda/contract';
import { seedDemoChapter } from './demo-chapter';
import { ensureTable, localClient, openEngine } from './dynamodb';

export const LOCAL_TABLE_NAME = 'group-chat-local';
export const DATA_DIR = path.resolve(__dirname, '..', '.local-data', 'dynamodb-local');
export const DEFAULT_DYNAMODB_PORT = 8000;

export interface LocalDatabase {
  endpoint: string;
  tableName: string;
  /** Stops the engine when this process started it. */
  close(): Promise<void>;
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
  return { endpoint: engine.endpoint, tableName: LOCAL_TABLE_NAME, close: engine.close };
}

/** Uses the engine DYNAMODB_ENDPOINT names, or `npm start`'s when it runs, else starts one of its own. */
export async function openLocalDatabase(env: NodeJS.ProcessEnv = process.env): Promise<LocalDatabase> {
  const running = `http://127.0.0.1:${env.DYNAMODB_PORT || DEFAULT_DYNAMODB_PORT}`;
  if (!env[ENV.dynamodbEndpoint] && (await isListening(new URL(running)))) {
    await prepare(running);
    return { endpoint: running, tableName: LOCAL_TABLE_NAME, close: async () => undefined };
  }
  return startLocalDatabase({ memory: false, port: 0 });
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

async function prepare(endpoint: string): Promise<void> {
  const client = localClient(endpoint);
  try {
    await ensureTable(client, LOCAL_TABLE_NAME);
    await seedDemoChapter(client, LOCAL_TABLE_NAME);
  } finally {
    client.destroy();
  }
}

function isListening(url: URL): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: url.hostname, port: Number(url.port || 80) });
    socket.setTimeout(500);
    socket.once('connect', () => resolve(true));
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => resolve(false));
    socket.once('close', () => socket.destroy());
    socket.once('connect', () => socket.end());
  });
}
