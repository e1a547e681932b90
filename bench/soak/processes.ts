/**
 * The soak's server processes (bench/soak/run.ts): started as node processes of their own, their RSS
 * sampled and their memory probed after a forced full GC (bench/soak/probe.ts) during the load,
 * and stopped, on any exit of the soak too.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RssSample } from './check';
import type { Options } from './options';

const ROOT = path.resolve(__dirname, '../..');

export interface ProbeAnswer {
  gc: boolean;
  usage: NodeJS.MemoryUsage;
  /** Open resources (iterators) of dynalite's storage in that process. */
  openResources: number;
  /** VmRSS read from /proc right after the probe answered. */
  rss: number;
}

export interface NodeProcess {
  name: string;
  pid: number;
  url: string;
  /** Lines the process wrote to stderr (the handlers log failed requests there). */
  stderrLines: string[];
  /** process.memoryUsage() inside the process (bench/soak/probe.ts), after a forced full GC when `gc`. */
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
 * is the server's), plus --expose-gc and bench/soak/probe.ts (answers memory probes on the IPC
 * channel, after a forced full GC). Resolves once the process printed `listening on <url>`.
 */
async function startNode(name: string, script: string[], env: NodeJS.ProcessEnv): Promise<NodeProcess> {
  const args = ['--expose-gc', '--import', 'tsx', '--import', './bench/soak/probe.ts', ...script];
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

export type Point = 'start' | 'warmupEnd' | 'loadEnd' | 'drained';
export const POINTS: Point[] = ['start', 'warmupEnd', 'loadEnd', 'drained'];

/** How often the server processes are asked for a full GC and their RSS during the load. */
export const GC_PROBE_MS = 3000;

/** What is measured of one server process. */
export interface Measured {
  process: NodeProcess;
  /** VmRSS every 250 ms. */
  samples: RssSample[];
  /** VmRSS right after a forced full GC, every GC_PROBE_MS during the load (and at its end). */
  gcSamples: RssSample[];
  probes: Partial<Record<Point, ProbeAnswer>>;
}

/** The server processes of one run and what is measured of them, timed from the start of the load. */
export class Servers {
  /** The API process first (measured and checked), then the database's unless single-process. */
  readonly measured: Measured[];
  /** performance.now() when the load started. */
  loadStart = performance.now();
  private rssTimer?: NodeJS.Timeout;
  private gcTimer?: NodeJS.Timeout;
  private warmupProbe?: Promise<void>;
  private gcProbing = false;

  private constructor(
    readonly api: NodeProcess,
    readonly db: NodeProcess | undefined,
    private readonly heapSnapshots: string | undefined,
  ) {
    this.measured = [api, ...(db ? [db] : [])].map((p) => ({ process: p, samples: [], gcSamples: [], probes: {} }));
  }

  /** The API process (measured and checked) and, unless single-process, the database's process. */
  static async start(options: Options): Promise<Servers> {
    const env = { DYNAMODB_ENDPOINT: '', TABLE_NAME: '' };
    let servers: Servers;
    if (options.singleProcess) {
      const api = await startNode('server', [path.join('local', 'start.ts'), '--memory'], { ...env, PORT: '0', DYNAMODB_PORT: '0' });
      servers = new Servers(api, undefined, options.heapSnapshots);
    } else {
      const db = await startNode('dynalite', [path.join('bench', 'soak', 'server.ts'), 'db'], env);
      const api = await startNode('api', [path.join('bench', 'soak', 'server.ts'), 'api'], { ...env, SOAK_DYNAMODB_ENDPOINT: db.url });
      servers = new Servers(api, db, options.heapSnapshots);
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

  async stopAll(): Promise<void> {
    for (const m of this.measured) await m.process.stop();
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
