/** Local engines get the table the stack deploys: both map the contract's one schema (the stack's side: test/infra/stack.test.ts). */
import { TABLE } from '../../lambda/contract';
import { createTableInput } from '../../lambda/data';

test("CreateTable maps the contract's schema: keys, attribute types, the by_create_time index and the stream", () => {
  const { partitionKey, sortKey, createTimeIndex } = TABLE;
  const key = (attribute: { name: string }, keyType: 'HASH' | 'RANGE') => ({ AttributeName: attribute.name, KeyType: keyType });
  expect(createTableInput('chat')).toEqual({
    TableName: 'chat',
    BillingMode: 'PAY_PER_REQUEST',
    KeySchema: [key(partitionKey, 'HASH'), key(sortKey, 'RANGE')],
    AttributeDefinitions: [partitionKey, sortKey, createTimeIndex.sortKey].map(({ name, type }) => ({ AttributeName: name, AttributeType: type })),
    LocalSecondaryIndexes: [
      { IndexName: createTimeIndex.name, KeySchema: [key(partitionKey, 'HASH'), key(createTimeIndex.sortKey, 'RANGE')], Projection: { ProjectionType: 'ALL' } },
    ],
    StreamSpecification: { StreamEnabled: true, StreamViewType: TABLE.streamViewType },
  });
  expect(createTableInput('chat', { stream: false }).StreamSpecification).toBeUndefined();
});
