/**
 * The fan-out handler on DynamoDB Local, posting through the local management endpoint with the
 * real SDK client: order, gone connections, members cut off, partial failures reported as
 * batchItemFailures; and the stream filter patterns the stack and the local poller share.
 */
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { ENV, PUSH_FANOUT, PUSH_STREAM, type Message } from '../../lambda/contract';
import { subscriptionStoreFromEnv } from '../../lambda/data';
import type { SubscriptionStore } from '../../lambda/ports/push';
import { loadHandler } from '../../local/handlers';
import { lambdaContext } from '../../local/lambda-context';
import { LocalConnections } from '../../local/push/connections';
import { matchesAnyPattern, type FilterPattern } from '../../local/push/filter';
import { configureHandlers } from '../support/chat-client';
import { chapterItems, startTestTable, type TestTable } from '../support/dynamodb';

let table: TestTable;
let connections: LocalConnections;
let store: SubscriptionStore;
let fanOut: (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse>;
/** Frames each local connection received. */
const frames = new Map<string, unknown[]>();
const LONG_AGO = Date.now() - 10 * 60_000;

function open(connectionId: string, fails = false): void {
  frames.set(connectionId, []);
  connections.add(connectionId, {
    send: (data) => {
      if (fails) throw new Error('socket broken');
      frames.get(connectionId)!.push(JSON.parse(data));
    },
  });
}

async function subscribe(connectionId: string, userId: number, chapterId: number, connectedAt = LONG_AGO): Promise<void> {
  await table.store.addMembers(chapterId, [{ user_id: userId, joined_at: 1 }]);
  expect(await store.subscribe(connectionId, userId, [chapterId], connectedAt, Math.floor(Date.now() / 1000) + 3600)).toBe(true);
}

const message = (id: number): Message => ({ id, user_id: 1, user_type: 2, user_name: 'Ada', msg_body: `message ${id}`, create_time: 1_700_000_000 + id });
const S = (s: string) => ({ S: s });
const N = (n: number) => ({ N: String(n) });

function record(eventName: 'INSERT' | 'MODIFY' | 'REMOVE', chapterId: number, sk: string, seq: number, image?: Record<string, unknown>): DynamoDBRecord {
  const NewImage = image && Object.fromEntries(Object.entries(image).map(([k, v]) => [k, typeof v === 'number' ? N(v) : S(String(v))]));
  return {
    eventID: `e${seq}`,
    eventName,
    eventSource: 'aws:dynamodb',
    awsRegion: 'us-east-1',
    dynamodb: { Keys: { chapter_id: N(chapterId), sk: S(sk) }, ...(NewImage && { NewImage }), SequenceNumber: String(seq), StreamViewType: 'NEW_IMAGE' },
  } as DynamoDBRecord;
}

const insert = (chapterId: number, m: Message, seq: number) =>
  record('INSERT', chapterId, `msg#${String(m.id).padStart(16, '0')}`, seq, { chapter_id: chapterId, sk: `msg#${m.id}`, ...m, origin: '1#x', second_seq: 0 });
const memberRemoved = (chapterId: number, userId: number, seq: number) => record('REMOVE', chapterId, `member#${userId}`, seq);

const run = (...records: DynamoDBRecord[]) => fanOut({ Records: records });

beforeAll(async () => {
  table = await startTestTable('push-fanout');
  configureHandlers(table);
  connections = new LocalConnections();
  process.env[ENV.pushConnectionsEndpoint] = await connections.listen();
  store = subscriptionStoreFromEnv();
  const handler = await loadHandler(PUSH_FANOUT.entry);
  fanOut = (event) => (handler as unknown as (e: DynamoDBStreamEvent, c: unknown) => Promise<DynamoDBBatchResponse>)(event, lambdaContext(PUSH_FANOUT.id));
});

afterAll(async () => {
  await connections?.close();
  await table?.close();
});

describe('the push fan-out', () => {
  it('posts new messages to every subscription of their chapter, in id order; a 410 deletes the subscription unless its connect may still be under way', async () => {
    open('alive');
    await subscribe('alive', 1, 1);
    await subscribe('gone-long-ago', 2, 1);
    await subscribe('gone-just-now', 3, 1, Date.now()); // its $connect may not have returned: API Gateway answers 410 meanwhile
    await subscribe('elsewhere', 4, 2);
    open('elsewhere');

    expect(await run(insert(1, message(2), 11), insert(1, message(1), 10))).toEqual({ batchItemFailures: [] });

    expect(frames.get('alive')).toEqual([1, 2].map((id) => ({ type: 'message', chapter_id: 1, message: message(id) })));
    expect(frames.get('elsewhere')).toEqual([]);
    const left = (await chapterItems(table, 1, 'sub#')).map((item) => item.connection_id);
    expect(left.sort()).toEqual(['alive', 'gone-just-now']);
  });

  it('cuts off a member who left or was removed: subscriptions deleted, `unsubscribed` on each of their connections, then no message of the chapter', async () => {
    open('leaver-phone');
    open('leaver-laptop');
    open('stayer');
    await subscribe('leaver-phone', 5, 20);
    await subscribe('leaver-laptop', 5, 20);
    await subscribe('stayer', 6, 20);

    expect(await run(memberRemoved(20, 5, 30), insert(20, message(1), 31))).toEqual({ batchItemFailures: [] });

    for (const connection of ['leaver-phone', 'leaver-laptop']) expect(frames.get(connection)).toEqual([{ type: 'unsubscribed', chapter_id: 20 }]);
    expect(frames.get('stayer')).toEqual([{ type: 'message', chapter_id: 20, message: message(1) }]);
    expect((await chapterItems(table, 20, 'sub#')).map((item) => item.connection_id)).toEqual(['stayer']);
  });

  it('reports as batchItemFailures the records of a chapter it could not deliver (from the first failure on), and delivers the other chapters', async () => {
    open('broken', true); // the management endpoint answers 500 for it
    open('fine');
    await subscribe('broken', 7, 10);
    await subscribe('fine', 8, 11);

    const answer = await run(insert(10, message(1), 40), insert(11, message(1), 41), insert(10, message(2), 42));

    expect(answer.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(['40', '42']);
    expect(frames.get('fine')).toEqual([{ type: 'message', chapter_id: 11, message: message(1) }]);
    // Not gone, only failing: its subscription stays for the retry.
    expect(await chapterItems(table, 10, 'sub#')).toHaveLength(1);
  });

  it('ignores records that carry nothing for clients', async () => {
    open('quiet');
    await subscribe('quiet', 9, 30);
    const answer = await run(
      record('MODIFY', 30, 'presence', 50, { chapter_id: 30, sk: 'presence', member_count: 3 }),
      record('INSERT', 30, 'send#9#abc', 51, { chapter_id: 30, sk: 'send#9#abc', msg_id: 4 }),
      record('REMOVE', 30, 'sub#9#old', 52),
      record('MODIFY', 30, `msg#${'1'.padStart(16, '0')}`, 53, { chapter_id: 30, ...message(1) }),
    );
    expect(answer).toEqual({ batchItemFailures: [] });
    expect(frames.get('quiet')).toEqual([]);
  });
});

describe('the stream filter patterns (PUSH_STREAM, the stack and the local poller alike)', () => {
  const patterns = PUSH_STREAM.filterPatterns as unknown as FilterPattern[];
  it.each([
    ['a new message', true, insert(1, message(1), 1)],
    ['a member removed', true, memberRemoved(1, 5, 1)],
    ['a member added', false, record('INSERT', 1, 'member#5', 1, { chapter_id: 1, sk: 'member#5', user_id: 5 })],
    ['a presence update', false, record('MODIFY', 1, 'presence', 1, { member_count: 1 })],
    ['a send reservation', false, record('INSERT', 1, 'send#5#a', 1, { msg_id: 1 })],
    ['a subscription', false, record('INSERT', 1, 'sub#5#c', 1, { user_id: 5 })],
    ['a subscription expiring (TTL)', false, record('REMOVE', 1, 'sub#5#c', 1)],
  ])('%s → delivered: %p', (_what, delivered, r) => {
    expect(matchesAnyPattern(r, patterns)).toBe(delivered);
  });
});
