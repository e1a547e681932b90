/**
 * Writes a chapter's history as if it had been sent: messages with their own ids and times, members,
 * and the member_count of those members. For seeding local runs, tests and benchmarks (never on a
 * request path).
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Message } from '../contract';
import type { Member } from '../ports/chat-store';
import { memberItem, messageItem, presenceItem } from './items';
import { messageLog } from './message-log';
import { TableAccess } from './table-access';

export interface ChapterHistory {
  messages?: readonly Message[];
  /** When given, the chapter's member_count is set to their number. */
  members?: readonly Member[];
}

/** BatchWriteItem's most items per request. */
const BATCH_SIZE = 25;

function historyItems(chapterId: number, history: ChapterHistory): Record<string, unknown>[] {
  const { messages = [], members } = history;
  return [
    ...messages.map((m) => ({ ...messageItem(chapterId, m) })),
    ...(members ?? []).map((m) => ({ ...memberItem(chapterId, m) })),
    ...(members ? [{ ...presenceItem(chapterId, members.length) }] : []),
  ];
}

/**
 * Overwrites what is there, in batches (`parallel` batches in flight; items DynamoDB leaves
 * unprocessed are sent again). With `onlyAbsent`, writes one item at a time and keeps every item
 * that exists already (idempotent and non-destructive): the number written is returned. The newest
 * message is recorded last, as a send records it, so that polls read the messages.
 */
export async function writeHistory(
  db: DynamoDBDocumentClient,
  tableName: string,
  chapterId: number,
  history: ChapterHistory,
  { onlyAbsent = false, parallel = 4 } = {},
): Promise<number> {
  const written = await writeItems(db, tableName, historyItems(chapterId, history), onlyAbsent, parallel);
  const newest = history.messages?.length ? history.messages.reduce((a, b) => (b.id > a.id ? b : a)) : undefined;
  if (newest) await messageLog(new TableAccess({ db, stampedWrites: db }, tableName)).recordNewest(chapterId, newest);
  return written;
}

async function writeItems(db: DynamoDBDocumentClient, tableName: string, items: Record<string, unknown>[], onlyAbsent: boolean, parallel: number): Promise<number> {
  if (onlyAbsent) {
    let written = 0;
    for (const Item of items) {
      try {
        await db.send(new PutCommand({ TableName: tableName, Item, ConditionExpression: 'attribute_not_exists(sk)' }));
        written++;
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    }
    return written;
  }
  const batches: Record<string, unknown>[][] = [];
  for (let i = 0; i < items.length; i += BATCH_SIZE) batches.push(items.slice(i, i + BATCH_SIZE));
  let next = 0;
  const writeBatches = async () => {
    while (next < batches.length) {
      let requests = batches[next++].map((Item) => ({ PutRequest: { Item } }));
      while (requests.length > 0) {
        const out = await db.send(new BatchWriteCommand({ RequestItems: { [tableName]: requests } }));
        requests = (out.UnprocessedItems?.[tableName] ?? []) as typeof requests;
      }
    }
  };
  await Promise.all(Array.from({ length: parallel }, writeBatches));
  return items.length;
}
