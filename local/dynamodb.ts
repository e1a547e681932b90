/**
 * The DynamoDB engine local runs and tests use — AWS's own DynamoDB Local (./dynamodb-local.ts), or
 * any engine named by DYNAMODB_ENDPOINT (moto, a sandbox account) — and the table bootstrap that
 * creates the table from the same schema the CDK stack deploys.
 */
import {
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  ListTablesCommand,
  ResourceInUseException,
  ResourceNotFoundException,
  waitUntilTableExists,
  waitUntilTableNotExists,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ENV } from '../lambda/contract';
import { createDocumentClient, createTableInput, dynamoDbConfig } from '../lambda/data';
import { startDynamoDbLocal } from './dynamodb-local';

export interface Engine {
  endpoint: string;
  /** Stops the engine when this process started it; a no-op for an engine named by DYNAMODB_ENDPOINT. */
  close(): Promise<void>;
}

/** A document client for an engine, configured as the functions configure theirs. */
export function localClient(endpoint: string): DynamoDBDocumentClient {
  return createDocumentClient(dynamoDbConfig({ ...process.env, [ENV.dynamodbEndpoint]: endpoint }));
}

/** Fails with one line when `endpoint` does not answer a ListTables request (never falls back to another engine). */
export async function requireAnswer(endpoint: string): Promise<void> {
  const config = dynamoDbConfig({ ...process.env, [ENV.dynamodbEndpoint]: endpoint });
  const client = createDocumentClient({ ...config, maxAttempts: 1, requestHandler: { connectionTimeout: 3000, requestTimeout: 5000 } });
  try {
    await client.send(new ListTablesCommand({ Limit: 1 }));
  } catch (error) {
    throw new EngineUnreachableError(`${ENV.dynamodbEndpoint}=${endpoint} does not answer: ${(error as Error).message || (error as Error).name}`);
  } finally {
    client.destroy();
  }
}

/** The engine cannot be reached; `message` is one line that says which and why. */
export class EngineUnreachableError extends Error {
  override name = 'EngineUnreachableError';
}

/**
 * The engine named by DYNAMODB_ENDPOINT if set (it must answer), else a DynamoDB Local of our own:
 * in memory, or with its data in `dbPath`.
 */
export async function openEngine(options: { dbPath?: string; port?: number } = {}, env: NodeJS.ProcessEnv = process.env): Promise<Engine> {
  const external = env[ENV.dynamodbEndpoint];
  if (external) {
    await requireAnswer(external);
    return { endpoint: external, close: async () => undefined };
  }
  const engine = await startDynamoDbLocal({ dbPath: options.dbPath, port: options.port });
  return { endpoint: engine.endpoint, close: engine.close };
}

/** Creates the chat table unless it exists, and waits until it is ACTIVE (instant locally, seconds on AWS). */
export async function ensureTable(db: DynamoDBDocumentClient, tableName: string, options: { stream?: boolean } = {}): Promise<void> {
  try {
    await db.send(new DescribeTableCommand({ TableName: tableName }));
    return;
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
  }
  try {
    await db.send(new CreateTableCommand(createTableInput(tableName, options)));
  } catch (error) {
    // A first attempt that timed out (a cold engine's first CreateTable can take over a second) created it.
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  await waitUntilTableExists({ client: db as unknown as DynamoDBClient, maxWaitTime: 120, minDelay: 1 }, { TableName: tableName });
}

/** Deletes the table and waits until it is gone; a missing table is fine. */
export async function deleteTable(db: DynamoDBDocumentClient, tableName: string): Promise<void> {
  try {
    await db.send(new DeleteTableCommand({ TableName: tableName }));
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return;
    throw error;
  }
  await waitUntilTableNotExists({ client: db as unknown as DynamoDBClient, maxWaitTime: 120, minDelay: 1 }, { TableName: tableName });
}
