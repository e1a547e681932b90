/** A COUNT Query over all its pages (operator tools only: its cost grows with what it counts). */
import { QueryCommand, type DynamoDBDocumentClient, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type { PageKey } from '../ports/chat-store';

export async function countItems(db: Pick<DynamoDBDocumentClient, 'send'>, input: Omit<QueryCommandInput, 'Select' | 'ExclusiveStartKey'>): Promise<number> {
  let count = 0;
  let startKey: PageKey | undefined;
  do {
    const out = await db.send(new QueryCommand({ ...input, Select: 'COUNT', ExclusiveStartKey: startKey }));
    count += out.Count ?? 0;
    startKey = out.LastEvaluatedKey;
  } while (startKey);
  return count;
}
