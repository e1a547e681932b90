/**
 * The push client's resume rule (local/push-client.ts), against a WebSocket server this test
 * drives frame by frame and an exact poll over a fixed log: duplicates dropped, a gap filled by
 * the exact poll, a (re)connect caught up from the last id held.
 */
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Message } from '../../lambda/contract';
import { PushClient } from '../../local/push-client';

const CHAPTER = 3;
const message = (id: number): Message => ({ id, user_id: 1, user_type: 2, user_name: 'Ada', msg_body: `m${id}`, create_time: 1_700_000_000 + id });
const pushed = (id: number) => JSON.stringify({ type: 'message', chapter_id: CHAPTER, message: message(id) });

let server: WebSocketServer;
let socket: Promise<WebSocket>;
/** The chapter's log as the exact poll sees it, and the polls made (last_id asked). */
let stored: Message[];
let polls: number[];

function newClient(lastIds?: Record<number, number>): PushClient {
  const port = (server.address() as AddressInfo).port;
  socket = new Promise((resolve) => server.once('connection', resolve));
  return new PushClient({
    apiUrl: 'http://unused',
    pushUrl: `ws://127.0.0.1:${port}/push`,
    chapters: [CHAPTER],
    identity: { user_id: 9, user_type: 1, user_name: 'Bo' },
    lastIds,
    poll: async (_chapterId, lastId) => {
      polls.push(lastId);
      const after = stored.filter((m) => m.id > lastId);
      return { list: after.slice(0, 2), has_more: after.length > 2 }; // pages of 2: has_more is followed
    },
  });
}

beforeEach(async () => {
  server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((resolve) => server.once('listening', resolve));
  stored = [1, 2, 3].map(message);
  polls = [];
});
afterEach(async () => {
  for (const ws of server.clients) ws.terminate();
  await new Promise((resolve) => server.close(resolve));
});

describe('the push client', () => {
  it('connects, then catches up by the exact poll until has_more is false, from the last id it holds', async () => {
    stored.push(message(4), message(5));
    const client = newClient({ [CHAPTER]: 1 });
    await client.connect();
    expect(polls).toEqual([1, 3]);
    expect(client.log.get(CHAPTER)!.map((m) => m.id)).toEqual([2, 3, 4, 5]);
    client.drop();
  });

  it('drops pushed messages it holds, takes the next one, and polls on a gap (the message after it included)', async () => {
    const client = newClient();
    await client.connect();
    const ws = await socket;
    stored.push(...[4, 5, 6, 7].map(message));
    ws.send(pushed(3)); // held already (from the connect's poll)
    ws.send(pushed(4)); // next
    ws.send(pushed(6)); // gap: 5 missed → exact poll from 4 brings 5, 6, 7
    ws.send(pushed(5)); // late: held by then
    ws.send(pushed(7));
    await until(() => client.stats.duplicatesDropped === 3);
    await client.settled();
    expect(client.log.get(CHAPTER)).toEqual([1, 2, 3, 4, 5, 6, 7].map(message));
    expect(client.stats).toMatchObject({ pushed: 1, gaps: 1, duplicatesDropped: 3 });
    expect(polls).toEqual([0, 2, 4, 6]);
    client.drop();
  });

  it('after `unsubscribed`, takes nothing more of that chapter', async () => {
    const client = newClient();
    await client.connect();
    const ws = await socket;
    stored.push(message(4));
    ws.send(JSON.stringify({ type: 'unsubscribed', chapter_id: CHAPTER }));
    ws.send(pushed(4));
    await until(() => client.stats.framesAfterUnsubscribed === 1);
    expect(client.log.get(CHAPTER)!.map((m) => m.id)).toEqual([1, 2, 3]);
    client.drop();
  });
});

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i += 1) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(condition()).toBe(true);
}
