/**
 * The chat table: its keys, its index, the key encoding and the item shapes.
 *
 * This is the one place that knows how items are laid out. The CDK stack, the local bootstrap,
 * the data-access module and the tests all take the table definition from here; nothing else
 * builds a key string.
 *
 * Items of one chapter (partition `chapter_id`) sort as `member#…` < `msg#…` < `presence`, so one
 * Query `sk BETWEEN msg#<first wanted id> AND presence` returns new messages and the presence item.
 */
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

export const TABLE = {
  partitionKey: { name: 'chapter_id', type: 'N' },
  sortKey: { name: 'sk', type: 'S' },
  /** Local secondary index for legacy polls by `create_time`; only message items carry it. */
  createTimeIndex: { name: 'by_create_time', sortKey: { name: 'create_time', type: 'N' } },
  /** Epoch seconds after which DynamoDB's TTL may delete the item (send reservations only). */
  timeToLiveAttribute: 'expires_at',
} as const;

/** The CreateTable request for local engines (dynalite); the CDK stack maps the same TABLE. */
export function createTableInput(tableName: string): CreateTableCommandInput {
  const { partitionKey, sortKey, createTimeIndex } = TABLE;
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
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

// ---- key encoding -------------------------------------------------------------------------------

const MESSAGE_PREFIX = 'msg#';
const MEMBER_PREFIX = 'member#';
const SEND_PREFIX = 'send#';
/** Width of the zero-padded message id: Number.MAX_SAFE_INTEGER has 16 digits. */
const MESSAGE_ID_DIGITS = 16;

export const PRESENCE_SK = 'presence';
export const messageSk = (id: number): string => MESSAGE_PREFIX + String(id).padStart(MESSAGE_ID_DIGITS, '0');
export const memberSk = (userId: number): string => MEMBER_PREFIX + String(userId);
/** Sorts after `presence`, so reservations never fall inside a poll's `msg#… presence` range. */
export const sendReservationSk = (userId: number, clientMsgId: string): string => `${SEND_PREFIX}${userId}#${clientMsgId}`;
export const MEMBER_SK_PREFIX = MEMBER_PREFIX;
export const MESSAGE_SK_PREFIX = MESSAGE_PREFIX;
export const isMessageSk = (sk: string): boolean => sk.startsWith(MESSAGE_PREFIX);

// ---- item shapes --------------------------------------------------------------------------------

/** A message as the API returns it: exactly the seed contract's fields, in its order. */
export interface Message {
  id: number;
  user_id: number;
  user_type: number;
  user_name: string;
  msg_body: string;
  create_time: number;
}

export interface MessageItem extends Message {
  chapter_id: number;
  sk: string;
  /** Which send wrote it: `<user_id>#<client_msg_id>`, or a one-off token. Never returned. */
  origin?: string;
  /** How many earlier messages share its create_time (bounds a legacy page). Never returned. */
  second_seq?: number;
}

/**
 * A send with a `client_msg_id` claims ids through this item: every attempt of that send (a retry
 * of the whole call included) tries the same candidate id, so at most one message is stored for it.
 */
export interface SendReservationItem {
  chapter_id: number;
  sk: string;
  /** The id this send is trying to store its message at (or stored it at). */
  msg_id: number;
  expires_at: number;
}

export interface MemberItem {
  chapter_id: number;
  sk: string;
  user_id: number;
  user_type: number;
  user_name: string;
  joined_at: number;
}

export interface PresenceItem {
  chapter_id: number;
  sk: typeof PRESENCE_SK;
  member_count: number;
  /** Bumped (atomic ADD) by every join and leave. */
  version: number;
  /** The `version` the stored `member_count` was counted at; only a newer count replaces it. */
  count_version: number;
}

export function messageItem(chapterId: number, message: Message, internal: Pick<MessageItem, 'origin' | 'second_seq'> = {}): MessageItem {
  return { chapter_id: chapterId, sk: messageSk(message.id), ...message, ...internal };
}

/** The API view of a stored message item: the six contract fields, nothing internal. */
export function messageFromItem(item: Partial<MessageItem> | Record<string, unknown>): Message {
  return {
    id: item.id as number,
    user_id: item.user_id as number,
    user_type: item.user_type as number,
    user_name: item.user_name as string,
    msg_body: item.msg_body as string,
    create_time: item.create_time as number,
  };
}

export function memberItem(chapterId: number, member: Omit<MemberItem, 'chapter_id' | 'sk'>): MemberItem {
  return { chapter_id: chapterId, sk: memberSk(member.user_id), ...member };
}
