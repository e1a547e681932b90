/**
 * Polls under DynamoDB faults injected at the HTTP level: each poll either answers the correct page
 * or a retry-safe 503 without internals — never a wrong or partial page — and the function recovers
 * by itself once the faults stop. The caller is a member polling with a verified token, as deployed,
 * so the chapter's head and the membership reads (GetItem) run under the same faults.
 */
import { findGroupChat } from '../../lambda/domain/find-group-chat';
import { UNAVAILABLE_MESSAGE } from '../../lambda/http/errors';
import { chatClient, handlersFor, type Handlers } from '../support/chat-client';
import { messageRun, putMessages, startTestTable, type TestTable } from '../support/dynamodb';
import { randomFaults, startFaultProxy, type FaultProxy } from '../support/fault-proxy';

let table: TestTable;
let proxy: FaultProxy;
let handlers: Handlers;
const CHAPTER = 5;

beforeAll(async () => {
  table = await startTestTable();
  proxy = await startFaultProxy(table.endpoint);
  // As deployed: identity from verified token claims, so each poll also reads the caller's membership.
  handlers = await handlersFor(table, proxy.endpoint, 'jwt');
  await putMessages(table, CHAPTER, messageRun({ firstId: 1, count: 300, firstTime: 1_700_000_000, perSecond: 3 }));
  for (let user = 1; user <= 3; user++) await chatClient(handlers, { user_id: user, user_type: 2, user_name: `u${user}` }).join(CHAPTER);
});
afterAll(async () => {
  await proxy.close();
  await table.close();
});

it('answers each poll with the correct page or a clean 503 while reads fail, and recovers when they stop', async () => {
  const reader = chatClient(handlers, { user_id: 9, user_type: 2, user_name: 'reader' });
  await reader.join(CHAPTER);
  const queries = [
    { id: CHAPTER, last_id: 0, limit: 50 },
    { id: CHAPTER, last_id: 250 },
    { id: CHAPTER, msg_time: 0, limit: 100 },
    { id: CHAPTER, msg_time: 1_700_000_050 },
  ];
  // What each poll must answer, read directly without faults.
  const expected = await Promise.all(
    queries.map((q) =>
      findGroupChat(table.store, {
        chapterId: q.id,
        cursor: 'last_id' in q ? { lastId: q.last_id! } : { msgTime: q.msg_time! },
        limit: q.limit ?? 100,
      }),
    ),
  );

  // 70 % of all reads fail (throttling, 500s, resets; timeouts are covered by the exactly-once test),
  // so about a third of the DynamoDB calls outlast the SDK's three attempts.
  proxy.setPlan(randomFaults(0.7, ['throttle', 'server-error', 'reset-before', 'provisioned-throughput'], { seed: 3 }));
  const answers: Record<number, number> = {};
  for (let round = 0; round < 8; round++) {
    const results = await Promise.all(queries.map((q) => reader.poll(q)));
    results.forEach(({ status, body }, i) => {
      answers[status] = (answers[status] ?? 0) + 1;
      if (status === 200) expect(body.data).toEqual(expected[i]);
      else expect({ status, body }).toEqual({ status: 503, body: { code: 503, msg: UNAVAILABLE_MESSAGE, data: null } });
    });
  }
  const faults = proxy.counts();
  proxy.setPlan(undefined);
  expect(answers[503]).toBeGreaterThan(0);
  expect(answers[200]).toBeGreaterThan(0);

  // Faults over: the very next polls are all correct.
  const recovered = await Promise.all(queries.map((q) => reader.poll(q)));
  expect(recovered.map((r) => r.body.data)).toEqual(expected);
  console.info(`read faults: polls answered ${JSON.stringify(answers)}; injected ${JSON.stringify(faults)}`);
}, 180_000);
