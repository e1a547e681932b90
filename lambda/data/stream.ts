/**
 * The table's stream records (NEW_IMAGE) as the changes push acts on: a new message (INSERT of a
 * `msg#` item) and a member gone (REMOVE of a `member#` item: a leave or an admin removal). Other
 * records — presence updates, reservations, subscriptions, TTL deletions — carry nothing for
 * clients; the event source mapping's filter (PUSH_STREAM) keeps them away, and they are skipped here too.
 */
import type { AttributeValue, DynamoDBRecord } from 'aws-lambda';
import { TABLE } from '../contract';
import type { ChatChange } from '../ports/push';
import { messageFromItem } from './items';
import { isMessageSk, memberIdOfSk } from './keys';

/** A stream image's strings and numbers (the only types the items pushed carry). */
function plain(image: Record<string, AttributeValue> | undefined): Record<string, unknown> {
  const item: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(image ?? {})) item[name] = value.N !== undefined ? Number(value.N) : value.S;
  return item;
}

export function chatChangesFromStream(records: readonly DynamoDBRecord[]): ChatChange[] {
  const changes: ChatChange[] = [];
  for (const record of records) {
    const keys = plain(record.dynamodb?.Keys);
    const chapterId = keys[TABLE.partitionKey.name] as number;
    const sk = String(keys[TABLE.sortKey.name] ?? '');
    const ref = record.dynamodb?.SequenceNumber ?? '';
    if (record.eventName === 'INSERT' && isMessageSk(sk)) {
      changes.push({ kind: 'message', chapterId, message: messageFromItem(plain(record.dynamodb?.NewImage)), ref });
    } else if (record.eventName === 'REMOVE' && memberIdOfSk(sk) !== undefined) {
      changes.push({ kind: 'memberRemoved', chapterId, userId: memberIdOfSk(sk)!, ref });
    }
  }
  return changes;
}
