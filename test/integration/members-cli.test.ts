/**
 * `npm run members` (local/members.ts) as an operator runs it: a real process against the local
 * server (the same handlers, on DynamoDB Local) — ids from --users or a file, calls of at most 100,
 * progress and the final member_count, one-line errors with exit code 1 — and its SigV4 signing,
 * checked on the wire by a server that verifies the signature the way API Gateway does.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import { loadHandlers } from '../../local/handlers';
import { createLocalServer } from '../../local/server';
import { configureHandlers } from '../support/chat-client';
import { chapterItems, startTestTable, type TestTable } from '../support/dynamodb';

const ROOT = path.resolve(__dirname, '../..');

let table: TestTable;
let server: Server;
let url: string;
let home: string;

beforeAll(async () => {
  table = await startTestTable('cli');
  configureHandlers(table);
  server = createLocalServer(await loadHandlers());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'members-cli-'));
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await table.close();
  fs.rmSync(home, { recursive: true, force: true });
});

/**
 * No AWS credentials anywhere: no key in the environment, no config or credentials file, no
 * instance metadata. Whatever the CLI signs must come from `env`.
 */
const noCredentials = () => ({
  PATH: process.env.PATH,
  HOME: home,
  AWS_CONFIG_FILE: path.join(home, 'no-config'),
  AWS_SHARED_CREDENTIALS_FILE: path.join(home, 'no-credentials'),
  AWS_EC2_METADATA_DISABLED: 'true',
});

function members(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'local/members.ts'), ...args], {
      cwd: ROOT,
      env: { ...noCredentials(), ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function memberIds(chapterId: number): Promise<number[]> {
  return (await chapterItems(table, chapterId, 'member#')).map((item) => item.user_id as number).sort((a, b) => a - b);
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

function idFile(name: string, text: string): string {
  const file = path.join(home, name);
  fs.writeFileSync(file, text);
  return file;
}

describe('against the local server (nothing signed, no credentials needed)', () => {
  it('adds from --users and removes from --users, printing progress and the final member_count', async () => {
    const added = await members(['add', '--chapter', '40', '--users', '1,2, 3', '--url', url]);
    expect(added).toEqual({ code: 0, stdout: 'member_count 3\n', stderr: 'add (chapter 40): 3/3 user ids sent, member_count 3\n' });
    expect(await memberIds(40)).toEqual([1, 2, 3]);

    const removed = await members(['remove', '--chapter', '40', '--users', '2', '--url', url]);
    expect([removed.code, removed.stdout]).toEqual([0, 'member_count 2\n']);
    expect(await memberIds(40)).toEqual([1, 3]);
  });

  it('sends 250 ids from a file (lines, commas, blanks, a repeat) in three calls of at most 100, and is idempotent', async () => {
    const lines = range(1, 250).map(String);
    const text = `${lines.slice(0, 120).join('\n')}\n\n${lines.slice(120, 200).join(',')}\n${lines.slice(200).join(', ')}\n7\n`;
    const file = idFile('enrolled.txt', text);
    const added = await members(['add', '--chapter', '41', '--file', file, '--url', `${url}/`]);
    expect(added.code).toBe(0);
    expect(added.stderr.trim().split('\n')).toEqual([
      'add (chapter 41): 100/250 user ids sent, member_count 100',
      'add (chapter 41): 200/250 user ids sent, member_count 200',
      'add (chapter 41): 250/250 user ids sent, member_count 250',
    ]);
    expect(added.stdout).toBe('member_count 250\n');
    expect(await memberIds(41)).toEqual(range(1, 250));

    const again = await members(['add', '--chapter', '41', '--file', file, '--url', url]);
    expect([again.code, again.stdout]).toEqual([0, 'member_count 250\n']);

    const dropped = await members(['remove', '--chapter', '41', '--file', idFile('dropped.txt', range(1, 200).join('\n')), '--url', url]);
    expect([dropped.code, dropped.stdout]).toEqual([0, 'member_count 50\n']);
    expect(await memberIds(41)).toEqual(range(201, 250));
  });
});

describe('errors: one line on stderr, exit code 1', () => {
  const port = () => (server.address() as AddressInfo).port;

  it.each<[string, () => string[], RegExp]>([
    ['no action', () => ['--chapter', '1', '--users', '1'], /^members: add or remove\? usage: npm run members/],
    ['a bad chapter', () => ['add', '--chapter', 'one', '--users', '1'], /^members: --chapter must be a chapter id/],
    ['both --users and --file', () => ['add', '--chapter', '1', '--users', '1', '--file', 'x'], /^members: give either --users or --file/],
    ['an unknown option', () => ['add', '--chapter', '1', '--users', '1', '--chapters', '2'], /^members: Unknown option '--chapters'/],
    ['a bad id in the file, by line', () => ['add', '--chapter', '1', '--file', idFile('bad.txt', '1\n2\nthree\n')], /^members: .*bad\.txt line 3: "three" is not a user id/],
    ['a missing file', () => ['add', '--chapter', '1', '--file', path.join(home, 'absent.txt')], /^members: --file: cannot read .*absent\.txt \(ENOENT\)$/],
    ['nothing listening', () => ['add', '--chapter', '1', '--users', '1', '--url', 'http://127.0.0.1:9'], /^members: cannot reach http:\/\/127\.0\.0\.1:9: ECONNREFUSED \(is `npm start` running\?\)$/],
    ['the API refusing', () => ['add', '--chapter', '1', '--users', '1', '--url', `http://127.0.0.1:${port()}/nope`], /^members: POST http:\/\/127\.0\.0\.1:\d+\/nope\/admin\/add_members answered 404: no such route$/],
  ])('%s', async (_, args, message) => {
    const { code, stdout, stderr } = await members(args());
    expect({ code, stdout, lines: stderr.trimEnd().split('\n').length }).toEqual({ code: 1, stdout: '', lines: 1 });
    expect(stderr.trimEnd()).toMatch(message);
  });
});

describe('SigV4 against anything but the local server', () => {
  /** A stand-in for API Gateway on 127.0.0.2 (not a name the CLI treats as local): it records requests and answers a count. */
  let gateway: Server;
  let gatewayUrl: string;
  const received: Array<{ method: string; path: string; headers: IncomingHttpHeaders; body: string }> = [];

  beforeAll(async () => {
    gateway = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      req.on('end', () => {
        received.push({ method: req.method!, path: req.url!, headers: req.headers, body });
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 200, msg: 'ok', data: { member_count: 7 } }));
      });
    });
    await new Promise<void>((resolve) => gateway.listen(0, '127.0.0.2', resolve));
    gatewayUrl = `http://127.0.0.2:${(gateway.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((resolve) => gateway.close(resolve)));
  beforeEach(() => received.splice(0));

  const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', sessionToken: 'session-token-example' };

  it('signs every call for execute-api in the given region, with the default chain, and the signature holds for what arrived', async () => {
    const result = await members(['add', '--chapter', '5', '--users', range(1, 150).join(','), '--url', gatewayUrl, '--region', 'eu-west-1'], {
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      AWS_SESSION_TOKEN: credentials.sessionToken,
    });
    expect([result.code, result.stdout]).toEqual([0, 'member_count 7\n']);
    expect(received.map((r) => [r.method, r.path, JSON.parse(r.body).user_ids.length])).toEqual([
      ['POST', '/admin/add_members', 100],
      ['POST', '/admin/add_members', 50],
    ]);

    for (const request of received) {
      const authorization = String(request.headers.authorization);
      const match = /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/(\d{8})\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/.exec(authorization);
      expect(match).not.toBeNull();
      const signedHeaders = match![2].split(';');
      expect(signedHeaders).toEqual(expect.arrayContaining(['host', 'content-type', 'x-amz-date', 'x-amz-security-token']));
      expect(request.headers['x-amz-security-token']).toBe(credentials.sessionToken);

      // Verify as the gateway would: the signed headers as they arrived, and the payload hash
      // computed from the body as it arrived (not taken from the x-amz-content-sha256 header).
      const amzDate = String(request.headers['x-amz-date']);
      const signingDate = new Date(amzDate.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'));
      const verifier = new SignatureV4({ service: 'execute-api', region: 'eu-west-1', credentials, sha256: Sha256 });
      const resigned = await verifier.sign(
        {
          method: request.method,
          protocol: 'http:',
          hostname: '127.0.0.2',
          path: request.path,
          headers: Object.fromEntries(signedHeaders.filter((name) => name !== 'x-amz-content-sha256').map((name) => [name, String(request.headers[name])])),
          body: request.body,
        },
        { signingDate },
      );
      expect(resigned.headers.authorization).toBe(authorization);
    }
  });

  it('without credentials: one line saying so, exit code 1, and nothing sent', async () => {
    const { code, stdout, stderr } = await members(['add', '--chapter', '5', '--users', '1', '--url', gatewayUrl, '--region', 'eu-west-1']);
    expect({ code, stdout }).toEqual({ code: 1, stdout: '' });
    expect(stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(/^members: cannot sign the request \(AWS credentials from the default chain\): /);
    expect(received).toEqual([]);
  });

  it('without a region (none given, none in the URL, no AWS_REGION): one line, nothing sent', async () => {
    const { code, stderr } = await members(['add', '--chapter', '5', '--users', '1', '--url', gatewayUrl], { AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'x' });
    expect(code).toBe(1);
    expect(stderr.trimEnd()).toBe('members: no region to sign for: give --region (or AWS_REGION); 127.0.0.2 names none');
    expect(received).toEqual([]);
  });
});
