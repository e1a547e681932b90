/**
 * The requests and read units of an idle poll, counted on the wire (./count-proxy.ts) for the built
 * handler and for the floor, and whether the two send the very same requests.
 */
import { loadBundleHandlers } from './bundle-handlers';
import { startCountProxy, type RecordedRequest } from './count-proxy';
import { floorStore, type Auth, type Mode } from './floor';
import { idlePollBody, pollEvent, timedFloor, timedHandler } from './polls';
import type { BenchDatabase } from './setup';

export interface CountResult {
  auth: Auth;
  mode: Mode;
  polls: number;
  /** Per poll, measured on the wire. */
  requests: number;
  operations: Record<string, number>;
  /** The engine's own ConsumedCapacity totals (DynamoDB Local's), per poll. */
  capacityReported: number;
  /**
   * The same requests as AWS bills them: the engine's figure, but at least 1 unit per strongly
   * consistent read request and 0.5 per eventually consistent one (DynamoDB Local reports 0 for a
   * Query that returns nothing).
   */
  capacityBilled: number;
  /** The floor sent the same requests (operation and every parameter) as the handler. */
  floorMatches: boolean;
  floorDiff?: string;
}

/** Recursively key-sorted JSON, without the parameter that follows the clock (`:to`, the newest servable second). */
function canonical(value: unknown): string {
  return JSON.stringify(value, (k, v) =>
    k === ':to' ? '<newest second>' : v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([x], [y]) => x.localeCompare(y))) : v,
  );
}

const requestSet = (requests: RecordedRequest[]) => requests.map((r) => `${r.operation} ${canonical(r.body)}`).sort();

function billed(r: RecordedRequest): number {
  if (r.operation === 'Query' || r.operation === 'GetItem') {
    return Math.max(r.capacity, r.body.ConsistentRead === true ? 1 : 0.5);
  }
  return r.capacity;
}

/** Requests and read units of an idle poll, counted on the wire for the handler and for the floor. */
export async function countRequests(bundle: string, db: BenchDatabase, configs: { auth: Auth; mode: Mode }[], polls: number): Promise<CountResult[]> {
  const proxy = await startCountProxy(db.endpoint);
  const handlers = await loadBundleHandlers(bundle, db.tableName, proxy.endpoint, 'count');
  const store = floorStore(proxy.endpoint, db.tableName);
  const results: CountResult[] = [];
  try {
    for (const { auth, mode } of configs) {
      const h = timedHandler(handlers[auth], pollEvent(idlePollBody(mode, db.small), auth));
      await h(); // the first call of a fresh copy: connection set-up is not a poll's cost
      proxy.take();
      for (let i = 0; i < polls; i++) await h();
      const recorded = proxy.take();
      const oneHandlerPoll = (await h(), proxy.take());
      await timedFloor(store, auth, db.small)();
      const oneFloorPoll = proxy.take();
      const [hs, fs] = [requestSet(oneHandlerPoll), requestSet(oneFloorPoll)];
      const matches = canonical(hs) === canonical(fs);
      const operations: Record<string, number> = {};
      for (const r of recorded) operations[r.operation] = (operations[r.operation] ?? 0) + 1 / polls;
      results.push({
        auth,
        mode,
        polls,
        requests: recorded.length / polls,
        operations,
        capacityReported: recorded.reduce((s, r) => s + r.capacity, 0) / polls,
        capacityBilled: recorded.reduce((s, r) => s + billed(r), 0) / polls,
        floorMatches: matches,
        ...(!matches && { floorDiff: `handler: ${hs.join(' | ')}\nfloor:   ${fs.join(' | ')}` }),
      });
    }
  } finally {
    store.destroy();
    await proxy.close();
  }
  return results;
}
