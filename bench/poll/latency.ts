/**
 * Warm polls: the built find_group_chat bundle's handler, imported into this process and invoked
 * with API Gateway events against DynamoDB Local, interleaved with the floor (./floor.ts: the same
 * requests through the functions' store); and the history-size flatness.
 */
import { loadBundleHandlers } from './bundle-handlers';
import { floorStore, type Auth, type Mode } from './floor';
import { idlePollBody, interleave, pollEvent, timedFloor, timedHandler } from './polls';
import type { BenchDatabase } from './setup';
import { summary } from './stats';

export interface WarmResult {
  auth: Auth;
  mode: Mode;
  handler: ReturnType<typeof summary>;
  floor: ReturnType<typeof summary>;
  /** Mean CPU time per poll in this process (the handler's or the floor's own work, the SDK's included). */
  handlerCpuMs: number;
  floorCpuMs: number;
}

/** Warm latency of an idle poll, handler vs floor, for each configuration. */
export async function measureWarm(
  bundle: string,
  db: BenchDatabase,
  configs: { auth: Auth; mode: Mode }[],
  n: number,
  warmup: number,
): Promise<WarmResult[]> {
  const handlers = await loadBundleHandlers(bundle, db.tableName, db.endpoint, 'warm');
  const store = floorStore(db.endpoint, db.tableName);
  const results: WarmResult[] = [];
  for (const { auth, mode } of configs) {
    const h = timedHandler(handlers[auth], pollEvent(idlePollBody(mode, db.small), auth));
    const f = timedFloor(store, auth, db.small);
    const { a, b } = await interleave(h, f, n, warmup);
    results.push({ auth, mode, handler: summary(a.ms), floor: summary(b.ms), handlerCpuMs: summary(a.cpu).mean, floorCpuMs: summary(b.cpu).mean });
  }
  store.destroy();
  return results;
}

/** p50 of an idle poll on the long history vs the short one, interleaved, through the handler. */
export async function measureFlatness(
  bundle: string,
  db: BenchDatabase,
  configs: { auth: Auth; mode: Mode }[],
  n: number,
  warmup: number,
): Promise<{ auth: Auth; mode: Mode; small: ReturnType<typeof summary>; large: ReturnType<typeof summary> }[]> {
  // The same module instances as measureWarm's (same copy name): their code is warm already.
  const handlers = await loadBundleHandlers(bundle, db.tableName, db.endpoint, 'warm');
  const out = [];
  for (const { auth, mode } of configs) {
    const small = timedHandler(handlers[auth], pollEvent(idlePollBody(mode, db.small), auth));
    const large = timedHandler(handlers[auth], pollEvent(idlePollBody(mode, db.large), auth));
    const { a, b } = await interleave(large, small, n, warmup);
    out.push({ auth, mode, large: summary(a.ms), small: summary(b.ms) });
  }
  return out;
}
