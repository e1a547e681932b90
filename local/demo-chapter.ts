/**
 * The demo chapter local runs start with: the seven messages and two members of the original API
 * page's example (../shared/seed), so `id=1&msg_time=0` answers that example.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { PRESENCE_SK, memberItem, messageItem, type Message, type PresenceItem } from '../lambda/data/table';

export const DEMO_CHAPTER_ID = 1;

const student = { user_id: 1, user_type: 3, user_name: '一宠三花迷(测试)' };
const teacher = { user_id: 4, user_type: 2, user_name: 'xxx' };

export const DEMO_MESSAGES: Message[] = [
  { id: 33, ...student, msg_body: '老师333', create_time: 1719283991 },
  { id: 34, ...student, msg_body: '老师444', create_time: 1719283994 },
  { id: 35, ...student, msg_body: '老师555', create_time: 1719283997 },
  { id: 36, ...teacher, msg_body: '013', create_time: 1719284000 },
  { id: 37, ...teacher, msg_body: '014', create_time: 1719284002 },
  { id: 38, ...teacher, msg_body: '015', create_time: 1719284005 },
  { id: 39, ...teacher, msg_body: '015', create_time: 1719287588 },
];

const JOINED_AT = 1719283900;

/** Idempotent and non-destructive: writes only the demo items that do not exist yet. */
export async function seedDemoChapter(db: DynamoDBDocumentClient, tableName: string): Promise<number> {
  const presence: PresenceItem = { chapter_id: DEMO_CHAPTER_ID, sk: PRESENCE_SK, member_count: 2, version: 2, count_version: 2 };
  const items = [
    ...DEMO_MESSAGES.map((m) => messageItem(DEMO_CHAPTER_ID, m)),
    ...[student, teacher].map((u) => memberItem(DEMO_CHAPTER_ID, { ...u, joined_at: JOINED_AT })),
    presence,
  ];
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
