/**
 * The local server under load: `npm start -- --memory` (its own DynamoDB Local in memory, the
 * handlers served from source as `npm start` serves them) on free loopback ports, a seeded chapter,
 * then autocannon with a mix of exact and legacy polls: idle ones and ones that get a page of 20 messages.
 */
import autocannon from 'autocannon';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { ENV } from '../../lambda/contract';
import { localClient } from '../../local/dynamodb';
import { LOCAL_TABLE_NAME } from '../../local/environment';
import { PROJECT_ROOT } from './build';
import { seedChapter } from './setup';

export interface LoadResult {
  connections: number;
  durationS: number;
  requests: number;
  requestsPerSecond: number;
  latencyP50: number;
  latencyP99: number;
  latencyMax: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  mix: string[];
}

/**
 * Starts `npm start -- --memory` in its own process group (npm, tsx, the server and its java
 * process); resolves with the API URL and its database's endpoint.
 */
export function startServer(): Promise<{ child: ChildProcess; url: string; endpoint: string }> {
  const child = spawn('npm', ['start', '--', '--memory'], {
    cwd: PROJECT_ROOT,
    // Its own DynamoDB Local on a free port, never an engine DYNAMODB_ENDPOINT names.
    env: { ...process.env, PORT: '0', DYNAMODB_PORT: '0', [ENV.dynamodbEndpoint]: '' },
    stdio: ['ignore', 'pipe', 'inherit'],
    detached: true,
  });
  return new Promise((resolve, reject) => {
    let url: string | undefined;
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`npm start exited with ${code}`)));
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      url ??= /listening on (http:\/\/\S+)/.exec(line)?.[1];
      // `DynamoDB (<engine>) at <endpoint>, table …` (local/start.ts), whichever engine it runs.
      const endpoint = /DynamoDB \([^)]*\) at (http:\/\/\S+),/.exec(line)?.[1];
      if (url && endpoint) {
        child.removeAllListeners('exit');
        resolve({ child, url, endpoint });
      }
    });
  });
}

/** Ends the process group this module started (npm, tsx, the server and its java process), by its id. */
export function stopServer(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    process.kill(-child.pid!, 'SIGTERM');
  });
}

export async function measureLoad(durationS: number, connections = 32): Promise<LoadResult> {
  const { child, url, endpoint } = await startServer();
  try {
    const db = localClient(endpoint);
    const chapter = await seedChapter(db, LOCAL_TABLE_NAME, 300, 1000);
    db.destroy();
    const poll = (body: Record<string, number>) => ({
      method: 'POST',
      path: '/message/find_group_chat',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const requests = [
      poll({ id: chapter.id, last_id: chapter.lastId }),
      poll({ id: chapter.id, msg_time: chapter.lastTime }),
      poll({ id: chapter.id, last_id: chapter.lastId - 20 }),
      poll({ id: chapter.id, msg_time: chapter.lastTime - 20 }),
    ];
    const mix = ['exact idle', 'legacy idle', 'exact, 20 new', 'legacy, 20 new'];
    await autocannon({ url, connections, duration: Math.max(1, Math.round(durationS / 10)), requests }); // warm-up
    const r = await autocannon({ url, connections, duration: durationS, requests });
    return {
      connections,
      durationS,
      requests: r.requests.total,
      requestsPerSecond: r.requests.average,
      latencyP50: r.latency.p50,
      latencyP99: r.latency.p99,
      latencyMax: r.latency.max,
      errors: r.errors,
      timeouts: r.timeouts,
      non2xx: r.non2xx,
      mix,
    };
  } finally {
    await stopServer(child);
  }
}
