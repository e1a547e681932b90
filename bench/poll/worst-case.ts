/**
 * The worst case of each message route, in the units the engine reports consumed (DynamoDB Local's
 * ConsumedCapacity, on the wire: ./count-proxy.ts), through the built handlers with authorization on:
 * a member catching up from 0 on a chapter of the largest messages (both poll modes), a non-member
 * asking for everything (both modes), and a send of the largest message.
 */
import { MAX_MESSAGE_LENGTH, MAX_PAGE_SIZE, MAX_USER_NAME_LENGTH, ROUTES, type GroupChatPage, type Message } from '../../lambda/contract';
import { writeHistory } from '../../lambda/data';
import { MAX_MESSAGES_PER_SECOND } from '../../lambda/domain/send-group-chat';
import type { LambdaHandler } from '../../local/handlers';
import { lambdaContext } from '../../local/lambda-context';
import { messageRun } from '../../test/support/dynamodb';
import { loadBundleHandlers } from './bundle-handlers';
import { startCountProxy, type CountProxy } from './count-proxy';
import { routeEvent } from './polls';
import { USER_ID, type BenchDatabase } from './setup';

const FIND = ROUTES.find((r) => r.id === 'FindGroupChat')!;
const SEND = ROUTES.find((r) => r.id === 'SendGroupChat')!;
const CHAPTER_ID = 700;
const STRANGER = 4343;
/** Four seconds, each as full as a send fills one, of the largest messages: 2 000 four-byte characters, a 64-character name. */
const MESSAGES = 4 * MAX_MESSAGES_PER_SECOND;
const LARGEST_BODY = '😀'.repeat(MAX_MESSAGE_LENGTH);
const LARGEST_NAME = '😀'.repeat(MAX_USER_NAME_LENGTH);

export interface Consumed {
  rcu: number;
  wcu: number;
  requests: number;
}

export interface CatchUp {
  polls: number;
  /** The most one poll consumed. */
  worst: Consumed;
  /** The messages delivered, in order and once each. */
  delivered: boolean;
}

export interface WorstCases {
  messages: number;
  catchUp: { exact: CatchUp; legacy: CatchUp };
  nonMember: { exact: Consumed; legacy: Consumed };
  send: Consumed;
}

async function measured(proxy: CountProxy, handler: LambdaHandler, event: ReturnType<typeof routeEvent>, routeId: string) {
  proxy.take();
  const result = await handler(event, lambdaContext(routeId));
  const requests = proxy.take();
  const consumed = { rcu: requests.reduce((s, r) => s + r.read, 0), wcu: requests.reduce((s, r) => s + r.write, 0), requests: requests.length };
  return { status: result.statusCode, body: JSON.parse(result.body ?? '{}') as { data?: unknown }, consumed };
}

const worse = (a: Consumed, b: Consumed): Consumed => (b.rcu + b.wcu > a.rcu + a.wcu ? b : a);

async function catchUp(proxy: CountProxy, find: LambdaHandler, mode: 'exact' | 'legacy', expected: Message[]): Promise<CatchUp> {
  const got: number[] = [];
  let worst: Consumed = { rcu: 0, wcu: 0, requests: 0 };
  let cursor = 0;
  for (let polls = 1; polls <= 100; polls++) {
    const body = { id: CHAPTER_ID, [mode === 'exact' ? 'last_id' : 'msg_time']: cursor, limit: MAX_PAGE_SIZE };
    const { status, body: answer, consumed } = await measured(proxy, find, routeEvent(FIND, body, 'jwt'), FIND.id);
    if (status !== 200) throw new Error(`catch-up poll answered ${status}`);
    worst = worse(worst, consumed);
    const page = answer.data as GroupChatPage;
    got.push(...page.list.map((m) => m.id));
    const last = page.list.at(-1);
    if (last) cursor = mode === 'exact' ? last.id : last.create_time;
    if (!page.has_more) return { polls, worst, delivered: got.join() === expected.map((m) => m.id).join() };
  }
  throw new Error(`a ${mode} catch-up did not end in 100 polls`);
}

export async function measureWorstCases(bundles: { find: string; send: string }, db: BenchDatabase): Promise<WorstCases> {
  const messages = messageRun({ firstId: 1, count: MESSAGES, firstTime: 1_700_000_000, perSecond: MAX_MESSAGES_PER_SECOND }).map((m) => ({
    ...m,
    user_name: LARGEST_NAME,
    msg_body: LARGEST_BODY,
  }));
  await writeHistory(db.db, db.tableName, CHAPTER_ID, { messages, members: [{ user_id: USER_ID, joined_at: 1 }] });

  const proxy = await startCountProxy(db.endpoint);
  try {
    const find = (await loadBundleHandlers(bundles.find, db.tableName, proxy.endpoint, 'worst')).jwt;
    const send = (await loadBundleHandlers(bundles.send, db.tableName, proxy.endpoint, 'worst')).jwt;
    // A fresh copy's first call sets up its connections: not counted.
    await measured(proxy, find, routeEvent(FIND, { id: CHAPTER_ID, last_id: MESSAGES }, 'jwt'), FIND.id);

    const exact = await catchUp(proxy, find, 'exact', messages);
    const legacy = await catchUp(proxy, find, 'legacy', messages);
    const refused = async (cursor: Record<string, number>) => {
      const out = await measured(proxy, find, routeEvent(FIND, { id: CHAPTER_ID, ...cursor, limit: MAX_PAGE_SIZE }, 'jwt', STRANGER), FIND.id);
      if (out.status !== 403) throw new Error(`a non-member's poll answered ${out.status}`);
      return out.consumed;
    };
    const nonMember = { exact: await refused({ last_id: 0 }), legacy: await refused({ msg_time: 0 }) };

    const sendEvent = routeEvent(SEND, { id: CHAPTER_ID, msg_body: LARGEST_BODY, client_msg_id: 'bench-largest' }, 'jwt');
    (sendEvent.requestContext as unknown as { authorizer: { jwt: { claims: Record<string, string> } } }).authorizer.jwt.claims.name = LARGEST_NAME;
    const sent = await measured(proxy, send, sendEvent, SEND.id);
    if (sent.status !== 200) throw new Error(`the send of the largest message answered ${sent.status}`);
    return { messages: MESSAGES, catchUp: { exact, legacy }, nonMember, send: sent.consumed };
  } finally {
    await proxy.close();
  }
}
