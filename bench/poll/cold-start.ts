/**
 * Cold start: fresh `node` processes that import a built bundle and answer one poll, the function's
 * bundle and the floor bundle alternated. They run with the deployed function's environment
 * (lib/chat-function.ts: NODE_OPTIONS=--enable-source-maps, the Powertools settings), both of them.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { ENV } from '../../lambda/contract';
import { OBSERVABILITY_ENV } from '../../lib/chat-function';
import { BENCH_DIR } from './build';
import { idlePollBody, pollEvent } from './polls';
import type { BenchDatabase } from './setup';
import { summary } from './stats';

const run = promisify(execFile);
const CHILD = path.join(__dirname, 'cold-start-child.mjs');
/** What the deployed functions set (lib/chat-function.ts). */
export const DEPLOYED_NODE_OPTIONS = '--enable-source-maps';

export interface ColdSample {
  importMs: number;
  firstPollMs: number;
  sinceProcessStartMs: number;
  cpuMs: number;
  wallMs: number;
}

async function coldStart(bundle: string, eventFile: string, env: NodeJS.ProcessEnv): Promise<ColdSample> {
  const t0 = performance.now();
  const { stdout } = await run(process.execPath, [CHILD, bundle, eventFile], { env });
  const wallMs = performance.now() - t0;
  const out = JSON.parse(stdout.trim().split('\n').pop()!) as Omit<ColdSample, 'wallMs'> & { statusCode: number };
  if (out.statusCode !== 200) throw new Error(`cold poll of ${bundle} answered ${out.statusCode}`);
  return { importMs: out.importMs, firstPollMs: out.firstPollMs, sinceProcessStartMs: out.sinceProcessStartMs, cpuMs: out.cpuMs, wallMs };
}

export interface ColdSummary {
  /** Import + first poll, wall clock. */
  initAndFirstPoll: ReturnType<typeof summary>;
  /** CPU time of import + first poll. */
  cpu: ReturnType<typeof summary>;
  importMs: number;
  firstPollMs: number;
  wall: number;
}

export interface ColdResult {
  n: number;
  nodeOptions: string;
  handler: ColdSummary;
  floor: ColdSummary;
}

export async function measureColdStart(bundle: string, floorBundle: string, db: BenchDatabase, n: number, nodeOptions = DEPLOYED_NODE_OPTIONS): Promise<ColdResult> {
  mkdirSync(BENCH_DIR, { recursive: true });
  const eventFile = path.join(BENCH_DIR, 'cold-start-event.json');
  // The production configuration: the caller's verified claims, an exact-mode idle poll.
  writeFileSync(eventFile, JSON.stringify(pollEvent(idlePollBody('exact', db.small), 'jwt')));
  const env = {
    PATH: process.env.PATH,
    NODE_OPTIONS: nodeOptions,
    ...OBSERVABILITY_ENV,
    [ENV.tableName]: db.tableName,
    [ENV.dynamodbEndpoint]: db.endpoint,
    [ENV.identitySource]: 'jwt',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  // One of each first, not counted: the file cache is warm for both, as on a Lambda host.
  await coldStart(bundle, eventFile, env);
  await coldStart(floorBundle, eventFile, env);
  const h: ColdSample[] = [];
  const f: ColdSample[] = [];
  for (let i = 0; i < n; i++) {
    if (i % 2 === 0) {
      h.push(await coldStart(bundle, eventFile, env));
      f.push(await coldStart(floorBundle, eventFile, env));
    } else {
      f.push(await coldStart(floorBundle, eventFile, env));
      h.push(await coldStart(bundle, eventFile, env));
    }
  }
  const describe = (s: ColdSample[]): ColdSummary => ({
    initAndFirstPoll: summary(s.map((x) => x.importMs + x.firstPollMs)),
    cpu: summary(s.map((x) => x.cpuMs)),
    importMs: summary(s.map((x) => x.importMs)).p50,
    firstPollMs: summary(s.map((x) => x.firstPollMs)).p50,
    wall: summary(s.map((x) => x.wallMs)).p50,
  });
  return { n, nodeOptions, handler: describe(h), floor: describe(f) };
}
