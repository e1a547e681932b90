/**
 * The embedded DynamoDB local runs and tests use: queries leave no storage iterator open (dynalite
 * 4.0.0 alone leaks one per Query; local/dynamodb.ts closes them).
 */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { messageRun, putMessages, startTestTable, type TestTable } from '../support/dynamodb';
import { countStorageResources } from '../support/storage-resources';

let table: TestTable;
let openResources: () => number;

beforeAll(async () => {
  openResources = countStorageResources();
  table = await startTestTable();
  await putMessages(table, 1, messageRun({ firstId: 1, count: 30, firstTime: 1_700_000_000, perSecond: 2 }));
});
afterAll(() => table.close());

test('100 queries of every kind leave no storage iterator open', async () => {
  const before = openResources();
  const queries = [
    { KeyConditionExpression: 'chapter_id = :c', ExpressionAttributeValues: { ':c': 1 } }, // reads to the end
    { KeyConditionExpression: 'chapter_id = :c', ExpressionAttributeValues: { ':c': 1 }, Limit: 3 }, // stops early
    { KeyConditionExpression: 'chapter_id = :c', ExpressionAttributeValues: { ':c': 99 } }, // empty
    { IndexName: 'by_create_time', KeyConditionExpression: 'chapter_id = :c AND create_time > :t', ExpressionAttributeValues: { ':c': 1, ':t': 1_700_000_005 }, Limit: 5 },
  ];
  for (let i = 0; i < 25; i++) {
    await Promise.all(queries.map((q) => table.db.send(new QueryCommand({ TableName: table.tableName, ...q }))));
  }
  // Closing is asynchronous: let it finish.
  await new Promise((resolve) => setTimeout(resolve, 50));
  expect(openResources() - before).toBe(0);
});
