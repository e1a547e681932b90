/**
 * The repair of member_count for the rare drift (a manual edit, a restore): counts a chapter's member
 * items and stores that count — only if no join or leave changed the members meanwhile
 * (`member_changes`, bumped by every change, is the same before and after the count); otherwise it
 * counts again. An operator's tool (`npm run repair-members`), never on a request path: its cost
 * grows with the chapter (a strongly consistent COUNT Query, about 1 RCU per 4 KB of member items).
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, ScanCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { TABLE } from '../contract';
import type { PageKey } from '../ports/chat-store';
import { countItems } from './count';
import { MEMBER_SK_PREFIX, PRESENCE_SK, itemKey } from './keys';

const { partitionKey, sortKey } = TABLE;
const MAX_RECOUNTS = 10;

export interface Recount {
  chapterId: number;
  /** member_count before the repair (0 when the chapter had no presence item). */
  before: number;
  /** The number of member items, now stored as member_count. */
  after: number;
}

function countMemberItems(db: DynamoDBDocumentClient, tableName: string, chapterId: number): Promise<number> {
  return countItems(db, {
    TableName: tableName,
    KeyConditionExpression: '#pk = :chapter AND begins_with(#sk, :member)',
    ExpressionAttributeNames: { '#pk': partitionKey.name, '#sk': sortKey.name },
    ExpressionAttributeValues: { ':chapter': chapterId, ':member': MEMBER_SK_PREFIX },
    ConsistentRead: true,
  });
}

/** Recounts one chapter's members and stores the count (see above). */
export async function recountMembers(db: DynamoDBDocumentClient, tableName: string, chapterId: number): Promise<Recount> {
  const key = itemKey(chapterId, PRESENCE_SK);
  for (let attempt = 1; attempt <= MAX_RECOUNTS; attempt++) {
    const presence = (await db.send(new GetCommand({ TableName: tableName, Key: key, ConsistentRead: true }))).Item;
    const changes = presence?.member_changes as number | undefined;
    const count = await countMemberItems(db, tableName, chapterId);
    try {
      await db.send(
        new UpdateCommand({
          TableName: tableName,
          Key: key,
          UpdateExpression: 'SET member_count = :count',
          ConditionExpression: changes === undefined ? 'attribute_not_exists(member_changes)' : 'member_changes = :changes',
          ExpressionAttributeValues: { ':count': count, ...(changes !== undefined && { ':changes': changes }) },
        }),
      );
      return { chapterId, before: (presence?.member_count as number | undefined) ?? 0, after: count };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }
  throw new Error(`chapter ${chapterId}: members kept changing during ${MAX_RECOUNTS} recounts; try again when it is quieter`);
}

/** Every chapter that has a presence item or a member (one Scan of the keys; for a repair of all chapters). */
export async function* chaptersWithMembers(db: DynamoDBDocumentClient, tableName: string): AsyncGenerator<number> {
  const seen = new Set<number>();
  let startKey: PageKey | undefined;
  do {
    const out = await db.send(
      new ScanCommand({
        TableName: tableName,
        ProjectionExpression: '#pk, #sk',
        FilterExpression: '#sk = :presence OR begins_with(#sk, :member)',
        ExpressionAttributeNames: { '#pk': partitionKey.name, '#sk': sortKey.name },
        ExpressionAttributeValues: { ':presence': PRESENCE_SK, ':member': MEMBER_SK_PREFIX },
        ExclusiveStartKey: startKey,
      }),
    );
    for (const item of out.Items ?? []) {
      const chapterId = item[partitionKey.name] as number;
      if (!seen.has(chapterId)) {
        seen.add(chapterId);
        yield chapterId;
      }
    }
    startKey = out.LastEvaluatedKey;
  } while (startKey);
}
