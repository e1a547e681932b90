/** The options of `npm run soak` (bench/soak/run.ts) and their usage text. */

export interface Options {
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
  /** A DynamoDB engine that runs already (the tests' one, moto, a sandbox account) instead of a DynamoDB Local of the soak's own. */
  endpoint?: string;
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
  --single-process    run local/start.ts --memory (the API in one process that starts its own
                      DynamoDB Local, as npm start does)
  --endpoint URL      use the DynamoDB engine at URL (a table of the soak's own, deleted at the end)
                      instead of starting DynamoDB Local; not with --single-process
  --heap-snapshots DIR  diagnosis: heap snapshots of the server processes at warm-up end and load end`;

const FLAGS = ['single-process'];
const VALUED = ['duration', 'chapters', 'senders', 'churners', 'exact', 'legacy', 'send-interval', 'poll-interval', 'warmup', 'rss-limit', 'drain-timeout', 'seed', 'json', 'endpoint', 'heap-snapshots'];

/** The options in `argv`; prints the usage and exits 0 on --help, throws on anything it does not know. */
export function parseOptions(argv: string[]): Options {
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
  if (raw.has('endpoint') && raw.has('single-process')) throw new Error(`--endpoint and --single-process do not go together\n${USAGE}`);
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
    endpoint: raw.get('endpoint'),
    heapSnapshots: raw.get('heap-snapshots'),
  };
}
