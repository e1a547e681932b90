/**
 * The embedded DynamoDB (dynalite) that local runs and tests use, and the table bootstrap that
 * creates the table from the same definition the CDK stack uses.
 */
import { CreateTableCommand, DescribeTableCommand, ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import dynalite from 'dynalite';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { ENV } from '../lambda/contract';
import { createDocumentClient, createTableInput, dynamoDbConfig } from '../lambda/data';

/** abstract-level, the storage layer under dynalite: the copy dynalite's memory-level loads. */
export function dynaliteStorageLevel(): { AbstractLevel: { prototype: object }; AbstractIterator: { prototype: object } } {
  const fromDynalite = createRequire(require.resolve('dynalite'));
  return createRequire(fromDynalite.resolve('memory-level'))('abstract-level');
}

/**
 * dynalite 4.0.0 ends its storage iterators with `iterator.return()`, which abstract-level 3's
 * iterators lack (they have `close()`): every Query left an iterator, and the 8 KB buffer it holds,
 * open for the life of the process (`npm run soak` found it: +50 % RSS in a minute of `npm start`).
 * Until dynalite is fixed, those iterators get a `return()` that closes them.
 */
function closeDynaliteIteratorsOnReturn(): void {
  const common = Object.getPrototypeOf(dynaliteStorageLevel().AbstractIterator.prototype) as { return?: unknown; close(): Promise<void> };
  if (!('return' in common)) {
    common.return = function (this: { close(): Promise<void> }) {
      return this.close();
    };
  }
}
closeDynaliteIteratorsOnReturn();

export interface EmbeddedDynamoDb {
  endpoint: string;
  close(): Promise<void>;
}

/**
 * Starts dynalite on 127.0.0.1 (or `host`: 0.0.0.0 lets `sam local invoke`'s container reach it). `path` keeps data in that folder (never share one folder between
 * two running instances: requests hang); omitted keeps it in memory. Port 0 picks a free port.
 */
export function startDynalite(options: { path?: string; port?: number; host?: string } = {}): Promise<EmbeddedDynamoDb> {
  const server = dynalite({ path: options.path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        endpoint: `http://127.0.0.1:${port}`,
        close: () => new Promise<void>((done) => server.close(() => done())),
      });
    });
  });
}

/** A document client for a local endpoint, configured as the functions configure theirs. */
export function localClient(endpoint: string): DynamoDBDocumentClient {
  return createDocumentClient(dynamoDbConfig({ [ENV.dynamodbEndpoint]: endpoint }));
}

/** Creates the chat table unless it exists. */
export async function ensureTable(db: DynamoDBDocumentClient, tableName: string): Promise<void> {
  try {
    await db.send(new DescribeTableCommand({ TableName: tableName }));
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
    await db.send(new CreateTableCommand(createTableInput(tableName)));
  }
}
