/**
 * The local database for `npm start` and `npm run invoke`: dynalite with the chat table and the
 * demo chapter, persisted under .local-data/ (git-ignored) unless in memory.
 */
import { mkdirSync } from 'node:fs';
import { connect } from 'node:net';
import path from 'node:path';
import { ENV } from '../lambda/contract';
import { seedDemoChapter } from './demo-chapter';
import { ensureTable, localClient, startDynalite } from './dynamodb';

// The AWS SDK warns about Node.js 20 on every client it builds; locally that is noise.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
// Metrics are CloudWatch's business: locally they would print one EMF line per request.
process.env[ENV.metricsDisabled] ??= 'true';

export const LOCAL_TABLE_NAME = 'group-chat-local';
export const DATA_DIR = path.resolve(__dirname, '..', '.local-data', 'dynalite');
export const DEFAULT_DYNAMODB_PORT = 8000;

export interface LocalDatabase {
  endpoint: string;
  tableName: string;
  /** Stops the embedded engine when this process started it. */
  close(): Promise<void>;
}

/** Starts dynalite (in memory, or persisted in DATA_DIR), creates the table and seeds the demo chapter. */
export async function startLocalDatabase(options: { memory: boolean; port: number; host?: string }): Promise<LocalDatabase> {
  if (!options.memory) mkdirSync(DATA_DIR, { recursive: true });
  const engine = await startDynalite({ path: options.memory ? undefined : DATA_DIR, port: options.port, host: options.host });
  await prepare(engine.endpoint);
  return { endpoint: engine.endpoint, tableName: LOCAL_TABLE_NAME, close: engine.close };
}

/** Uses a running local engine (DYNAMODB_ENDPOINT, or `npm start`'s), else starts one of its own. */
export async function openLocalDatabase(env: NodeJS.ProcessEnv = process.env): Promise<LocalDatabase> {
  const endpoint = env[ENV.dynamodbEndpoint] || `http://127.0.0.1:${env.DYNAMODB_PORT || DEFAULT_DYNAMODB_PORT}`;
  if (await isListening(new URL(endpoint))) {
    await prepare(endpoint);
    return { endpoint, tableName: LOCAL_TABLE_NAME, close: async () => undefined };
  }
  return startLocalDatabase({ memory: false, port: 0 });
}

/**
 * Configures the handlers (they read their settings at import) for a local run: the local database,
 * and identity from the x-user-* headers, which only local runs and open demo stacks trust.
 */
export function useLocalEnvironment(db: LocalDatabase): void {
  process.env[ENV.tableName] = db.tableName;
  process.env[ENV.dynamodbEndpoint] = db.endpoint;
  process.env[ENV.identitySource] = 'headers';
}

async function prepare(endpoint: string): Promise<void> {
  const client = localClient(endpoint);
  await ensureTable(client, LOCAL_TABLE_NAME);
  await seedDemoChapter(client, LOCAL_TABLE_NAME);
  client.destroy();
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
