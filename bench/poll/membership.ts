/**
 * Join and leave cost the same at any chapter size : the built join and leave handlers,
 * with authorization on and `membership` self (users join and leave on their own), called on a chapter of 10 members and on one of 100 000, the units each
 * call consumed taken from the engine's own ConsumedCapacity on the wire (./count-proxy.ts).
 */
import { ENV, ROUTES, type RouteSpec } from '../../lambda/contract';
import type { LambdaHandler } from '../../local/handlers';
import { lambdaContext } from '../../local/lambda-context';
import { loadBundleHandlers } from './bundle-handlers';
import { startCountProxy, type CountProxy } from './count-proxy';
import { routeEvent } from './polls';
import { seedMembers, type BenchDatabase } from './setup';

const JOIN = ROUTES.find((r) => r.id === 'JoinGroupChat')!;
const LEAVE = ROUTES.find((r) => r.id === 'LeaveGroupChat')!;
/** The joining users: beyond the seeded members' ids (1…members). */
const NEW_USER = 1_000_000_000;
const SMALL_ID = 500;
const LARGE_ID = 600;

/** Means per call. */
export interface CallFigures {
  calls: number;
  /** Units the engine reported: written, read. */
  wcu: number;
  rcu: number;
  ms: number;
  /** Requests per call, by operation (`TransactWriteItems 400` for a cancelled transaction). */
  operations: Record<string, number>;
}

export interface ChapterFigures {
  members: number;
  seedS: number;
  join: CallFigures;
  leave: CallFigures;
  /** A join of a member and a leave of a non-member: both change nothing. */
  noChange: CallFigures;
}

interface Sample {
  wcu: number;
  rcu: number;
  ms: number;
  operations: string[];
}

function mean(samples: Sample[]): CallFigures {
  const n = samples.length;
  const operations: Record<string, number> = {};
  for (const op of samples.flatMap((s) => s.operations)) operations[op] = (operations[op] ?? 0) + 1;
  for (const op of Object.keys(operations)) operations[op] /= n;
  const sum = (k: 'wcu' | 'rcu' | 'ms') => samples.reduce((s, x) => s + x[k], 0) / n;
  return { calls: n, wcu: sum('wcu'), rcu: sum('rcu'), ms: sum('ms'), operations };
}

/** One call of `route` by `userId` on `chapterId`, checked (200 and the expected member_count), with what it consumed. */
async function call(proxy: CountProxy, handler: LambdaHandler, route: RouteSpec, chapterId: number, userId: number, count: number): Promise<Sample> {
  const event = routeEvent(route, { id: chapterId }, 'jwt', userId);
  proxy.take();
  const t0 = performance.now();
  const result = await handler(event, lambdaContext(route.id));
  const ms = performance.now() - t0;
  const requests = proxy.take();
  const answer = JSON.parse(result.body ?? '{}') as { data?: { member_count?: number } };
  if (result.statusCode !== 200) throw new Error(`${route.id} answered ${result.statusCode}: ${result.body}`);
  if (answer.data?.member_count !== count) throw new Error(`${route.id} on chapter ${chapterId}: member_count ${answer.data?.member_count}, expected ${count}`);
  return {
    wcu: requests.reduce((s, r) => s + r.write, 0),
    rcu: requests.reduce((s, r) => s + r.read, 0),
    ms,
    operations: requests.map((r) => (r.status === 200 ? r.operation : `${r.operation} ${r.status}`)),
  };
}

/**
 * Seeds a chapter of 10 members and one of `largeMembers`, then on each, alternately: `calls` joins
 * of new users, `calls` leaves of the same users, a join of a member and a leave of a non-member.
 */
export async function measureMembership(bundles: { join: string; leave: string }, db: BenchDatabase, largeMembers: number, calls: number): Promise<{ small: ChapterFigures; large: ChapterFigures }> {
  const seed = async (id: number, members: number) => {
    const t0 = performance.now();
    await seedMembers(db.db, db.tableName, id, members);
    return { id, members, seedS: (performance.now() - t0) / 1000 };
  };
  const chapters = [await seed(SMALL_ID, 10), await seed(LARGE_ID, largeMembers)];

  const proxy = await startCountProxy(db.endpoint);
  try {
    const self = { [ENV.membership]: 'self' };
    const join = (await loadBundleHandlers(bundles.join, db.tableName, proxy.endpoint, 'membership', self)).jwt;
    const leave = (await loadBundleHandlers(bundles.leave, db.tableName, proxy.endpoint, 'membership', self)).jwt;
    // A fresh copy's first calls (connection set-up, the SDK's first request): not counted.
    await call(proxy, join, JOIN, SMALL_ID, NEW_USER - 1, 11);
    await call(proxy, leave, LEAVE, SMALL_ID, NEW_USER - 1, 10);

    const samples = chapters.map(() => ({ join: [] as Sample[], leave: [] as Sample[], noChange: [] as Sample[] }));
    const each = async (f: (c: (typeof chapters)[number]) => Promise<Sample>, into: 'join' | 'leave' | 'noChange') => {
      for (const [k, c] of chapters.entries()) samples[k][into].push(await f(c));
    };
    for (let i = 0; i < calls; i++) await each((c) => call(proxy, join, JOIN, c.id, NEW_USER + i, c.members + i + 1), 'join');
    for (let i = 0; i < calls; i++) await each((c) => call(proxy, leave, LEAVE, c.id, NEW_USER + i, c.members + calls - i - 1), 'leave');
    await each((c) => call(proxy, join, JOIN, c.id, 1, c.members), 'noChange');
    await each((c) => call(proxy, leave, LEAVE, c.id, NEW_USER + calls, c.members), 'noChange');

    const [small, large] = chapters.map((c, k) => ({
      members: c.members,
      seedS: c.seedS,
      join: mean(samples[k].join),
      leave: mean(samples[k].leave),
      noChange: mean(samples[k].noChange),
    }));
    return { small, large };
  } finally {
    await proxy.close();
  }
}
