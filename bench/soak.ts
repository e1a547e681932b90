/**
 * `npm run soak [-- --duration 60 --json soak.json]`: the local server under mixed load on 127.0.0.1
 * for a while, then the checks. A script, not part of CI.
 *
 * Processes: the API (local/server.ts with the handlers, configured as `npm start` configures them)
 * and the embedded database (dynalite in memory, as `npm start -- --memory` starts it) run as two
 * node processes (bench/soak-server.ts), so the API's memory is measured apart from the data the
 * database holds. --single-process runs `local/start.ts --memory` itself: one process, as `npm start`.
 *
 * Load, per chapter: senders (members for the whole run; some sends carry a client_msg_id and are
 * retried on 503, the others are never retried), churners (join, sometimes send, leave), pollers in
 * exact mode (last_id = the last id held) and legacy mode (msg_time = create_time of the last
 * message held) that follow has_more; plus a trickle of requests that must be refused (400/401/403/404).
 *
 * Checks: every poller holds every accepted message of its chapter exactly once, in id order, and
 * nothing that was not accepted; the stored log is dense and holds exactly the accepted messages;
 * member_count ends at the number of senders; no 5xx and no transport error; every answer has the
 * status its request expects; the API process's RSS grows less than 10 % after the warm-up.
 * Exit code 0 when every check passes, 1 when one fails, 2 when the run itself broke.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { newestServableSecond } from '../lambda/domain/find-group-chat';
import type { Message } from '../lambda/data/table';
import { seededRandom } from '../test/support/random';
import { checkDelivery, growthVerdict, isDense, windowMin, type DeliveryVerdict, type RssSample } from './soak-check';

const ROOT = path.resolve(__dirname, '..');

// ---------------------------------------------------------------------------------------------
// Options

interface Options {
  durationS: number;
  chapters: number;
  senders: number;
  churners: number;
  exactPollers: number;
  legacyPollers: number;
  sendIntervalMs: number;
  pollIntervalMs: number;
  warmupS: number;
  rssLimitPct: number;
  drainTimeoutS: number;
  seed: number;
  json?: string;
  singleProcess: boolean;
  heapSnapshots?: string;
}

const USAGE = `usage: npm run soak -- [--duration SECONDS] [--json FILE] [options]
  --duration S        load phase in seconds (default 60)
  --chapters N        chapters under load (default 3)
  --senders N         senders per chapter, members for the whole run (default 3)
  --churners N        join/send/leave clients per chapter (default 2)
  --exact N           exact-mode (last_id) pollers per chapter (default 2)
  --legacy N          legacy-mode (msg_time) pollers per chapter (default 2)
  --send-interval MS  mean pause between one sender's messages (default 250)
  --poll-interval MS  mean pause between a caught-up poller's polls (default 400)
  --warmup S          warm-up before the RSS baseline (default 15 % of the duration, at least 5)
  --rss-limit PCT     allowed RSS growth of the API process after warm-up (default 10)
  --drain-timeout S   how long pollers may take to catch up after the load (default 30)
  --seed N            random seed (default: time based, printed)
  --json FILE         also write the summary as JSON
  --single-process    run local/start.ts --memory (API and dynalite in one process, as npm start)
  --heap-snapshots DIR  diagnosis: heap snapshots of the server processes at warm-up end and load end`;

const FLAGS = ['single-process'];
const VALUED = ['duration', 'chapters', 'senders', 'churners', 'exact', 'legacy', 'send-interval', 'poll-interval', 'warmup', 'rss-limit', 'drain-timeout', 'seed', 'json', 'heap-snapshots'];

function parseOptions(argv: string[]): Options {
  const raw = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') {
      console.log(USAGE);
      process.exit(0);
    }
    const match = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!match || !(FLAGS.includes(match[1]) || VALUED.includes(match[1]))) throw new Error(`unexpected argument ${arg}\n${USAGE}`);
    if (FLAGS.includes(match[1])) {
      raw.set(match[1], 'true');
      continue;
    }
    const value = match[2] ?? argv[++i];
    if (value === undefined) throw new Error(`--${match[1]} needs a value`);
    raw.set(match[1], value);
  }
  const num = (name: string, fallback: number, min = 0) => {
    const text = raw.get(name);
    if (text === undefined) return fallback;
    const value = Number(text);
    if (!Number.isFinite(value) || value < min) throw new Error(`--${name} must be a number ≥ ${min}`);
    return value;
  };
  const durationS = num('duration', 60, 1);
  return {
    durationS,
    chapters: Math.floor(num('chapters', 3, 1)),
    senders: Math.floor(num('senders', 3)),
    churners: Math.floor(num('churners', 2)),
    exactPollers: Math.floor(num('exact', 2)),
    legacyPollers: Math.floor(num('legacy', 2)),
    sendIntervalMs: num('send-interval', 250),
    pollIntervalMs: num('poll-interval', 400),
    warmupS: num('warmup', Math.max(5, durationS * 0.15)),
    rssLimitPct: num('rss-limit', 10),
    drainTimeoutS: num('drain-timeout', 30, 1),
    seed: Math.floor(num('seed', Date.now() % 2 ** 31)),
    json: raw.get('json'),
    singleProcess: raw.has('single-process'),
    heapSnapshots: raw.get('heap-snapshots'),
  };
}

// ---------------------------------------------------------------------------------------------
// Small helpers

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));


const mb = (bytes: number | undefined) => (bytes === undefined || !Number.isFinite(bytes) ? '-' : `${(bytes / 1024 / 1024).toFixed(1)} MB`);
const pct = (value: number) => (Number.isFinite(value) ? `${value >= 0 ? '+' : ''}${value.toFixed(1)} %` : '-');

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

// ---------------------------------------------------------------------------------------------
// The server processes

interface ProbeAnswer {
  gc: boolean;
  usage: NodeJS.MemoryUsage;
  /** Open resources (iterators) of dynalite's storage in that process. */
  openResources: number;
  /** VmRSS read from /proc right after the probe answered. */
  rss: number;
}

interface NodeProcess {
  name: string;
  pid: number;
  url: string;
  /** Lines the process wrote to stderr (the handlers log failed requests there). */
  stderrLines: string[];
  /** process.memoryUsage() inside the process (bench/soak-probe.ts), after a forced full GC when `gc`. */
  probe(options: { gc: boolean; snapshot?: string }): Promise<ProbeAnswer>;
  stop(): Promise<void>;
}

/** VmRSS of a process, in bytes (Linux /proc). */
function readRss(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Every pid this run started, killed on any exit (a failure or a signal included). */
const started = new Set<number>();
process.once('exit', () => {
  for (const pid of started) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

/**
 * Starts `node <script> <args>` from the project root, under tsx, as a process of its own (its pid
 * is the server's), plus --expose-gc and bench/soak-probe.ts (answers memory probes on the IPC
 * channel, after a forced full GC). Resolves once the process printed `listening on <url>`.
 */
async function startNode(name: string, script: string[], env: NodeJS.ProcessEnv): Promise<NodeProcess> {
  const args = ['--expose-gc', '--import', 'tsx', '--import', './bench/soak-probe.ts', ...script];
  const child: ChildProcess = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${name}`);
  started.add(pid);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => started.delete(pid));

  let probeId = 0;
  const waiting = new Map<number, (answer: ProbeAnswer) => void>();
  child.on('message', (message: { probe?: string; id: number } & Omit<ProbeAnswer, 'rss'>) => {
    if (message?.probe !== 'memory') return;
    const { gc, usage, openResources } = message;
    waiting.get(message.id)?.({ gc, usage, openResources, rss: readRss(pid) ?? usage.rss });
    waiting.delete(message.id);
  });
  const probe = (options: { gc: boolean; snapshot?: string }) =>
    new Promise<ProbeAnswer>((resolve, reject) => {
      const id = ++probeId;
      const timer = setTimeout(() => reject(new Error(`the memory probe of ${name} did not answer in 60 s`)), 60_000);
      waiting.set(id, (answer) => {
        clearTimeout(timer);
        resolve(answer);
      });
      child.send({ probe: options.snapshot ? 'snapshot' : 'memory', id, gc: options.gc, file: options.snapshot });
    });

  const stderrLines: string[] = [];
  let stderrTail = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderrTail += chunk;
    const lines = stderrTail.split('\n');
    stderrTail = lines.pop()!;
    for (const line of lines) if (line.trim()) stderrLines.push(line);
  });
  // Read all of stdout (a full pipe would stall the server); keep only its start.
  let head = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start in 60 s: ${head}`)), 60_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      if (head.length < 10_000) head += chunk;
      const listening = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(head);
      if (listening) {
        clearTimeout(timer);
        resolve(listening[1]);
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code ?? signal}) before listening: ${head}${stderrLines.join('\n')}`));
    });
  });
  return {
    name,
    pid,
    url,
    stderrLines,
    probe,
    stop: async () => {
      if (!started.has(pid)) return;
      process.kill(pid, 'SIGTERM');
      if ((await Promise.race([exited.then(() => 'exited' as const), sleep(5000)])) !== 'exited') {
        process.kill(pid, 'SIGKILL');
        await exited;
      }
    },
  };
}

/** The API process (measured and checked) and, unless single-process, the database's process. */
async function startServers(options: Options): Promise<{ api: NodeProcess; db?: NodeProcess }> {
  const env = { DYNAMODB_ENDPOINT: '', TABLE_NAME: '' };
  if (options.singleProcess) {
    return { api: await startNode('server', [path.join('local', 'start.ts'), '--memory'], { ...env, PORT: '0', DYNAMODB_PORT: '0' }) };
  }
  const db = await startNode('dynalite', [path.join('bench', 'soak-server.ts'), 'db'], env);
  const api = await startNode('api', [path.join('bench', 'soak-server.ts'), 'api'], { ...env, SOAK_DYNAMODB_ENDPOINT: db.url });
  return { api, db };
}

// ---------------------------------------------------------------------------------------------
// The HTTP client: keep-alive, loopback, every answer counted by route and status

type Route = 'find_group_chat' | 'send_group_chat' | 'join_group_chat' | 'leave_group_chat' | 'nope';

interface Answer {
  status: number;
  body: { code: number; msg: string; data: unknown };
}

class Client {
  /**
   * Keep-alive. Idle sockets are dropped after 2 s, well before the server's 5 s keep-alive timeout
   * (Node's agent already keeps a 1 s margin to it; on a loaded machine that was not enough once).
   */
  readonly agent = new http.Agent({ keepAlive: true, maxSockets: 256, timeout: 2000 });
  /** `route status` → count; `route error` is a transport error (no answer). */
  readonly statuses = new Map<string, number>();
  readonly latencies = new Map<Route, number[]>();
  /** Answers with a status the request did not expect. */
  readonly unexpected: string[] = [];
  readonly transportErrors: string[] = [];
  /** The verifier's reads are counted apart from the load's. */
  counting = true;

  constructor(private readonly base: URL) {}

  async post(
    route: Route,
    params: Record<string, string | number>,
    options: { form?: boolean; headers?: Record<string, string> } = {},
  ): Promise<Answer | undefined> {
    const body = options.form
      ? new URLSearchParams(Object.entries(params).map(([k, v]): [string, string] => [k, String(v)])).toString()
      : JSON.stringify(params);
    const headers = {
      'content-type': options.form ? 'application/x-www-form-urlencoded' : 'application/json',
      'content-length': String(Buffer.byteLength(body)),
      ...options.headers,
    };
    const started = performance.now();
    const label = this.counting ? route : `${route} (verify)`;
    let reused = false;
    try {
      const answer = await new Promise<Answer>((resolve, reject) => {
        const request = http.request(
          { host: this.base.hostname, port: this.base.port, path: `/message/${route}`, method: 'POST', headers, agent: this.agent },
          (response) => {
            const chunks: Buffer[] = [];
            response.on('data', (chunk: Buffer) => chunks.push(chunk));
            response.on('end', () => {
              try {
                resolve({ status: response.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
              } catch (error) {
                reject(error);
              }
            });
            response.on('error', reject);
          },
        );
        request.on('socket', () => (reused = request.reusedSocket));
        request.setTimeout(30_000, () => request.destroy(new Error('no answer in 30 s')));
        request.on('error', reject);
        request.end(body);
      });
      this.count(`${label} ${answer.status}`);
      if (this.counting) {
        const list = this.latencies.get(route) ?? [];
        list.push(performance.now() - started);
        this.latencies.set(route, list);
      }
      return answer;
    } catch (error) {
      this.count(`${label} error`);
      if (this.transportErrors.length < 20) {
        this.transportErrors.push(`${route}: ${(error as Error).message}${reused ? ' (on a reused keep-alive socket)' : ''}`);
      }
      return undefined;
    }
  }

  private count(key: string) {
    this.statuses.set(key, (this.statuses.get(key) ?? 0) + 1);
  }

  expect(answer: Answer | undefined, statuses: number[], what: string): boolean {
    if (answer && statuses.includes(answer.status)) return true;
    if (answer && this.unexpected.length < 20) this.unexpected.push(`${what}: ${answer.status} ${answer.body?.msg}`);
    return false;
  }
}

interface User {
  user_id: number;
  user_type: number;
  user_name: string;
}

const identity = (u: User) => ({ 'x-user-id': String(u.user_id), 'x-user-type': String(u.user_type), 'x-user-name': encodeURIComponent(u.user_name) });

// ---------------------------------------------------------------------------------------------
// The run

interface ChapterLedger {
  chapterId: number;
  /** What sends answered 200 with. */
  accepted: Message[];
  /** Bodies of sends whose outcome the client cannot know (a 5xx or no answer, not retried to a 200). */
  ambiguous: Set<string>;
  members: number;
}

interface Poller {
  chapterId: number;
  mode: 'last_id' | 'msg_time';
  limit?: number;
  received: Message[];
  polls: number;
  caughtUp: boolean;
}

type Point = 'start' | 'warmupEnd' | 'loadEnd' | 'drained';
const POINTS: Point[] = ['start', 'warmupEnd', 'loadEnd', 'drained'];

/** What is measured of one server process. */
interface Measured {
  process: NodeProcess;
  /** VmRSS every 250 ms. */
  samples: RssSample[];
  /** VmRSS right after a forced full GC, every GC_PROBE_MS during the load (and at its end). */
  gcSamples: RssSample[];
  probes: Partial<Record<Point, ProbeAnswer>>;
}

/** How often the server processes are asked for a full GC and their RSS during the load. */
const GC_PROBE_MS = 3000;

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  const random = seededRandom(options.seed);
  const jitter = (mean: number) => mean * (0.5 + random());
  const chapterIds = Array.from({ length: options.chapters }, (_, i) => 1001 + i);

  console.log(
    `soak: ${options.durationS} s of load on ${options.chapters} chapter(s), per chapter ${options.senders} senders, ` +
      `${options.churners} churners, ${options.exactPollers} exact + ${options.legacyPollers} legacy pollers; seed ${options.seed}`,
  );
  const servers = await startServers(options);
  const server = servers.api;
  const measured: Measured[] = [servers.api, ...(servers.db ? [servers.db] : [])].map((p) => ({ process: p, samples: [], gcSamples: [], probes: {} }));
  const stopAll = async () => {
    for (const m of measured) await m.process.stop();
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.error(`\nsoak: ${signal}, stopping the server processes (${measured.map((m) => m.process.pid).join(', ')})`);
      void stopAll().finally(() => process.exit(130));
    });
  }
  console.log(`soak: ${measured.map((m) => `${m.process.name} pid ${m.process.pid} at ${m.process.url}`).join(', ')}`);

  const client = new Client(new URL(server.url));
  const counters = { sends: { withId: 0, withoutId: 0, retried503: 0, ambiguous: 0 }, joins: 0, leaves: 0, refusals: 0 };
  const ledgers = new Map<number, ChapterLedger>(chapterIds.map((id) => [id, { chapterId: id, accepted: [], ambiguous: new Set(), members: 0 }]));
  const pollers: Poller[] = [];

  let loadStart = performance.now();
  const sampleRss = () => {
    for (const m of measured) {
      const value = readRss(m.process.pid);
      if (value !== undefined) m.samples.push({ t: performance.now() - loadStart, rss: value });
    }
  };
  const probeAll = async (point: Point) => {
    for (const m of measured) {
      const snapshot =
        options.heapSnapshots && (point === 'warmupEnd' || point === 'loadEnd')
          ? path.resolve(options.heapSnapshots, `soak-${m.process.name}-${m.process.pid}-${point}.heapsnapshot`)
          : undefined;
      const answer = await m.process.probe({ gc: true, snapshot });
      m.probes[point] = answer;
      if (point === 'warmupEnd' || point === 'loadEnd') m.gcSamples.push({ t: performance.now() - loadStart, rss: answer.rss });
    }
  };
  let gcProbing = false;
  const gcProbe = async () => {
    if (gcProbing) return;
    gcProbing = true;
    try {
      for (const m of measured) m.gcSamples.push({ t: performance.now() - loadStart, rss: (await m.process.probe({ gc: true })).rss });
    } finally {
      gcProbing = false;
    }
  };

  /** Joins until a 200 (a join is idempotent; 503 is retry-safe). */
  async function join(chapterId: number, user: User): Promise<number | undefined> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const answer = await client.post('join_group_chat', { id: chapterId }, { form: random() < 0.5, headers: identity(user) });
      if (answer?.status === 200) {
        counters.joins++;
        return (answer.body.data as { member_count: number }).member_count;
      }
      if (!client.expect(answer, [503], `join ${chapterId} by ${user.user_id}`)) return undefined;
      await sleep(50 + random() * 100);
    }
    return undefined;
  }

  async function leave(chapterId: number, user: User): Promise<void> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const answer = await client.post('leave_group_chat', { id: chapterId }, { form: random() < 0.5, headers: identity(user) });
      if (answer?.status === 200) {
        counters.leaves++;
        return;
      }
      if (!client.expect(answer, [503], `leave ${chapterId} by ${user.user_id}`)) return;
      await sleep(50 + random() * 100);
    }
  }

  /** One send; with a client_msg_id it is retried on 503 (safe: stored once), without it never. */
  async function send(ledger: ChapterLedger, user: User, body: string, withId: boolean): Promise<void> {
    const clientMsgId = withId ? `soak-${user.user_id}-${counters.sends.withId + counters.sends.withoutId}` : undefined;
    if (withId) counters.sends.withId++;
    else counters.sends.withoutId++;
    const params = { id: ledger.chapterId, msg_body: body, ...(clientMsgId && { client_msg_id: clientMsgId }) };
    for (let attempt = 0; attempt < 10; attempt++) {
      const answer = await client.post('send_group_chat', params, { form: random() < 0.5, headers: identity(user) });
      if (answer?.status === 200) {
        ledger.accepted.push(answer.body.data as Message);
        return;
      }
      if (answer && answer.status < 500) {
        client.expect(answer, [], `send ${ledger.chapterId} by ${user.user_id}`);
        return; // refused: nothing stored
      }
      // A 5xx or no answer: the message may or may not be stored.
      if (!clientMsgId || answer?.status !== 503) break;
      counters.sends.retried503++;
      await sleep(50 + random() * 150);
    }
    counters.sends.ambiguous++;
    ledger.ambiguous.add(body);
  }

  // Members for the whole run: the senders join before the load starts.
  const senders = chapterIds.flatMap((chapterId, c) =>
    Array.from({ length: options.senders }, (_, i) => ({
      chapterId,
      user: { user_id: 10_000 + c * 100 + i, user_type: 1 + (i % 2), user_name: i % 2 ? `Sender ${i}` : `学生 ${i}` } as User,
    })),
  );
  for (const s of senders) {
    if ((await join(s.chapterId, s.user)) === undefined) throw new Error(`sender ${s.user.user_id} could not join`);
    ledgers.get(s.chapterId)!.members++;
  }

  await probeAll('start');
  loadStart = performance.now();
  const loadEndsAt = loadStart + options.durationS * 1000;
  const loading = () => performance.now() < loadEndsAt;
  /** A client's pause, cut short at the end of the load. */
  const pause = (ms: number) => sleep(Math.max(0, Math.min(ms, loadEndsAt - performance.now())));
  const rssTimer = setInterval(sampleRss, 250);
  sampleRss();
  const gcTimer = setInterval(() => void gcProbe(), GC_PROBE_MS);
  const warmupEndMs = Math.min(options.warmupS, options.durationS) * 1000;
  const warmupProbe = sleep(warmupEndMs).then(() => probeAll('warmupEnd'));
  const progressTimer = setInterval(() => {
    const elapsed = (performance.now() - loadStart) / 1000;
    if (elapsed > options.durationS) return;
    const accepted = [...ledgers.values()].reduce((n, l) => n + l.accepted.length, 0);
    const polls = pollers.reduce((n, p) => n + p.polls, 0);
    const rss = measured.map((m) => `${m.process.name} rss ${mb(m.samples.at(-1)?.rss)}`).join(', ');
    console.log(`  ${elapsed.toFixed(0).padStart(4)} s  messages ${accepted}  polls ${polls}  ${rss}`);
  }, 10_000);

  let sequence = 0;
  const senderRuns = senders.map(async ({ chapterId, user }) => {
    const ledger = ledgers.get(chapterId)!;
    await pause(random() * options.sendIntervalMs);
    while (loading()) {
      const n = ++sequence;
      const body = random() < 0.1 ? `soak ${n} ${'长消息 '.repeat(50)}` : `soak ${n} from ${user.user_id}`;
      await send(ledger, user, body, random() < 0.7);
      await pause(jitter(options.sendIntervalMs));
    }
  });

  const churnerRuns = chapterIds.flatMap((chapterId, c) =>
    Array.from({ length: options.churners }, async (_, i) => {
      const ledger = ledgers.get(chapterId)!;
      let round = 0;
      await pause(random() * 500);
      while (loading()) {
        // Seven users take turns, so member items come and go rather than one flipping.
        const user: User = { user_id: 50_000 + c * 1000 + i * 100 + (round++ % 7), user_type: 2, user_name: `Churner ${i}` };
        if ((await join(chapterId, user)) !== undefined) {
          if (random() < 0.5) await send(ledger, user, `soak ${++sequence} churner ${user.user_id}`, true);
          await sleep(jitter(200));
          await leave(chapterId, user);
        }
        await pause(jitter(300));
      }
    }),
  );

  // Requests that must be refused, so the load is not all happy paths.
  const refusalRun = (async () => {
    const outsider: User = { user_id: 99_999, user_type: 2, user_name: 'Outsider' };
    while (loading()) {
      const chapterId = chapterIds[Math.floor(random() * chapterIds.length)];
      const pick = Math.floor(random() * 4);
      if (pick === 0) client.expect(await client.post('find_group_chat', { id: chapterId, last_id: 0, limit: 500 }), [400], 'poll with limit 500');
      if (pick === 1) client.expect(await client.post('send_group_chat', { id: chapterId, msg_body: 'not a member' }, { headers: identity(outsider) }), [403], 'send by a non-member');
      if (pick === 2) client.expect(await client.post('send_group_chat', { id: chapterId, msg_body: 'x' }), [401], 'send without identity');
      if (pick === 3) client.expect(await client.post('nope', { id: chapterId }), [404], 'unknown route');
      counters.refusals++;
      await pause(jitter(500));
    }
  })();

  // Pollers keep their cursor as a client would and follow has_more; they stop once caught up
  // after the load (a poll that started when every message was servable answered has_more false).
  let drainReady = false;
  let drainDeadline = Infinity;
  const limits = [undefined, 10, 50, 200];
  const pollerRuns = chapterIds.flatMap((chapterId) =>
    [...Array(options.exactPollers).fill('last_id'), ...Array(options.legacyPollers).fill('msg_time')].map(async (mode: Poller['mode'], i) => {
      // Each mode meets every page size across the chapters.
      const limit = limits[(i + chapterId) % limits.length];
      const poller: Poller = { chapterId, mode, limit, received: [], polls: 0, caughtUp: false };
      pollers.push(poller);
      let cursor = 0;
      await sleep(random() * options.pollIntervalMs);
      while (performance.now() < drainDeadline) {
        const finalRound = drainReady;
        const params = { id: chapterId, [mode]: cursor, ...(limit && { limit }) };
        // Legacy clients send the original form body; exact-mode clients JSON.
        const answer = await client.post('find_group_chat', params, { form: mode === 'msg_time' });
        poller.polls++;
        if (answer?.status !== 200) {
          client.expect(answer, [], `poll ${chapterId} ${mode}`);
          await sleep(100);
          continue;
        }
        const page = answer.body.data as { list: Message[]; has_more: boolean };
        poller.received.push(...page.list);
        const last = page.list.at(-1);
        if (last) cursor = mode === 'last_id' ? last.id : last.create_time;
        if (page.has_more) continue;
        if (finalRound) {
          poller.caughtUp = true;
          return;
        }
        await sleep(jitter(options.pollIntervalMs));
      }
    }),
  );

  await Promise.all([...senderRuns, ...churnerRuns, refusalRun]);
  const loadEndMs = performance.now() - loadStart;
  clearInterval(progressTimer);
  clearInterval(gcTimer);
  await warmupProbe;
  while (gcProbing) await sleep(10);
  await probeAll('loadEnd');

  // Drain: every message is servable in legacy mode once its second has passed plus the margin.
  const newestCreateTime = Math.max(Math.floor(Date.now() / 1000), ...[...ledgers.values()].flatMap((l) => l.accepted.map((m) => m.create_time)));
  while (newestServableSecond(Date.now()) < newestCreateTime) await sleep(50);
  drainReady = true;
  drainDeadline = performance.now() + options.drainTimeoutS * 1000;
  await Promise.all(pollerRuns);
  const drainMs = performance.now() - loadStart - loadEndMs;
  clearInterval(rssTimer);
  sampleRss();

  // The stored log of each chapter and its member_count, read through the API after the load.
  client.counting = false;
  const logs = new Map<number, { log: Message[]; memberCount: number | undefined }>();
  for (const chapterId of chapterIds) {
    const log: Message[] = [];
    let memberCount: number | undefined;
    for (let more = true, lastId = 0, failures = 0; more; ) {
      const answer = await client.post('find_group_chat', { id: chapterId, last_id: lastId, limit: 200 });
      if (answer?.status !== 200) {
        client.expect(answer, [], `verifier read of ${chapterId}`);
        if (++failures === 20) break; // the log stays short: the checks fail
        await sleep(100);
        continue;
      }
      const page = answer.body.data as { list: Message[]; has_more: boolean; member_count: number };
      log.push(...page.list);
      lastId = page.list.at(-1)?.id ?? lastId;
      more = page.has_more;
      memberCount = page.member_count;
    }
    logs.set(chapterId, { log, memberCount });
  }
  await probeAll('drained');
  await stopAll();

  // ---- verdicts
  // The baseline is the lowest RSS after a forced GC in the window that follows the warm-up, the
  // end the lowest in the load's last window: a leak lifts the floor, while GC and allocator noise
  // (V8 keeps freed pages a while) only moves single points.
  const windowMs = Math.max(2 * GC_PROBE_MS, loadEndMs * 0.1);
  const baselineWindow: [number, number] = [warmupEndMs, warmupEndMs + windowMs];
  const endWindow: [number, number] = [loadEndMs - windowMs, loadEndMs + 60_000];
  const memory = measured.map((m) => {
    const before = windowMin(m.gcSamples, ...baselineWindow);
    const after = windowMin(m.gcSamples, ...endWindow);
    return {
      name: m.process.name,
      pid: m.process.pid,
      ...growthVerdict(before, after, options.rssLimitPct, endWindow[0] - baselineWindow[1] >= 10_000),
      sampled: {
        max: Math.max(0, ...m.samples.filter((s) => s.t <= loadEndMs).map((s) => s.rss)),
        warmupEndTrough: windowMin(m.samples, ...baselineWindow),
        loadEndTrough: windowMin(m.samples, loadEndMs - windowMs, loadEndMs),
      },
    };
  });
  const apiMemory = memory[0];

  const pollerVerdicts: { poller: Poller; verdict: DeliveryVerdict }[] = pollers.map((poller) => {
    const ledger = ledgers.get(poller.chapterId)!;
    return { poller, verdict: checkDelivery(poller.received, ledger.accepted, ledger.ambiguous, logs.get(poller.chapterId)!.log) };
  });
  const logVerdicts = chapterIds.map((chapterId) => {
    const ledger = ledgers.get(chapterId)!;
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
  for (const p of pollers) polls[p.mode] += p.polls;
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
  const passed = checks.every((c) => c.ok);

  // ---- the summary
  const out: string[] = [];
  out.push('', '=== soak summary ===', '');
  out.push(
    table(
      ['run', 'value'],
      [
        [
          'processes',
          options.singleProcess ? `local/start.ts --memory (API + dynalite), pid ${server.pid}` : `API pid ${server.pid}, dynalite pid ${servers.db!.pid} (bench/soak-server.ts)`,
        ],
        ['load duration', `${(loadEndMs / 1000).toFixed(1)} s (warm-up ${(warmupEndMs / 1000).toFixed(1)} s)`],
        ['drain (pollers catching up)', `${(drainMs / 1000).toFixed(1)} s`],
        ['chapters × clients', `${options.chapters} × (${options.senders} senders, ${options.churners} churners, ${options.exactPollers} exact + ${options.legacyPollers} legacy pollers)`],
        ['requests (load)', `${requests} (${(requests / (loadEndMs / 1000)).toFixed(0)}/s over the load phase)`],
        [
          'messages accepted',
          `${messages} (sends: ${counters.sends.withId} with client_msg_id, ${counters.sends.withoutId} without; ${counters.sends.retried503} retried after 503; ${counters.sends.ambiguous} outcome unknown)`,
        ],
        ['polls', `${polls.last_id + polls.msg_time} (exact last_id ${polls.last_id}, legacy msg_time ${polls.msg_time})`],
        ['joins / leaves / refusals', `${counters.joins} / ${counters.leaves} / ${counters.refusals}`],
        ['server stderr lines', measured.map((m) => `${m.process.name} ${m.process.stderrLines.length}`).join(', ')],
        ['seed', `${options.seed}`],
      ],
    ),
  );
  out.push('', "requests by route and status (error = no answer; verify = the checker's own reads after the load)", '');
  const latencyOf = (route: string) => {
    const sorted = [...(client.latencies.get(route as Route) ?? [])].sort((a, b) => a - b);
    return sorted.length === 0 ? ['', '', ''] : [percentile(sorted, 50).toFixed(1), percentile(sorted, 99).toFixed(1), sorted[sorted.length - 1].toFixed(0)];
  };
  const routes = [...new Set(statusEntries.map(([key]) => key.slice(0, key.lastIndexOf(' '))))];
  const statusNames = [...new Set(statusEntries.map(([key]) => key.slice(key.lastIndexOf(' ') + 1)))].sort();
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
      pollerVerdicts
        .sort((a, b) => a.poller.chapterId - b.poller.chapterId || a.poller.mode.localeCompare(b.poller.mode))
        .map(({ poller, verdict }) => [
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
      logVerdicts.map((l) => [
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
    'server memory, right after a forced full GC (gc() inside the process, bench/soak-probe.ts). The check: the lowest such RSS',
    `of the ${apiMemory.name} process in ${span(baselineWindow)} (after the warm-up) vs. the lowest in ${span(endWindow)} (the load's end); taken every ${GC_PROBE_MS / 1000} s.`,
    '',
  );
  const memoryRows: (string | number)[][] = [];
  for (const m of measured) {
    for (const point of POINTS) {
      const p = m.probes[point];
      memoryRows.push([
        point === 'start' ? m.process.name : '',
        point,
        mb(p?.rss),
        mb(p?.usage.heapUsed),
        mb(p?.usage.heapTotal),
        mb(p?.usage.external),
        mb(p?.usage.arrayBuffers),
        p ? p.openResources : '-',
      ]);
    }
  }
  out.push(table(['process', 'point', 'rss', 'heap used', 'heap total', 'external', 'array buffers', 'open dynalite iterators'], memoryRows));
  for (const [i, m] of measured.entries()) {
    const v = memory[i];
    const series = m.gcSamples.map((s) => `${(s.rss / 1024 / 1024).toFixed(0)}`).join(' ');
    out.push(
      `  ${m.process.name}: RSS after GC ${mb(v.before)} → ${mb(v.after)} (${pct(v.growthPct)}); without forced GC (every 250 ms): ` +
        `max ${mb(v.sampled.max)}, lowest ${mb(v.sampled.warmupEndTrough)} → ${mb(v.sampled.loadEndTrough)} in the same windows`,
      `    after-GC series (MB, every ${GC_PROBE_MS / 1000} s): ${series}`,
    );
  }
  out.push('', 'checks', '');
  out.push(table(['check', 'result', 'verdict'], checks.map((c) => [c.name, c.detail, c.ok ? 'PASS' : 'FAIL'])));
  const problems = [
    ...client.unexpected.map((u) => `unexpected status: ${u}`),
    ...client.transportErrors.map((e) => `transport error: ${e}`),
    ...pollerVerdicts.flatMap(({ poller, verdict }) => verdict.examples.map((e) => `poller ${poller.chapterId}/${poller.mode}: ${e}`)),
    ...logVerdicts.flatMap((l) => l.verdict.examples.map((e) => `log ${l.chapterId}: ${e}`)),
    ...measured.flatMap((m) => m.process.stderrLines.slice(0, 5).map((line) => `${m.process.name} stderr: ${line.slice(0, 600)}`)),
  ];
  if (problems.length) out.push('', 'problems (the first of each kind)', ...problems.slice(0, 40).map((p) => `  ${p}`));
  out.push('', `soak: ${passed ? 'PASS' : 'FAIL'}`);
  console.log(out.join('\n'));

  if (options.json) {
    const summary = {
      passed,
      options,
      loadMs: Math.round(loadEndMs),
      drainMs: Math.round(drainMs),
      requests,
      messages,
      polls,
      sends: counters.sends,
      joins: counters.joins,
      leaves: counters.leaves,
      refusals: counters.refusals,
      statuses: Object.fromEntries(statusEntries),
      memory: memory.map((v, i) => ({
        ...v,
        probes: measured[i].probes,
        samples: measured[i].samples.map((s) => [Math.round(s.t), s.rss]),
        gcSamples: measured[i].gcSamples.map((s) => [Math.round(s.t), s.rss]),
        stderr: measured[i].process.stderrLines.slice(0, 20),
      })),
      pollers: pollerVerdicts.map(({ poller, verdict }) => ({
        chapterId: poller.chapterId,
        mode: poller.mode,
        limit: poller.limit ?? null,
        polls: poller.polls,
        caughtUp: poller.caughtUp,
        ...verdict,
      })),
      chapters: logVerdicts,
      checks,
      problems,
    };
    writeFileSync(options.json, `${JSON.stringify(summary, null, 2)}\n`);
  }
  return passed ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error('soak: the run broke:', error);
    process.exit(2);
  },
);
