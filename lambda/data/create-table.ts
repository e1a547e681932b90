/**
 * The CreateTable request for other engines (DynamoDB Local, moto, a sandbox account), mapped from the
 * one schema. `stream: false` leaves the table's stream off: the tests' tables, which push does not
 * read (local/push enables the stream of a table it serves). DynamoDB Local keeps every stream record,
 * of deleted tables too, and its writes slow down as they pile up (measured: a send-heavy suite after
 * two write-heavy ones took 49 s without streams, and ran over its timeouts with them).
 */
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { TABLE } from '../contract';

export function createTableInput(tableName: string, { stream = true } = {}): CreateTableCommandInput {
  const { partitionKey, sortKey, createTimeIndex, streamViewType } = TABLE;
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    ...(stream && { StreamSpecification: { StreamEnabled: true, StreamViewType: streamViewType } }),
    AttributeDefinitions: [
      { AttributeName: partitionKey.name, AttributeType: partitionKey.type },
      { AttributeName: sortKey.name, AttributeType: sortKey.type },
      { AttributeName: createTimeIndex.sortKey.name, AttributeType: createTimeIndex.sortKey.type },
    ],
    KeySchema: [
      { AttributeName: partitionKey.name, KeyType: 'HASH' },
      { AttributeName: sortKey.name, KeyType: 'RANGE' },
    ],
    LocalSecondaryIndexes: [
      {
        IndexName: createTimeIndex.name,
        KeySchema: [
          { AttributeName: partitionKey.name, KeyType: 'HASH' },
          { AttributeName: createTimeIndex.sortKey.name, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
    ],
  };
}
