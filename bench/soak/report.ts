/** The soak's verdicts and its summary (bench/soak/run.ts): tables on stdout, the same as JSON with --json. */
import { writeFileSync } from 'node:fs';
import { checkDelivery, growthVerdict, isDense, windowMin, type DeliveryVerdict } from './check';
import type { Client, Route } from './client';
import type { Load, Poller, StoredLog } from './load';
import type { Options } from './options';
import { GC_PROBE_MS, POINTS, SEMI_SPACE_MB, type Servers } from './processes';

/** What a run leaves to judge. Times in ms from the start of the load. */
export interface Run {
  options: Options;
  servers: Servers;
  client: Client;
  load: Load;
  logs: Map<number, StoredLog>;
  warmupEndMs: number;
  loadEndMs: number;
  drainMs: number;
}

const mb = (bytes: number | undefined) => (bytes === undefined || !Number.isFinite(bytes) ? '-' : `${(bytes / 1024 / 1024).toFixed(1)} MB`);
const pct = (value: number) => (Number.isFinite(value) ? `${value >= 0 ? '+' : ''}${value.toFixed(1)} %` : '-');

/**
 * Not bench/poll/stats.ts's nearest rank: where p·n/100 is a whole number this takes the sample above
 * (the p99 of 100 samples is the max), as the soak always did, so its latencies compare with earlier runs.
 */
function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function table(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, c) => Math.max(...cells.map((r) => (r[c] ?? '').length)));
  // Numbers right-aligned, text left-aligned; the last column is not padded.
  const numeric = (cell: string) => /^[-+]?[\d.]+( %| MB)?$/.test(cell);
  const line = (r: string[]) =>
    r
      .map((cell, c) => (numeric(cell) ? cell.padStart(widths[c]) : c === r.length - 1 ? cell : cell.padEnd(widths[c])))
      .join('  ')
      .trimEnd();
  return [line(cells[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

/** A line every 10 s of the load: messages, polls and the server processes' RSS so far. */
export function reportProgress({ options, servers, load }: Pick<Run, 'options' | 'servers' | 'load'>): NodeJS.Timeout {
  return setInterval(() => {
    const elapsed = (performance.now() - servers.loadStart) / 1000;
    if (elapsed > options.durationS) return;
    const accepted = [...load.ledgers.values()].reduce((n, l) => n + l.accepted.length, 0);
    const polls = load.pollers.reduce((n, p) => n + p.polls, 0);
    const rss = servers.measured.map((m) => `${m.process.name} rss ${mb(m.samples.at(-1)?.rss)}`).join(', ');
    console.log(`  ${elapsed.toFixed(0).padStart(4)} s  messages ${accepted}  polls ${polls}  ${rss}`);
  }, 10_000);
}

/** Judges the run and prints its summary (writes it as JSON too with --json); whether every check passed. */
export function report(run: Run): boolean {
  const verdicts = judge(run);
  console.log(summaryText(run, verdicts));
  if (run.options.json) writeFileSync(run.options.json, `${JSON.stringify(summaryJson(run, verdicts), null, 2)}\n`);
  return verdicts.passed;
}

type Verdicts = ReturnType<typeof judge>;

function judge({ options, servers, client, load, logs, warmupEndMs, loadEndMs }: Run) {
  // The baseline is the lowest RSS after a forced GC in the window that follows the warm-up, the
  // end the lowest in the load's last window: a leak lifts the floor, while GC and allocator noise
  // (V8 keeps freed pages a while) only moves single points.
  const windowMs = Math.max(2 * GC_PROBE_MS, loadEndMs * 0.1);
  const baselineWindow: [number, number] = [warmupEndMs, warmupEndMs + windowMs];
  const endWindow: [number, number] = [loadEndMs - windowMs, loadEndMs + 60_000];
  const memory = servers.measured.map((m, i) => {
    const before = windowMin(m.gcSamples, ...baselineWindow);
    const after = windowMin(m.gcSamples, ...endWindow);
    return {
      name: m.process.name,
      kind: m.process.kind,
      pid: m.process.pid,
      /** Only the API process's growth is a check; DynamoDB Local's is reported. */
      checked: i === 0,
      ...growthVerdict(before, after, options.rssLimitPct, endWindow[0] - baselineWindow[1] >= 10_000),
      sampled: {
        max: Math.max(0, ...m.samples.filter((s) => s.t <= loadEndMs).map((s) => s.rss)),
        warmupEndTrough: windowMin(m.samples, ...baselineWindow),
        loadEndTrough: windowMin(m.samples, loadEndMs - windowMs, loadEndMs),
      },
    };
  });
  const apiMemory = memory[0];

  const pollerVerdicts: { poller: Poller; verdict: DeliveryVerdict }[] = load.pollers
    .map((poller) => {
      const ledger = load.ledgers.get(poller.chapterId)!;
      return { poller, verdict: checkDelivery(poller.received, ledger.accepted, ledger.ambiguous, logs.get(poller.chapterId)!.log) };
    })
    .sort((a, b) => a.poller.chapterId - b.poller.chapterId || a.poller.mode.localeCompare(b.poller.mode));
  const logVerdicts = load.chapterIds.map((chapterId) => {
    const ledger = load.ledgers.get(chapterId)!;
    const { log, memberCount } = logs.get(chapterId)!;
    return {
      chapterId,
      accepted: ledger.accepted.length,
      ambiguous: ledger.ambiguous.size,
      stored: log.length,
      dense: isDense(log),
      verdict: checkDelivery(log, ledger.accepted, ledger.ambiguous),
      memberCount,
      expectedMembers: ledger.members,
    };
  });

  const statusEntries = [...client.statuses.entries()].sort(([a], [b]) => a.localeCompare(b));
  const fiveXx = statusEntries.filter(([key]) => /\s5\d\d$/.test(key)).reduce((n, [, count]) => n + count, 0);
  const transport = statusEntries.filter(([key]) => key.endsWith(' error')).reduce((n, [, count]) => n + count, 0);
  const polls = { last_id: 0, msg_time: 0 };
  for (const p of load.pollers) polls[p.mode] += p.polls;
  const messages = logVerdicts.reduce((n, l) => n + l.accepted, 0);
  const requests = statusEntries.filter(([key]) => !key.includes('(verify)')).reduce((n, [, count]) => n + count, 0);

  const checks = [
    {
      name: 'exactly once, in id order, per poller',
      ok: pollerVerdicts.length > 0 && pollerVerdicts.every((p) => p.verdict.ok && p.poller.caughtUp) && messages > 0,
      detail: `${pollerVerdicts.filter((p) => p.verdict.ok && p.poller.caughtUp).length}/${pollerVerdicts.length} pollers, ${messages} messages`,
    },
    {
      name: 'stored log = accepted messages, ids dense',
      ok: logVerdicts.every((l) => l.verdict.ok && l.dense),
      detail: `${logVerdicts.filter((l) => l.verdict.ok && l.dense).length}/${logVerdicts.length} chapters`,
    },
    {
      name: 'member_count = members at the end',
      ok: logVerdicts.every((l) => l.memberCount === l.expectedMembers),
      detail: logVerdicts.map((l) => `${l.memberCount}/${l.expectedMembers}`).join(' '),
    },
    { name: 'no 5xx', ok: fiveXx === 0, detail: `${fiveXx} × 5xx` },
    { name: 'no transport errors', ok: transport === 0, detail: `${transport} errors` },
    { name: 'every status as expected', ok: client.unexpected.length === 0, detail: `${client.unexpected.length} unexpected` },
    {
      name: `${apiMemory.name} RSS growth < ${options.rssLimitPct} % after warm-up`,
      ok: apiMemory.ok,
      detail: apiMemory.applicable
        ? `${mb(apiMemory.before)} → ${mb(apiMemory.after)}, ${pct(apiMemory.growthPct)}`
        : 'skipped: the load is too short after the warm-up',
    },
  ];
  const problems = [
    ...client.unexpected.map((u) => `unexpected status: ${u}`),
    ...client.transportErrors.map((e) => `transport error: ${e}`),
    ...pollerVerdicts.flatMap(({ poller, verdict }) => verdict.examples.map((e) => `poller ${poller.chapterId}/${poller.mode}: ${e}`)),
    ...logVerdicts.flatMap((l) => l.verdict.examples.map((e) => `log ${l.chapterId}: ${e}`)),
    ...servers.measured.flatMap((m) => m.process.stderrLines.slice(0, 5).map((line) => `${m.process.name} stderr: ${line.slice(0, 600)}`)),
  ];
  return {
    baselineWindow,
    endWindow,
    memory,
    apiMemory,
    pollerVerdicts,
    logVerdicts,
    statusEntries,
    polls,
    messages,
    requests,
    checks,
    problems,
    passed: checks.every((c) => c.ok),
  };
}

function processesText({ options, servers }: Run): string {
  const java = servers.db ? `DynamoDB Local java pid ${servers.db.pid}` : undefined;
  if (options.singleProcess) return `local/start.ts --memory, pid ${servers.api.pid} (API; its child: ${java ?? 'DynamoDB Local, pid not found'})`;
  const database = servers.database.external ? `DynamoDB at ${servers.database.endpoint} (--endpoint), table ${servers.database.tableName}` : java;
  return `API pid ${servers.api.pid} (bench/soak/server.ts), ${database}`;
}

function summaryText(run: Run, v: Verdicts): string {
  const { options, servers, client, load, logs, warmupEndMs, loadEndMs, drainMs } = run;
  const { counters } = load;
  const out: string[] = [];
  out.push('', '=== soak summary ===', '');
  out.push(
    table(
      ['run', 'value'],
      [
        ['processes', processesText(run)],
        ['load duration', `${(loadEndMs / 1000).toFixed(1)} s (warm-up ${(warmupEndMs / 1000).toFixed(1)} s)`],
        ['drain (pollers catching up)', `${(drainMs / 1000).toFixed(1)} s`],
        ['chapters × clients', `${options.chapters} × (${options.senders} senders, ${options.churners} churners, ${options.exactPollers} exact + ${options.legacyPollers} legacy pollers)`],
        ['requests (load)', `${v.requests} (${(v.requests / (loadEndMs / 1000)).toFixed(0)}/s over the load phase)`],
        [
          'messages accepted',
          `${v.messages} (sends: ${counters.sends.made}, each with a client_msg_id; ${counters.sends.retried503} retried after 503; ${counters.sends.ambiguous} outcome unknown)`,
        ],
        ['polls', `${v.polls.last_id + v.polls.msg_time} (exact last_id ${v.polls.last_id}, legacy msg_time ${v.polls.msg_time})`],
        ['joins / leaves / refusals', `${counters.joins} / ${counters.leaves} / ${counters.refusals}`],
        ['server stderr lines', servers.measured.map((m) => `${m.process.name} ${m.process.stderrLines.length}`).join(', ')],
        ['seed', `${options.seed}`],
      ],
    ),
  );
  out.push('', "requests by route and status (error = no answer; verify = the checker's own reads after the load)", '');
  const latencyOf = (route: string) => {
    const sorted = [...(client.latencies.get(route as Route) ?? [])].sort((a, b) => a - b);
    return sorted.length === 0 ? ['', '', ''] : [percentile(sorted, 50).toFixed(1), percentile(sorted, 99).toFixed(1), sorted[sorted.length - 1].toFixed(0)];
  };
  const routes = [...new Set(v.statusEntries.map(([key]) => key.slice(0, key.lastIndexOf(' '))))];
  const statusNames = [...new Set(v.statusEntries.map(([key]) => key.slice(key.lastIndexOf(' ') + 1)))].sort();
  out.push(
    table(
      ['route', ...statusNames, 'p50 ms', 'p99 ms', 'max ms'],
      routes.map((route) => [route, ...statusNames.map((s) => client.statuses.get(`${route} ${s}`) ?? 0), ...latencyOf(route)]),
    ),
  );
  out.push('', 'delivery per poller (expected = the stored log: accepted + stored of unknown outcome)', '');
  out.push(
    table(
      ['chapter', 'mode', 'limit', 'polls', 'received', 'expected', 'missing', 'dup', 'order', 'unexp', 'diff', 'caught up', 'verdict'],
      v.pollerVerdicts.map(({ poller, verdict }) => [
        String(poller.chapterId),
        poller.mode,
        poller.limit ?? 'default',
        poller.polls,
        verdict.received,
        logs.get(poller.chapterId)!.log.length,
        verdict.missing,
        verdict.duplicates,
        verdict.outOfOrder,
        verdict.unexpected,
        verdict.mismatched,
        poller.caughtUp ? 'yes' : 'NO',
        verdict.ok && poller.caughtUp ? 'ok' : 'FAIL',
      ]),
    ),
  );
  out.push('', 'stored log per chapter', '');
  out.push(
    table(
      ['chapter', 'accepted', 'unknown', 'stored', 'dense', 'missing', 'dup', 'unexp', 'member_count', 'verdict'],
      v.logVerdicts.map((l) => [
        String(l.chapterId),
        l.accepted,
        l.ambiguous,
        l.stored,
        l.dense ? 'yes' : 'NO',
        l.verdict.missing,
        l.verdict.duplicates,
        l.verdict.unexpected,
        `${l.memberCount}/${l.expectedMembers}`,
        l.verdict.ok && l.dense && l.memberCount === l.expectedMembers ? 'ok' : 'FAIL',
      ]),
    ),
  );
  const span = ([from, to]: [number, number]) => `${(from / 1000).toFixed(1)}–${(Math.min(to, loadEndMs) / 1000).toFixed(1)} s`;
  out.push(
    '',
    'server memory, right after a forced full GC (gc() inside the node process, bench/soak/probe.ts). The check: the lowest such RSS',
    `of the ${v.apiMemory.name} process in ${span(v.baselineWindow)} (after the warm-up) vs. the lowest in ${span(v.endWindow)} (the load's end); taken every ${GC_PROBE_MS / 1000} s.`,
    `The node process runs with --max-semi-space-size=${SEMI_SPACE_MB} (Node.js 20's default young generation; Node.js 24 grows it to 4× that, no leak).`,
    "DynamoDB Local (java): its VmRSS at the same moments, no GC forced, for information only (the JVM keeps the heap it grew to).",
    '',
  );
  const memoryRows = servers.measured.flatMap((m) =>
    POINTS.map((point) => {
      const p = m.probes[point];
      return [
        point === 'start' ? m.process.name : '',
        point,
        mb(p?.rss),
        mb(p?.usage?.heapUsed),
        mb(p?.usage?.heapTotal),
        mb(p?.usage?.external),
        mb(p?.usage?.arrayBuffers),
      ];
    }),
  );
  out.push(table(['process', 'point', 'rss', 'heap used', 'heap total', 'external', 'array buffers'], memoryRows));
  for (const [i, m] of servers.measured.entries()) {
    const memory = v.memory[i];
    const series = m.gcSamples.map((s) => `${(s.rss / 1024 / 1024).toFixed(0)}`).join(' ');
    const afterGc = m.process.kind === 'node' ? 'after GC' : '(java, no GC forced)';
    out.push(
      `  ${m.process.name}: RSS ${afterGc} ${mb(memory.before)} → ${mb(memory.after)} (${pct(memory.growthPct)}); without forced GC (every 250 ms): ` +
        `max ${mb(memory.sampled.max)}, lowest ${mb(memory.sampled.warmupEndTrough)} → ${mb(memory.sampled.loadEndTrough)} in the same windows`,
      `    ${m.process.kind === 'node' ? 'after-GC series' : 'series'} (MB, every ${GC_PROBE_MS / 1000} s): ${series}`,
    );
  }
  out.push('', 'checks', '');
  out.push(table(['check', 'result', 'verdict'], v.checks.map((c) => [c.name, c.detail, c.ok ? 'PASS' : 'FAIL'])));
  if (v.problems.length) out.push('', 'problems (the first of each kind)', ...v.problems.slice(0, 40).map((p) => `  ${p}`));
  out.push('', `soak: ${v.passed ? 'PASS' : 'FAIL'}`);
  return out.join('\n');
}

function summaryJson(run: Run, v: Verdicts) {
  const { options, servers, load, loadEndMs, drainMs } = run;
  const { counters } = load;
  return {
    passed: v.passed,
    options,
    processes: processesText(run),
    database: servers.database,
    loadMs: Math.round(loadEndMs),
    drainMs: Math.round(drainMs),
    requests: v.requests,
    messages: v.messages,
    polls: v.polls,
    sends: counters.sends,
    joins: counters.joins,
    leaves: counters.leaves,
    refusals: counters.refusals,
    statuses: Object.fromEntries(v.statusEntries),
    memory: v.memory.map((memory, i) => ({
      ...memory,
      probes: servers.measured[i].probes,
      samples: servers.measured[i].samples.map((s) => [Math.round(s.t), s.rss]),
      gcSamples: servers.measured[i].gcSamples.map((s) => [Math.round(s.t), s.rss]),
      stderr: servers.measured[i].process.stderrLines.slice(0, 20),
    })),
    pollers: v.pollerVerdicts.map(({ poller, verdict }) => ({
      chapterId: poller.chapterId,
      mode: poller.mode,
      limit: poller.limit ?? null,
      polls: poller.polls,
      caughtUp: poller.caughtUp,
      ...verdict,
    })),
    chapters: v.logVerdicts,
    checks: v.checks,
    problems: v.problems,
  };
}
