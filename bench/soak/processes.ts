/**
 * The soak's server processes (bench/soak/run.ts): the API as a node process of its own, its RSS
 * sampled and its memory probed after a forced full GC (bench/soak/probe.ts) during the load; the
 * database, AWS's DynamoDB Local, as a java process (its RSS sampled, for information); all stopped
 * on any exit of the soak too.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ENV } from '../../lambda/contract';
import { deleteTable, EngineUnreachableError, ensureTable, localClient, requireAnswer } from '../../local/dynamodb';
import { startDynamoDbLocal } from '../../local/dynamodb-local';
import { LOCAL_TABLE_NAME } from '../../local/environment';
import type { RssSample } from './check';
import type { Options } from './options';

const ROOT = path.resolve(__dirname, '../..');

export interface ProbeAnswer {
  /** Whether a full GC ran in the process first (node processes only). */
  gc: boolean;
  /** process.memoryUsage() inside a node process; absent for java. */
  usage?: NodeJS.MemoryUsage;
  /** VmRSS read from /proc right after the probe answered (NaN once the process is gone). */
  rss: number;
}

export interface ServerProcess {
  name: string;
  kind: 'node' | 'java';
  pid: number;
  url: string;
  /** Lines the process wrote to stderr (the handlers log failed requests there); none kept for java. */
  stderrLines: string[];
  /** node: process.memoryUsage() inside the process (bench/soak/probe.ts), after a forced full GC when `gc`; java: VmRSS only. */
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
 * The young generation's cap for the measured node process: 16 MB per semi-space, Node.js 20's
 * default. Node.js 24 lets it grow to 64 MB per semi-space under sustained allocation (on this
 * 24 GB machine), which a 60-s soak saw as +54 MB of RSS after a forced GC, well into the load, with
 * heapUsed flat at 16 MB: no leak, but enough to fail the 10 % check. With the cap, RSS after GC
 * measures what the process retains, as it did on Node.js 20 (+2 % there). A Lambda function's heap
 * is sized from its memory setting, so its young generation is small anyway.
 */
export const SEMI_SPACE_MB = 16;

/**
 * Starts `node <script> <args>` from the project root, under tsx, as a process of its own (its pid
 * is the server's), plus --expose-gc and bench/soak/probe.ts (answers memory probes on the IPC
 * channel, after a forced full GC) and the young generation's cap (SEMI_SPACE_MB). Resolves once
 * the process printed `listening on <url>`.
 */
async function startNode(name: string, script: string[], env: NodeJS.ProcessEnv): Promise<ServerProcess> {
  const args = ['--expose-gc', `--max-semi-space-size=${SEMI_SPACE_MB}`, '--import', 'tsx', '--import', './bench/soak/probe.ts', ...script];
  const child: ChildProcess = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${name}`);
  started.add(pid);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => started.delete(pid));

  let probeId = 0;
  const waiting = new Map<number, (answer: ProbeAnswer) => void>();
  child.on('message', (message: { probe?: string; id: number; gc: boolean; usage: NodeJS.MemoryUsage }) => {
    if (message?.probe !== 'memory') return;
    const { gc, usage } = message;
    waiting.get(message.id)?.({ gc, usage, rss: readRss(pid) ?? usage.rss });
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
    kind: 'node',
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

/** A java process as the soak measures it: VmRSS from /proc (no GC can be forced from outside). */
function javaProcess(name: string, pid: number, url: string, stop: () => Promise<void>): ServerProcess {
  return { name, kind: 'java', pid, url, stderrLines: [], probe: async () => ({ gc: false, rss: readRss(pid) ?? NaN }), stop };
}

/** The pid of the `java` child of `parent` (Linux /proc), if it has one. */
function javaChildOf(parent: number): number | undefined {
  try {
    for (const task of readdirSync(`/proc/${parent}/task`)) {
      const children = readFileSync(`/proc/${parent}/task/${task}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
      const java = children.find((pid) => {
        try {
          return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'java';
        } catch {
          return false; // gone meanwhile
        }
      });
      if (java) return java;
    }
  } catch {
    // no /proc, or the process is gone
  }
  return undefined;
}

/** Whether `pid` still runs (and is not a zombie). */
function alive(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

/**
 * The soak's database: a DynamoDB Local of its own, in memory (the soak's child, so the API
 * process holds none of the data), with the table `npm start` uses; or, with --endpoint, the
 * engine there (it must answer) with a table of the soak's own, deleted at the end.
 */
async function startDatabase(endpoint: string | undefined): Promise<{ endpoint: string; tableName: string; java?: ServerProcess; close(): Promise<void> }> {
  if (endpoint) {
    await requireAnswer(endpoint).catch((error: Error) => {
      // Its message names DYNAMODB_ENDPOINT; here the engine came from --endpoint.
      throw new EngineUnreachableError(error.message.replace(`${ENV.dynamodbEndpoint}=`, '--endpoint '));
    });
    const tableName = `soak-${randomBytes(6).toString('hex')}`;
    const db = localClient(endpoint);
    await ensureTable(db, tableName);
    return {
      endpoint,
      tableName,
      close: async () => {
        await deleteTable(db, tableName);
        db.destroy();
      },
    };
  }
  const engine = await startDynamoDbLocal();
  const db = localClient(engine.endpoint);
  try {
    await ensureTable(db, LOCAL_TABLE_NAME);
  } catch (error) {
    await engine.close();
    throw error;
  } finally {
    db.destroy();
  }
  const java = javaProcess('DynamoDB Local', engine.pid, engine.endpoint, engine.close);
  return { endpoint: engine.endpoint, tableName: LOCAL_TABLE_NAME, java, close: engine.close };
}

export type Point = 'start' | 'warmupEnd' | 'loadEnd' | 'drained';
export const POINTS: Point[] = ['start', 'warmupEnd', 'loadEnd', 'drained'];

/** How often the server processes are asked for a full GC and their RSS during the load. */
export const GC_PROBE_MS = 3000;

/** What is measured of one server process. */
export interface Measured {
  process: ServerProcess;
  /** VmRSS every 250 ms. */
  samples: RssSample[];
  /** VmRSS right after a forced full GC, every GC_PROBE_MS during the load (and at its end). */
  gcSamples: RssSample[];
  probes: Partial<Record<Point, ProbeAnswer>>;
}

/** The server processes of one run and what is measured of them, timed from the start of the load. */
export class Servers {
  /** The API process first (measured and checked), then DynamoDB Local's java process (measured, not checked) when there is one. */
  readonly measured: Measured[];
  /** performance.now() when the load started. */
  loadStart = performance.now();
  private rssTimer?: NodeJS.Timeout;
  private gcTimer?: NodeJS.Timeout;
  private warmupProbe?: Promise<void>;
  private gcProbing = false;

  private constructor(
    readonly api: ServerProcess,
    /** DynamoDB Local's java process (the soak's child, or with --single-process the server's); none with --endpoint. */
    readonly db: ServerProcess | undefined,
    /** Where the API's data is: the engine's endpoint and the table. */
    readonly database: { endpoint: string; tableName: string; external: boolean },
    private closeDatabase: () => Promise<void>,
    private readonly heapSnapshots: string | undefined,
  ) {
    this.measured = [api, ...(db ? [db] : [])].map((p) => ({ process: p, samples: [], gcSamples: [], probes: {} }));
  }

  /**
   * The API process (measured and checked) and the database: with --single-process `local/start.ts
   * --memory` (the API, and DynamoDB Local as its child), else DynamoDB Local (or --endpoint's
   * engine) and bench/soak/server.ts's API process.
   */
  static async start(options: Options): Promise<Servers> {
    const env = { DYNAMODB_ENDPOINT: '', TABLE_NAME: '' };
    let servers: Servers;
    if (options.singleProcess) {
      const api = await startNode('server', [path.join('local', 'start.ts'), '--memory'], { ...env, PORT: '0', DYNAMODB_PORT: '0' });
      const javaPid = javaChildOf(api.pid);
      let db: ServerProcess | undefined;
      if (javaPid !== undefined) {
        // The server stops it (local/start.ts); should the server have been killed, it goes too.
        started.add(javaPid);
        db = javaProcess('DynamoDB Local', javaPid, '', async () => {
          for (let i = 0; i < 100 && alive(javaPid); i++) await sleep(50);
          if (alive(javaPid)) process.kill(javaPid, 'SIGKILL');
          started.delete(javaPid);
        });
      }
      servers = new Servers(api, db, { endpoint: '(its own)', tableName: LOCAL_TABLE_NAME, external: false }, async () => undefined, options.heapSnapshots);
    } else {
      const database = await startDatabase(options.endpoint);
      let api: ServerProcess;
      try {
        api = await startNode('api', [path.join('bench', 'soak', 'server.ts'), 'api'], {
          ...env,
          SOAK_DYNAMODB_ENDPOINT: database.endpoint,
          SOAK_TABLE_NAME: database.tableName,
        });
      } catch (error) {
        await database.close();
        throw error;
      }
      const where = { endpoint: database.endpoint, tableName: database.tableName, external: Boolean(options.endpoint) };
      servers = new Servers(api, database.java, where, database.close, options.heapSnapshots);
    }
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => {
        console.error(`\nsoak: ${signal}, stopping the server processes (${servers.measured.map((m) => m.process.pid).join(', ')})`);
        void servers.stopAll().finally(() => process.exit(130));
      });
    }
    return servers;
  }

  /** The load starts now: RSS every 250 ms, after a forced GC every GC_PROBE_MS, a probe at the warm-up's end. */
  startLoad(warmupEndMs: number): void {
    this.loadStart = performance.now();
    this.rssTimer = setInterval(() => this.sampleRss(), 250);
    this.sampleRss();
    this.gcTimer = setInterval(() => void this.gcProbe(), GC_PROBE_MS);
    this.warmupProbe = sleep(warmupEndMs).then(() => this.probeAll('warmupEnd'));
  }

  /** The load has ended: no more probes during it, then the one at its end. */
  async endLoad(): Promise<void> {
    clearInterval(this.gcTimer);
    await this.warmupProbe;
    while (this.gcProbing) await sleep(10);
    await this.probeAll('loadEnd');
  }

  /** The pollers have caught up: the last RSS sample. */
  endDrain(): void {
    clearInterval(this.rssTimer);
    this.sampleRss();
  }

  async probeAll(point: Point): Promise<void> {
    for (const m of this.measured) {
      const snapshot =
        this.heapSnapshots && (point === 'warmupEnd' || point === 'loadEnd')
          ? path.resolve(this.heapSnapshots, `soak-${m.process.name}-${m.process.pid}-${point}.heapsnapshot`)
          : undefined;
      const answer = await m.process.probe({ gc: true, snapshot });
      m.probes[point] = answer;
      if (point === 'warmupEnd' || point === 'loadEnd') m.gcSamples.push({ t: performance.now() - this.loadStart, rss: answer.rss });
    }
  }

  /** The API first, then the database (a table on --endpoint's engine is deleted). Safe to call twice. */
  async stopAll(): Promise<void> {
    for (const m of this.measured) await m.process.stop();
    const close = this.closeDatabase;
    this.closeDatabase = async () => undefined;
    await close();
  }

  private sampleRss(): void {
    for (const m of this.measured) {
      const value = readRss(m.process.pid);
      if (value !== undefined) m.samples.push({ t: performance.now() - this.loadStart, rss: value });
    }
  }

  private async gcProbe(): Promise<void> {
    if (this.gcProbing) return;
    this.gcProbing = true;
    try {
      for (const m of this.measured) m.gcSamples.push({ t: performance.now() - this.loadStart, rss: (await m.process.probe({ gc: true })).rss });
    } finally {
      this.gcProbing = false;
    }
  }
}
