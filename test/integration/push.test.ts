/**
 * Push end to end through the local server, as `npm start` serves it: real WebSocket clients
 * (local/push-client.ts, which follows the resume rule), the push handlers behind the local
 * WebSocket API, DynamoDB Local's stream read every 250 ms into the fan-out, posts through the
 * local management endpoint. Nothing is mocked.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Identity, Message } from '../../lambda/contract';
import { loadHandlers } from '../../local/handlers';
import { startLocalPush, type LocalPush } from '../../local/push';
import { PushClient, PushRefusedError } from '../../local/push-client';
import { createLocalServer } from '../../local/server';
import { configureHandlers } from '../support/chat-client';
import { chapterItems, startTestTable, type TestTable } from '../support/dynamodb';

const CHAPTER = 7;
const OTHER_CHAPTER = 8;
const SENDERS = [1, 2, 3, 4];
const SUBSCRIBERS = Array.from({ length: 20 }, (_, i) => 101 + i);
const LEAVER = 150;
const NON_MEMBER = 999;
const PER_SENDER = 30;
const TOTAL = SENDERS.length * PER_SENDER;

let table: TestTable;
let server: Server;
let push: LocalPush;
let apiUrl: string;
const clients: PushClient[] = [];

const user = (id: number): Identity => ({ user_id: id, user_type: 1, user_name: `user ${id}` });
const headersOf = (id: number) => ({ 'content-type': 'application/json', 'x-user-id': String(id), 'x-user-type': '1', 'x-user-name': encodeURIComponent(`user ${id}`) });

/** A call of the HTTP API; a 503 (retry-safe by contract: a busy machine's engine) is retried. */
async function post<T>(path: string, body: object, userId?: number): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    const response = await fetch(`${apiUrl}${path}`, { method: 'POST', headers: userId ? headersOf(userId) : { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const answer = (await response.json()) as { code: number; msg: string; data: T };
    if (answer.code === 200) return answer.data;
    if (answer.code !== 503 || attempt === 5) throw new Error(`${path} answered ${answer.code}: ${answer.msg}`);
    await pause(200 * attempt);
  }
}

/** The chapter's whole log by the exact poll, as a member reads it. */
async function fullLog(chapterId: number): Promise<Message[]> {
  const log: Message[] = [];
  for (;;) {
    const page = await post<{ list: Message[]; has_more: boolean }>('/message/find_group_chat', { id: chapterId, last_id: log.at(-1)?.id ?? 0, limit: 200 }, SENDERS[0]);
    log.push(...page.list);
    if (!page.has_more) return log;
  }
}

function client(userId: number, chapters = [CHAPTER]): PushClient {
  const c = new PushClient({ apiUrl, chapters, identity: user(userId) });
  clients.push(c);
  return c;
}

/** Waits for a condition the run must reach; fails with `what` if it does not within `ms` (a hang, not a timing assertion). */
async function until(what: () => string | undefined, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const missing = what();
    if (missing === undefined) return;
    if (Date.now() > deadline) throw new Error(`gave up waiting: ${missing}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  table = await startTestTable('push');
  configureHandlers(table);
  server = createLocalServer(await loadHandlers());
  push = await startLocalPush(server, table);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  await post('/admin/add_members', { id: CHAPTER, user_ids: [...SENDERS, ...SUBSCRIBERS, LEAVER] });
  await post('/admin/add_members', { id: OTHER_CHAPTER, user_ids: [SUBSCRIBERS[0]] });
});

afterAll(async () => {
  for (const c of clients) c.drop();
  await push?.close();
  await new Promise((resolve) => server?.close(resolve));
  await table?.close();
});

describe('push through the local server', () => {
  it('refuses at connect, with HTTP 403 and no socket, whoever is not a member of every chapter asked for or has no identity', async () => {
    await expect(client(NON_MEMBER).connect()).rejects.toEqual(new PushRefusedError(403));
    // A member of CHAPTER who is not one of OTHER_CHAPTER may not have both.
    await expect(client(SUBSCRIBERS[1], [CHAPTER, OTHER_CHAPTER]).connect()).rejects.toEqual(new PushRefusedError(403));
    const noIdentity = new PushClient({ apiUrl, chapters: [CHAPTER], identity: { token: 'not-a-header-identity' } });
    await expect(noIdentity.connect()).rejects.toEqual(new PushRefusedError(403));
    const tooMany = new PushClient({ apiUrl, chapters: Array.from({ length: 11 }, (_, i) => i + 1), identity: user(SUBSCRIBERS[0]) });
    await expect(tooMany.connect()).rejects.toEqual(new PushRefusedError(403));
    expect(push.connections.size).toBe(0);
    expect(await chapterItems(table, CHAPTER, 'sub#')).toEqual([]);
  });

  it('answers a ping with a pong', async () => {
    const c = client(SUBSCRIBERS[0], [CHAPTER, OTHER_CHAPTER]);
    await c.connect();
    await c.ping();
    expect(c.stats.pongs).toBe(1);
    await c.close();
  });

  it('4 senders, 20 subscribers (some reconnecting, one dropping and resuming), a leaver: every subscriber ends with the full log exactly once, in order; the leaver hears nothing after `unsubscribed`', async () => {
    const subscribers = SUBSCRIBERS.map((id) => client(id));
    const leaver = client(LEAVER);
    await Promise.all([...subscribers, leaver].map((c) => c.connect()));

    let sent = 0;
    const sending = Promise.all(
      SENDERS.map(async (sender) => {
        for (let i = 0; i < PER_SENDER; i += 1) {
          await post('/message/send_group_chat', { id: CHAPTER, msg_body: `from ${sender}: ${i}`, client_msg_id: `m-${sender}-${i}` }, sender);
          sent += 1;
          await pause(Math.random() * 20);
        }
      }),
    );
    const sentAtLeast = (n: number) => until(() => (sent >= n ? undefined : `${n} messages sent (${sent})`));

    // Meanwhile: reconnects, a drop, a leave.
    const dropped = subscribers[4];
    let newestAtLeave = 0;
    const disturbances = (async () => {
      await sentAtLeast(TOTAL * 0.2);
      await Promise.all(subscribers.slice(0, 4).map((c) => c.reconnect()));
      await sentAtLeast(TOTAL * 0.35);
      dropped.drop();
      await sentAtLeast(TOTAL * 0.5);
      await post('/message/leave_group_chat', { id: CHAPTER }, LEAVER);
      // Every message after this one was stored after the member item was deleted.
      newestAtLeave = (await fullLog(CHAPTER)).at(-1)!.id;
      await sentAtLeast(TOTAL * 0.65);
      await Promise.all(subscribers.slice(5, 8).map((c) => c.reconnect()));
    })();
    await Promise.all([sending, disturbances]);
    // The dropped subscriber comes back after the run and resumes from the last id it held.
    const heldWhenDropped = dropped.lastId(CHAPTER);
    expect(heldWhenDropped).toBeLessThan(TOTAL);
    await dropped.connect();

    const expected = await fullLog(CHAPTER);
    expect(expected.map((m) => m.id)).toEqual(Array.from({ length: TOTAL }, (_, i) => i + 1));
    await until(() => {
      const behind = subscribers.filter((c) => c.lastId(CHAPTER) < TOTAL);
      return behind.length === 0 ? undefined : `${behind.length} subscribers to hold all ${TOTAL} messages`;
    });
    await until(() => (leaver.unsubscribed.has(CHAPTER) ? undefined : 'the leaver to hear `unsubscribed`'));
    await Promise.all([...subscribers, leaver].map((c) => c.settled()));

    for (const c of subscribers) {
      expect(c.errors).toEqual([]);
      expect(c.log.get(CHAPTER)).toEqual(expected);
      // Not just polls: pushes delivered to each (a subscriber that never reconnected gets everything by push).
      expect(c.stats.pushed).toBeGreaterThan(0);
    }
    // The resumed one got everything it missed while away by the exact poll, from where it was.
    expect(dropped.stats.polled).toBeGreaterThanOrEqual(TOTAL - heldWhenDropped);

    // The leaver: a gap-free prefix of the log, nothing stored after its leave, nothing after `unsubscribed`.
    const leaverLog = leaver.log.get(CHAPTER)!;
    expect(leaverLog).toEqual(expected.slice(0, leaverLog.length));
    expect(leaverLog.length).toBeLessThanOrEqual(newestAtLeave);
    expect(leaver.stats.framesAfterUnsubscribed).toBe(0);
    expect((await chapterItems(table, CHAPTER, `sub#${LEAVER}#`)).length).toBe(0);

    // Everyone gone: $disconnect removed every subscription.
    await Promise.all([...subscribers, leaver].map((c) => c.close()));
    let left: unknown[] = [];
    await until(() => {
      void chapterItems(table, CHAPTER, 'sub#').then((items) => (left = items));
      return push.connections.size === 0 && left.length === 0 ? undefined : `${left.length} subscriptions to be deleted`;
    });
  });
});
