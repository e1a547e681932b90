/**
 * `npx tsx bench/poll/breakdown.ts [polls] [open|jwt]`: where a warm poll's time beyond the floor goes.
 * Builds find_group_chat as shipped and, with the same esbuild options, a copy whose
 * lambda/http/observability.ts is replaced by no-ops (./observability-stub.ts), and measures both
 * against the floor (exact mode, idle), twice in turn. The difference in CPU time per poll between
 * the two builds is what the Powertools logger and metrics cost; the rest of the overhead is middy,
 * parameter parsing, the domain code and the envelope. For a function-level view, run the benchmark
 * under the profiler: `node --cpu-prof --cpu-prof-dir=.bench/prof --import tsx bench/poll/run.ts --quick --only warm`.
 */
import { build } from 'esbuild';
import { openSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { LambdaHandler } from '../../local/handlers';
import { esbuildOptionsFor } from '../../lib/bundling';
import { BENCH_DIR, PROJECT_ROOT } from './build';
import { loadBundleHandlers } from './bundle-handlers';
import { floorStore, type Auth } from './floor';
import { FIND_ROUTE, idlePollBody, interleave, pollEvent, timedFloor, timedHandler } from './polls';
import { startBenchDatabase } from './setup';
import { summary } from './stats';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const say = process.stdout.write.bind(process.stdout);
// The handlers' own output (one metrics line per poll) goes to a file, written synchronously.
const handlerLog = openSync(path.join(BENCH_DIR, 'breakdown-stdout.log'), 'w');
process.stdout.write = ((chunk: string) => {
  writeSync(handlerLog, chunk);
  return true;
}) as typeof process.stdout.write;

async function main(): Promise<void> {
  const polls = Number(process.argv[2] ?? 2000);
  const auth = (process.argv[3] ?? 'open') as Auth;
  const entry = path.join(PROJECT_ROOT, FIND_ROUTE.entry);
  const stub = path.join(__dirname, 'observability-stub.ts');
  const builds: Record<string, string> = {};
  for (const [name, withStub] of [['as shipped', false], ['without observability', true]] as const) {
    const outfile = path.join(BENCH_DIR, 'breakdown', withStub ? 'no-observability' : 'shipped', 'index.mjs');
    await build({
      ...esbuildOptionsFor(entry),
      outfile,
      logLevel: 'warning',
      plugins: withStub ? [{ name: 'stub-observability', setup: (b) => b.onResolve({ filter: /\/observability$/ }, () => ({ path: stub })) }] : [],
    });
    builds[name] = outfile;
  }
  const db = await startBenchDatabase(100);
  const store = floorStore(db.endpoint, db.tableName);
  const handlers: Record<string, LambdaHandler> = {};
  for (const [name, file] of Object.entries(builds)) handlers[name] = (await loadBundleHandlers(file, db.tableName, db.endpoint, `breakdown-${name.replace(/ /g, '-')}`))[auth];
  const event = pollEvent(idlePollBody('exact', db.small), auth);
  say(`exact idle poll (${auth === 'jwt' ? 'authz on' : 'open'}), ${polls} polls each, interleaved with the floor; second round is the warmer one\n`);
  for (let round = 1; round <= 2; round++) {
    for (const [name, handler] of Object.entries(handlers)) {
      const { a, b } = await interleave(timedHandler(handler, event), timedFloor(store, auth, db.small), polls, 300);
      const [h, f, hc, fc] = [summary(a.ms), summary(b.ms), summary(a.cpu), summary(b.cpu)];
      say(
        `round ${round}, ${name.padEnd(22)} p50 ${h.p50.toFixed(3)} ms vs floor ${f.p50.toFixed(3)} ms (ratio ${(h.p50 / f.p50).toFixed(3)}); ` +
          `CPU per poll ${hc.mean.toFixed(3)} ms vs ${fc.mean.toFixed(3)} ms (+${((hc.mean - fc.mean) * 1000).toFixed(0)} µs)\n`,
      );
    }
  }
  store.destroy();
  await db.close();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
