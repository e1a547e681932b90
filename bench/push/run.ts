/**
 * The push rows of `npm run bench` (bench/poll/run.ts prints them with the rest):
 * - delivery latency, from the send's answer to the receipt by push, with 100 connected
 *   subscribers, through `npm start -- --memory` (the push handlers, DynamoDB Local's stream read
 *   every 250 ms as Lambda reads a shard, posts through the local management endpoint);
 * - cost per connected idle user-month against a polling one (./cost.ts), from the messages a
 *   keep-alive and the polls a reconnect were counted to make here.
 */
import { PushClient } from '../../local/push-client';
import { startServer, stopServer } from '../poll/load';
import { summary } from '../poll/stats';
import { monthlyCost } from './cost';
import type { Row } from '../row';

const CHAPTER = 900;
const SENDER = 100_000;
const SUBSCRIBERS = 100;
const GOAL = { p50Ms: 200, p99Ms: 500, cheaper: 50 };


const identity = (id: number) => ({ user_id: id, user_type: 1, user_name: `user ${id}` });
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function post(url: string, path: string, body: object, userId?: number): Promise<unknown> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (userId) Object.assign(headers, { 'x-user-id': String(userId), 'x-user-type': '1', 'x-user-name': `user ${userId}` });
  const answer = (await (await fetch(`${url}${path}`, { method: 'POST', headers, body: JSON.stringify(body) })).json()) as { code: number; msg: string; data: unknown };
  if (answer.code !== 200) throw new Error(`${path} answered ${answer.code}: ${answer.msg}`);
  return answer.data;
}

export async function measurePush(messages: number, log: (message: string) => void): Promise<{ rows: Row[]; details: Record<string, unknown> }> {
  const { child, url } = await startServer();
  const clients: PushClient[] = [];
  try {
    const subscribers = Array.from({ length: SUBSCRIBERS }, (_, i) => i + 1);
    await post(url, '/admin/add_members', { id: CHAPTER, user_ids: [SENDER, ...subscribers.slice(0, 99)] });
    await post(url, '/admin/add_members', { id: CHAPTER, user_ids: subscribers.slice(99) });
    /** Receipt times by push, per message id; `waiting` is told when a message has reached every subscriber (event-driven, no busy wait beside the clients). */
    const receipts = new Map<number, number[]>();
    const held = new Map<number, number>();
    let waiting: { id: number; resolve: () => void } | undefined;
    for (const id of subscribers) {
      clients.push(
        new PushClient({
          apiUrl: url,
          chapters: [CHAPTER],
          identity: identity(id),
          onMessage: (_chapter, message, via) => {
            if (via === 'push') receipts.set(message.id, [...(receipts.get(message.id) ?? []), performance.now()]);
            held.set(message.id, (held.get(message.id) ?? 0) + 1);
            if (waiting?.id === message.id && held.get(message.id) === SUBSCRIBERS) waiting.resolve();
          },
        }),
      );
    }
    for (let i = 0; i < clients.length; i += 10) await Promise.all(clients.slice(i, i + 10).map((c) => c.connect()));
    log(`push: ${clients.length} subscribers connected`);

    const send = async (n: number) => {
      const message = (await post(url, '/message/send_group_chat', { id: CHAPTER, msg_body: `bench ${n}`, client_msg_id: `bench-${n}` }, SENDER)) as { id: number };
      const answered = performance.now();
      if ((held.get(message.id) ?? 0) < SUBSCRIBERS) {
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`push bench: message ${message.id} reached ${held.get(message.id) ?? 0} of ${SUBSCRIBERS} subscribers in 15 s`)), 15_000);
          waiting = { id: message.id, resolve: () => (clearTimeout(timer), resolve()) };
        });
      }
      return { id: message.id, answered };
    };
    for (let n = 0; n < 5; n += 1) await send(-1 - n); // warm-up: the handlers' first calls
    const latencies: number[] = [];
    let viaPoll = 0;
    for (let n = 0; n < messages; n += 1) {
      // Phases spread evenly over the stream poller's 250 ms beat (a low-discrepancy sequence: few
      // messages still sample it evenly), one message at a time.
      await pause(((n * 0.6180339887) % 1) * 250);
      const { id, answered } = await send(n);
      const times = receipts.get(id) ?? [];
      viaPoll += clients.length - times.length;
      latencies.push(...times.map((t) => t - answered));
    }
    const latency = summary(latencies);
    log(`push: ${messages} messages to ${clients.length} subscribers, p50 ${latency.p50.toFixed(0)} ms, p99 ${latency.p99.toFixed(0)} ms`);

    // An idle client: what its keep-alive and its reconnects (every 2 h) cost, counted here.
    const idle = clients[0];
    const pings = 20;
    const pongsBefore = idle.stats.pongs;
    for (let i = 0; i < pings; i += 1) await idle.ping();
    const messagesPerPing = (pings + idle.stats.pongs - pongsBefore) / pings;
    const pollsBefore = idle.stats.polls;
    await idle.reconnect();
    const pollsPerReconnect = idle.stats.polls - pollsBefore;
    const cost = monthlyCost({ messagesPerPing, pollsPerReconnect });
    const ratio = cost.polling / cost.push;
    const ratioAllIn = cost.polling / cost.pushAllIn;
    const usd = (x: number) => `$${x.toFixed(4)}`;

    const rows: Row[] = [
      {
        figure: `push delivery p50, send answer → receipt, ${clients.length} subscribers, ${messages} messages`,
        value: `${latency.p50.toFixed(0)} ms`,
        floor: '250 ms stream poll',
        ratio: '',
        goal: `≤ ${GOAL.p50Ms} ms`,
        met: latency.p50 <= GOAL.p50Ms ? 'yes' : `NO (+${(latency.p50 - GOAL.p50Ms).toFixed(0)} ms)`,
      },
      {
        figure: `push delivery p99, same`,
        value: `${latency.p99.toFixed(0)} ms`,
        floor: `max ${Math.max(...latencies).toFixed(0)} ms`,
        ratio: '',
        goal: `≤ ${GOAL.p99Ms} ms`,
        met: latency.p99 <= GOAL.p99Ms ? 'yes' : `NO (+${(latency.p99 - GOAL.p99Ms).toFixed(0)} ms)`,
      },
      {
        figure: 'push deliveries that needed a poll (gap) (info)',
        value: `${viaPoll} of ${messages * clients.length}`,
        floor: '',
        ratio: '',
        goal: '',
        met: '',
      },
      {
        figure: `idle user-month, push (WS connection-minutes + ${messagesPerPing} msg/ping + ${pollsPerReconnect} poll/reconnect) vs polling every 5 s`,
        value: usd(cost.push),
        floor: `polling ${usd(cost.polling)}`,
        ratio: `${ratio.toFixed(1)}× cheaper`,
        goal: `≥ ${GOAL.cheaper}× cheaper`,
        met: ratio >= GOAL.cheaper ? 'yes' : 'NO',
      },
      {
        figure: 'idle user-month, push all in: + Lambda behind authorizer/connect/disconnect, reconnect writes; ping is a mock (estimate, info)',
        value: usd(cost.pushAllIn),
        floor: `polling ${usd(cost.polling)}`,
        ratio: `${ratioAllIn.toFixed(1)}× cheaper`,
        goal: '',
        met: '',
      },
    ];
    return { rows, details: { subscribers: clients.length, messages, latencyMs: latency, viaPoll, measured: { messagesPerPing, pollsPerReconnect }, costUsd: cost } };
  } finally {
    // Closed cleanly, and their $disconnects given time to run, before the server and its database stop.
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await pause(1000);
    await stopServer(child);
  }
}
