/**
 * The demo chapter local runs start with: the seven messages and two members of the original API
 * page's example (../shared/seed), so `id=1&msg_time=0` answers that example.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Message } from '../lambda/contract';
import { writeHistory } from '../lambda/data';

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

/** Idempotent and non-destructive: writes only the demo items that do not exist yet; returns how many it wrote. */
export function seedDemoChapter(db: DynamoDBDocumentClient, tableName: string): Promise<number> {
  const members = [student, teacher].map((u) => ({ ...u, joined_at: JOINED_AT }));
  return writeHistory(db, tableName, DEMO_CHAPTER_ID, { messages: DEMO_MESSAGES, members }, { onlyAbsent: true });
}
