/**
 * The floor: exactly the DynamoDB requests an idle poll needs, issued directly through a document
 * client built as the functions build theirs (createDocumentClient(dynamoDbConfig())), in parallel
 * where the handler issues them in parallel, and nothing else (no parsing, no envelope, no middy).
 *
 * What a poll needs depends on the configuration:
 *  - open (IDENTITY_SOURCE=headers): exact = the `msg#… presence` Query; legacy = the index Query
 *    and the presence GetItem;
 *  - jwt (production, issue 4: the caller must be a member): exact = that Query and a GetItem of
 *    `member#<uid>`; legacy = the index Query and one BatchGetItem of {presence, member#<uid>}.
 * The runner checks that the handler sends these very requests (same operations and parameters).
 */
import { BatchGetCommand, GetCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { PRESENCE_SK, TABLE, memberSk, messageSk } from '../lambda/data/table';

export type Auth = 'jwt' | 'open';
export type Mode = 'exact' | 'legacy';

export interface FloorPoll {
  chapterId: number;
  /** Exact mode: the id the client holds. */
  lastId?: number;
  /** Legacy mode: the create_time the client holds, and the newest second the poll may serve. */
  msgTime?: number;
  newestSecond?: number;
  /** Page size as the client asks (the handler reads one item more). */
  limit: number;
  /** The caller (jwt configuration); undefined in the open configuration. */
  userId?: number;
}

const { partitionKey, sortKey, createTimeIndex } = TABLE;
const key = (chapterId: number, sk: string) => ({ [partitionKey.name]: chapterId, [sortKey.name]: sk });

function exactQuery(tableName: string, p: FloorPoll): QueryCommand {
  return new QueryCommand({
    TableName: tableName,
    KeyConditionExpression: '#pk = :chapter AND #sk BETWEEN :from AND :presence',
    ExpressionAttributeNames: { '#pk': partitionKey.name, '#sk': sortKey.name },
    ExpressionAttributeValues: { ':chapter': p.chapterId, ':from': messageSk(p.lastId! + 1), ':presence': PRESENCE_SK },
    ConsistentRead: true,
    Limit: p.limit + 1,
  });
}

function legacyQuery(tableName: string, p: FloorPoll): QueryCommand {
  return new QueryCommand({
    TableName: tableName,
    IndexName: createTimeIndex.name,
    KeyConditionExpression: '#pk = :chapter AND #t BETWEEN :from AND :to',
    ExpressionAttributeNames: { '#pk': partitionKey.name, '#t': createTimeIndex.sortKey.name },
    ExpressionAttributeValues: { ':chapter': p.chapterId, ':from': p.msgTime! + 1, ':to': p.newestSecond! },
    ConsistentRead: true,
    Limit: p.limit + 1,
  });
}

const memberGet = (tableName: string, p: FloorPoll) =>
  new GetCommand({
    TableName: tableName,
    Key: key(p.chapterId, memberSk(p.userId!)),
    ConsistentRead: false,
    ProjectionExpression: '#sk',
    ExpressionAttributeNames: { '#sk': sortKey.name },
  });

const presenceGet = (tableName: string, p: FloorPoll) =>
  new GetCommand({ TableName: tableName, Key: key(p.chapterId, PRESENCE_SK), ProjectionExpression: 'member_count' });

const presenceAndMemberGet = (tableName: string, p: FloorPoll) =>
  new BatchGetCommand({
    RequestItems: {
      [tableName]: {
        Keys: [key(p.chapterId, PRESENCE_SK), key(p.chapterId, memberSk(p.userId!))],
        ProjectionExpression: '#sk, member_count',
        ExpressionAttributeNames: { '#sk': sortKey.name },
      },
    },
  });

/** Issues the requests of one idle poll and resolves when all have answered. */
export function floorPoll(db: DynamoDBDocumentClient, tableName: string, mode: Mode, p: FloorPoll): Promise<unknown> {
  const member = p.userId !== undefined;
  if (mode === 'exact') {
    const query = db.send(exactQuery(tableName, p));
    return member ? Promise.all([query, db.send(memberGet(tableName, p))]) : query;
  }
  return Promise.all([
    db.send(legacyQuery(tableName, p)),
    member ? db.send(presenceAndMemberGet(tableName, p)) : db.send(presenceGet(tableName, p)),
  ]);
}
