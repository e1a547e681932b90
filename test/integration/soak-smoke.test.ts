/**
 * Keeps `npm run soak` (bench/soak/run.ts) from rotting: its checker catches what it must catch, and a
 * 5-second run against the real local server passes with messages and polls in both modes — on the
 * test run's one engine (--endpoint, a table of the soak's own that it deletes), not a DynamoDB
 * Local of its own.
 */
import { DescribeTableCommand, ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { checkDelivery, growthVerdict, isDense, windowMin } from '../../bench/soak/check';
import type { Message } from '../../lambda/contract';
import { localClient } from '../../local/dynamodb';
import { testEndpoint } from '../support/dynamodb';

const ROOT = path.resolve(__dirname, '../..');

const message = (id: number, create_time = 1_700_000_000 + Math.floor(id / 3)): Message => ({
  id,
  user_id: 7,
  user_type: 2,
  user_name: 'u',
  msg_body: `body ${id}`,
  create_time,
});
const accepted = [1, 2, 3, 4, 5].map((id) => message(id));

describe('the soak checker', () => {
  it('passes a reader that holds every accepted message once, in order', () => {
    expect(checkDelivery(accepted, accepted)).toMatchObject({ ok: true, received: 5 });
  });

  it.each([
    ['a missing message', [1, 2, 4, 5], { missing: 1 }],
    ['a duplicate', [1, 2, 3, 3, 4, 5], { duplicates: 1 }],
    ['a message out of order', [1, 3, 2, 4, 5], { outOfOrder: 1 }],
    ['a message never accepted', [1, 2, 3, 4, 5, 6], { unexpected: 1 }],
  ])('fails %s', (_, ids, counts) => {
    const verdict = checkDelivery(ids.map((id) => message(id)), accepted);
    expect(verdict).toMatchObject({ ok: false, ...counts });
  });

  it('fails a message whose fields differ from what its send answered', () => {
    const received = accepted.map((m) => (m.id === 2 ? { ...m, create_time: m.create_time + 1 } : m));
    expect(checkDelivery(received, accepted)).toMatchObject({ ok: false, mismatched: 1 });
  });

  it('allows a stored message of unknown outcome once, and requires it when the log holds it', () => {
    const unknown = message(6);
    const ambiguous = new Set([unknown.msg_body]);
    const log = [...accepted, unknown];
    expect(checkDelivery(log, accepted, ambiguous, log).ok).toBe(true);
    expect(checkDelivery(accepted, accepted, ambiguous, log)).toMatchObject({ ok: false, missing: 1 });
    expect(checkDelivery([...log, { ...unknown, id: 7 }], accepted, ambiguous)).toMatchObject({ ok: false, duplicates: 1 });
  });

  it('knows a dense log from one with a gap', () => {
    expect(isDense(accepted)).toBe(true);
    expect(isDense([message(1), message(3)])).toBe(false);
  });

  it('judges RSS growth after the warm-up, and skips it for short runs', () => {
    const MB = 2 ** 20;
    expect(growthVerdict(100 * MB, 109 * MB, 10, true)).toMatchObject({ ok: true, growthPct: 9 });
    expect(growthVerdict(100 * MB, 111 * MB, 10, true)).toMatchObject({ ok: false, growthPct: 11 });
    expect(growthVerdict(100 * MB, NaN, 10, true).ok).toBe(false);
    expect(growthVerdict(100 * MB, 150 * MB, 10, false)).toMatchObject({ ok: true, applicable: false });
    // Troughs: the spikes of odd seconds are ignored.
    const samples = Array.from({ length: 10 }, (_, s) => ({ t: s * 1000, rss: (100 + s + (s % 2) * 50) * MB }));
    expect(windowMin(samples, 5000, 8000)).toBe(106 * MB);
    expect(windowMin(samples, 20_000, 30_000)).toBeNaN();
  });
});

describe('npm run soak -- --duration 5', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(path.join(tmpdir(), 'soak-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs the local server under mixed load and finds every message delivered exactly once', async () => {
    const json = path.join(dir, 'soak.json');
    const endpoint = testEndpoint();
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/soak/run.ts', '--duration', '5', '--json', json, '--endpoint', endpoint], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    const summary = JSON.parse(readFileSync(json, 'utf8'));
    const check = (name: string) => summary.checks.find((c: { name: string }) => c.name.startsWith(name));

    expect({ code, output: code === 0 ? '' : output }).toEqual({ code: 0, output: '' });
    expect(check('exactly once')).toMatchObject({ ok: true });
    expect(check('no 5xx')).toMatchObject({ ok: true });
    expect(summary.messages).toBeGreaterThan(20);
    expect(summary.polls.last_id).toBeGreaterThan(0);
    expect(summary.polls.msg_time).toBeGreaterThan(0);
    expect(summary.pollers.length).toBeGreaterThanOrEqual(4);
    for (const poller of summary.pollers) {
      expect(poller).toMatchObject({ ok: true, caughtUp: true, missing: 0, duplicates: 0, outOfOrder: 0, unexpected: 0 });
      expect(poller.received).toBeGreaterThan(0);
    }
    expect(output).toMatch(/soak: PASS/);

    // It used the engine it was given, and left nothing behind there.
    expect(summary.database).toMatchObject({ endpoint, external: true, tableName: expect.stringMatching(/^soak-/) });
    const db = localClient(endpoint);
    try {
      await expect(db.send(new DescribeTableCommand({ TableName: summary.database.tableName }))).rejects.toBeInstanceOf(ResourceNotFoundException);
    } finally {
      db.destroy();
    }
  }, 25_000);
});
