/**
 * Every accepted message delivered exactly once, in order: 8 concurrent senders post 504 messages
 * into one chapter while 4 pollers poll it (two in exact mode with last_id, two in legacy mode with
 * msg_time, each always sending what the previous response told it). Then the same with faults
 * injected between the SDK and DynamoDB Local at the HTTP level, so the SDK's own retries run, and with
 * senders that give up half-way and retry the whole call with the same client_msg_id.
 */
import type { Message } from '../../lambda/contract';
import { createChatStore, dynamoDbConfig } from '../../lambda/data';
import { ChatBusyError, SendUnsettledError } from '../../lambda/domain/errors';
import type { ChatStore } from '../../lambda/ports/chat-store';
import { StorageUnavailableError } from '../../lambda/ports/errors';
import { findGroupChat, newestServableSecond } from '../../lambda/domain/find-group-chat';
import { sendGroupChat } from '../../lambda/domain/send-group-chat';
import { lambdaContext } from '../../local/lambda-context';
import { call, eventFor } from '../support/api';
import { chatClient, handlersFor, identityHeaders, type Handlers } from '../support/chat-client';
import { crashingStore, InjectedCrash } from '../support/crash';
import { startTestTable, type TestTable } from '../support/dynamodb';
import { randomFaults, startFaultProxy, type FaultCounts, type FaultProxy } from '../support/fault-proxy';
import { seededRandom } from '../support/random';

const SENDERS = 8;
const MESSAGES_PER_SENDER = 63; // 504 in all
const POLLERS = { exact: 2, legacy: 2 };

let table: TestTable;
let proxy: FaultProxy;
let handlers: Handlers;
/** A store that goes through the proxy too, for the senders whose calls crash half-way. */
let proxiedStore: ChatStore;

beforeAll(async () => {
  table = await startTestTable();
  proxy = await startFaultProxy(table.endpoint);
  handlers = await handlersFor(table, proxy.endpoint);
  proxiedStore = createChatStore(dynamoDbConfig({ DYNAMODB_ENDPOINT: proxy.endpoint }), table.tableName);
});
afterAll(async () => {
  await proxy.close();
  await table.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const user = (i: number) => ({ user_id: 500 + i, user_type: 2, user_name: `sender ${i}` });

interface Options {
  chapterId: number;
  /** Client retries of whole calls: on a 5xx answer (faults) the same call is sent again. */
  faults: boolean;
  /** Chance that a send is abandoned half-way (in flight, or crashed after a step) and retried with its client_msg_id. */
  abandonRate?: number;
  seed: number;
}

interface Outcome {
  accepted: Map<string, Message>;
  pollers: { mode: 'last_id' | 'msg_time'; received: Message[]; polls: number; unavailable: number }[];
  clientRetries: number;
  abandoned: { inFlight: number; crashed: number };
}

async function runChat(options: Options): Promise<Outcome> {
  const random = seededRandom(options.seed);
  const { chapterId } = options;
  const outcome: Outcome = { accepted: new Map(), pollers: [], clientRetries: 0, abandoned: { inFlight: 0, crashed: 0 } };

  /**
   * A client repeats a call that answered 503 (retry-safe by contract: a loaded machine can answer it
   * without injected faults too): joins, and sends, which always carry a client_msg_id.
   * Anything else must be a 200.
   */
  async function untilAccepted<T>(call: () => Promise<{ status: number; body: { data: T | null; msg: string } }>): Promise<T> {
    for (let attempt = 0; attempt < 50; attempt++) {
      const { status, body } = await call();
      if (status === 200) return body.data as T;
      if (status !== 503 && !(options.faults && status === 500)) throw new Error(`unexpected ${status}: ${body.msg}`);
      outcome.clientRetries++;
    }
    throw new Error('a call never got through');
  }

  const senders = Array.from({ length: SENDERS }, (_, i) => ({ identity: user(i), client: chatClient(handlers, user(i)) }));
  for (const { client } of senders) await untilAccepted(() => client.join(chapterId));

  let sendersDone = false;
  let aborted = false;
  const pollerRuns = [
    ...Array.from({ length: POLLERS.exact }, () => 'last_id' as const),
    ...Array.from({ length: POLLERS.legacy }, () => 'msg_time' as const),
  ].map(async (mode) => {
    const poller = { mode, received: [] as Message[], polls: 0, unavailable: 0 };
    outcome.pollers.push(poller);
    const client = chatClient(handlers, user(100));
    let cursor = 0;
    let caughtUpAfterSenders = false;
    while (!caughtUpAfterSenders && !aborted) {
      const finalRound = sendersDone; // read before the poll: a poll that starts after the senders ended
      const { status, body } = await client.poll({ id: chapterId, [mode]: cursor, limit: 50 });
      poller.polls++;
      if (status === 503) {
        poller.unavailable++;
        continue;
      }
      if (status !== 200) throw new Error(`poll answered ${status}: ${body.msg}`);
      const page = body.data!;
      poller.received.push(...page.list);
      const last = page.list.at(-1);
      if (last) cursor = mode === 'last_id' ? last.id : last.create_time;
      caughtUpAfterSenders = finalRound && !page.has_more;
      if (!page.has_more) await sleep(5 + random() * 20);
    }
  });

  const senderRuns = Promise.all(
    senders.map(async ({ identity, client }, s) => {
      for (let m = 0; m < MESSAGES_PER_SENDER; m++) {
        const key = `s${s}-m${m}`;
        const clientMsgId = key;
        const send = () => client.send(chapterId, `body of ${key}`, clientMsgId);
        let message: Message;
        const abandon = random() < (options.abandonRate ?? 0);
        if (abandon && random() < 0.5) {
          // Gives up on a call still in flight and sends it again: both race, one message results.
          outcome.abandoned.inFlight++;
          const original = send();
          await sleep(random() * 5);
          message = await untilAccepted(send);
          const first = await original;
          if (first.status === 200) expect(first.body.data).toEqual(message);
        } else if (abandon) {
          // The call dies after one of its steps (its writes applied), then the client retries it.
          outcome.abandoned.crashed++;
          const steps = ['isMember', 'lastMessage', 'reserveIdIfAbsent', 'putMessageIfAbsent'];
          const crashAfter = steps[Math.floor(random() * steps.length)];
          await sendGroupChat(crashingStore(proxiedStore, (method) => method === crashAfter), {
            chapterId,
            sender: identity,
            body: `body of ${key}`,
            clientMsgId,
          }).catch((error) => {
            // The client gave up on this call; a crash, a fault or a 503 of its own makes no difference
            // to what follows: the retry must end with exactly one message.
            if (!(error instanceof InjectedCrash || error instanceof ChatBusyError || error instanceof SendUnsettledError || error instanceof StorageUnavailableError)) throw error;
          });
          message = await untilAccepted(send);
        } else {
          message = await untilAccepted(send);
        }
        expect(message.msg_body).toBe(`body of ${key}`);
        outcome.accepted.set(key, message);
      }
    }),
  );
  try {
    await senderRuns;
  } catch (error) {
    aborted = true;
    await Promise.allSettled(pollerRuns);
    throw error;
  }
  // Legacy pollers may see a message only once its second has passed plus the margin; above
  // MAX_MESSAGES_PER_SECOND a second, create_time runs ahead of the clock, so wait for the newest one's second.
  const newestTime = Math.max(...[...outcome.accepted.values()].map((m) => m.create_time));
  while (newestServableSecond(Date.now()) < newestTime) await sleep(100);
  await sleep(200);
  sendersDone = true;
  await Promise.all(pollerRuns);
  return outcome;
}

/** What every run must satisfy, faults or not. */
async function expectExactlyOnceInOrder(outcome: Outcome, chapterId: number) {
  const total = SENDERS * MESSAGES_PER_SENDER;
  const range = Array.from({ length: total }, (_, i) => i + 1);
  // Every call was accepted once, with its own id; the ids are dense.
  expect(outcome.accepted.size).toBe(total);
  expect([...outcome.accepted.values()].map((m) => m.id).sort((a, b) => a - b)).toEqual(range);

  // The stored log (read without faults): each accepted message once, in id order, create_time never decreasing.
  const log: Message[] = [];
  for (let lastId = 0, more = true; more; ) {
    const page = await findGroupChat(table.store, { chapterId, cursor: { lastId }, limit: 200 });
    log.push(...page.list);
    lastId = page.list.at(-1)?.id ?? lastId;
    more = page.has_more;
  }
  expect(log.map((m) => m.id)).toEqual(range);
  for (const message of outcome.accepted.values()) expect(log[message.id - 1]).toEqual(message);
  for (let i = 1; i < log.length; i++) expect(log[i].create_time).toBeGreaterThanOrEqual(log[i - 1].create_time);

  // Every poller holds every accepted message exactly once, in id order.
  for (const poller of outcome.pollers) {
    expect({ mode: poller.mode, ids: poller.received.map((m) => m.id) }).toEqual({ mode: poller.mode, ids: range });
    expect(poller.received).toEqual(log);
  }
}

function describeRun(name: string, outcome: Outcome, faults?: FaultCounts) {
  const polls = outcome.pollers.map((p) => `${p.mode}: ${p.polls} polls${p.unavailable ? ` (${p.unavailable} × 503)` : ''}`);
  console.info(
    `${name}: ${outcome.accepted.size} messages from ${SENDERS} senders; ${polls.join(', ')}; ` +
      `client retries ${outcome.clientRetries}; abandoned in flight ${outcome.abandoned.inFlight}, crashed ${outcome.abandoned.crashed}` +
      (faults ? `; injected faults ${JSON.stringify(faults)}` : ''),
  );
}

it('delivers 504 messages from 8 concurrent senders exactly once, in order, to 4 pollers', async () => {
  proxy.setPlan(undefined);
  const outcome = await runChat({ chapterId: 1, faults: false, abandonRate: 0.05, seed: 1 });
  describeRun('no faults', outcome);
  await expectExactlyOnceInOrder(outcome, 1);
}, 180_000);

it('loses and doubles nothing with faults between the SDK and DynamoDB and senders that give up half-way', async () => {
  proxy.resetCounts();
  // Writes: lost answers of applied writes, 500s, throttling, resets and timeouts before a write
  // is applied. Reads: the same minus lost answers (a lost read is a reset to the SDK).
  const writes = randomFaults(0.08, ['lost-response', 'lost-response', 'server-error', 'throttle', 'reset-before', 'timeout-before'], {
    operations: ['PutItem', 'UpdateItem', 'DeleteItem'],
    seed: 7,
  });
  const reads = randomFaults(0.03, ['server-error', 'provisioned-throughput', 'reset-before'], { operations: ['Query', 'GetItem'], seed: 8 });
  proxy.setPlan((request) => writes(request) ?? reads(request));
  const outcome = await runChat({ chapterId: 2, faults: true, abandonRate: 0.05, seed: 2 });
  proxy.setPlan(undefined);
  const faults = proxy.counts();
  describeRun('with faults', outcome, faults);
  await expectExactlyOnceInOrder(outcome, 2);
  for (const kind of ['lost-response', 'server-error', 'throttle', 'reset-before', 'timeout-before', 'provisioned-throughput'] as const) {
    expect(faults[kind]).toBeGreaterThan(0);
  }
  expect(outcome.abandoned.inFlight + outcome.abandoned.crashed).toBeGreaterThan(10);
}, 180_000);

it('recognises its own message when a put was applied but its answer lost', async () => {
  const alice = chatClient(handlers, user(0));
  await alice.join(3);
  let lost = 0;
  proxy.setPlan((request) => {
    const item = (request.body as { Item?: { sk?: { S?: string } } }).Item;
    return request.operation === 'PutItem' && item?.sk?.S?.startsWith('msg#') && request.attempt === 1 ? (lost++, 'lost-response') : undefined;
  });
  const sent = [];
  for (let i = 0; i < 5; i++) sent.push((await alice.send(3, `m${i}`)).body.data!);
  proxy.setPlan(undefined);
  expect(lost).toBe(5);
  expect(sent.map((m) => m.id)).toEqual([1, 2, 3, 4, 5]);
  const page = await findGroupChat(table.store, { chapterId: 3, cursor: { lastId: 0 }, limit: 100 });
  expect(page.list).toEqual(sent);
});

describe('a send answers the truth', () => {
  const msgItems = async (chapterId: number) =>
    (await findGroupChat(table.store, { chapterId, cursor: { lastId: 0 }, limit: 100 })).list;

  it('when its put landed but the answer was lost and the check failed too: a 503 that says to retry with the same client_msg_id, and the retry returns the stored message', async () => {
    const alice = chatClient(handlers, user(0));
    await alice.join(30);
    proxy.setPlan((request) => {
      const key = JSON.stringify(request.body);
      if (request.operation === 'PutItem' && key.includes('"msg#')) return 'lost-response'; // applied, answer lost
      if (request.operation === 'GetItem' && key.includes('"msg#')) return 'server-error'; // the check whether it landed
      return undefined;
    });
    const first = await alice.send(30, 'did it land?', 'settle-1');
    proxy.setPlan(undefined);
    expect({ status: first.status, body: first.body }).toEqual({
      status: 503,
      body: { code: 503, msg: 'the message could not be confirmed; retry with the same client_msg_id', data: null },
    });
    const stored = await msgItems(30);
    expect(stored.map((m) => m.msg_body)).toEqual(['did it land?']);
    const retry = await alice.send(30, 'did it land?', 'settle-1');
    expect(retry.body.data).toEqual(stored[0]);
    expect(await msgItems(30)).toEqual(stored);
  });

  it('when middy answers just before the Lambda timeout: no DynamoDB request is made after the answer, and a retry stores the message once', async () => {
    await chatClient(handlers, user(1)).join(31);
    proxy.resetCounts();
    proxy.setPlan(() => 'slow'); // every request 50 ms late: the send needs about 3 round trips
    const event = eventFor('/message/send_group_chat', { json: { id: 31, msg_body: 'in time?', client_msg_id: 'deadline-1' } });
    Object.assign(event.headers, identityHeaders(user(1)));
    const answer = await call(handlers.send, event, lambdaContext('send', 90));
    const requestsAtAnswer = proxy.counts().slow;
    await new Promise((resolve) => setTimeout(resolve, 1000));
    proxy.setPlan(undefined);
    expect(answer.status).toBe(503);
    expect(requestsAtAnswer).toBeGreaterThan(0);
    expect(proxy.counts().slow).toBe(requestsAtAnswer);
    const retry = await call(handlers.send, event);
    expect(retry.status).toBe(200);
    expect((await msgItems(31)).map((m) => m.msg_body)).toEqual(['in time?']);
  });
});
