/**
 * The push authorizer with tokens, as deployed: an RSA key pair made here, its JWKS served over
 * HTTPS on loopback (a self-signed certificate this process trusts), tokens signed with it and
 * verified by aws-jwt-verify inside the handler; membership read from DynamoDB Local.
 */
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { ENV, PUSH_AUTHORIZER, PUSH_QUERY } from '../../lambda/contract';
import { loadHandler } from '../../local/handlers';
import { configureHandlers } from '../support/chat-client';
import { startTestTable, type TestTable } from '../support/dynamodb';

const AUDIENCE = 'chat-app';
const MEMBER = 42;
const CHAPTERS = [3, 4];
const METHOD_ARN = 'arn:aws:execute-api:us-east-1:123456789012:abcdef/prod/$connect';

let table: TestTable;
let jwks: Server;
let issuer: string;
let authorize: (event: APIGatewayRequestAuthorizerEvent) => Promise<APIGatewayAuthorizerResult>;
const defaultCAs = tls.getCACertificates('default');
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const stranger = generateKeyPairSync('rsa', { modulusLength: 2048 });

const base64url = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

function token(claims: Record<string, unknown>, key: KeyObject = privateKey, kid = 'test-key'): string {
  const now = Math.floor(Date.now() / 1000);
  const body = `${base64url({ alg: 'RS256', typ: 'JWT', kid })}.${base64url({ iss: issuer, aud: AUDIENCE, iat: now, exp: now + 600, user_id: MEMBER, user_type: 2, name: 'Ada', ...claims })}`;
  return `${body}.${sign('sha256', Buffer.from(body), key).toString('base64url')}`;
}

function event(query: Record<string, string>): APIGatewayRequestAuthorizerEvent {
  return { type: 'REQUEST', methodArn: METHOD_ARN, queryStringParameters: query } as unknown as APIGatewayRequestAuthorizerEvent;
}

const connect = (query: Record<string, string>) => authorize(event(query));
const effect = async (query: Record<string, string>) => (await connect(query)).policyDocument.Statement[0].Effect;

beforeAll(async () => {
  // A certificate for 127.0.0.1, trusted by this process only (aws-jwt-verify fetches keys over HTTPS).
  const dir = mkdtempSync(path.join(os.tmpdir(), 'jwks-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${dir}/key.pem`, '-out', `${dir}/cert.pem`, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  const cert = readFileSync(`${dir}/cert.pem`, 'utf8');
  const key = readFileSync(`${dir}/key.pem`, 'utf8');
  rmSync(dir, { recursive: true, force: true });
  tls.setDefaultCACertificates([...defaultCAs, cert]);
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'test-key', alg: 'RS256', use: 'sig' };
  jwks = createServer({ cert, key }, (req, res) => {
    res.writeHead(req.url === '/.well-known/jwks.json' ? 200 : 404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
  issuer = `https://127.0.0.1:${(jwks.address() as AddressInfo).port}`;

  table = await startTestTable('push-auth');
  configureHandlers(table, table.endpoint, 'jwt');
  process.env[ENV.jwtIssuer] = issuer;
  process.env[ENV.jwtAudience] = `other-app, ${AUDIENCE}`;
  authorize = (await loadHandler(PUSH_AUTHORIZER.entry)) as unknown as typeof authorize;
  for (const chapterId of CHAPTERS) await table.store.addMembers(chapterId, [{ user_id: MEMBER, joined_at: 1 }]);
  await table.store.addMembers(5, [{ user_id: 7, joined_at: 1 }]);
});

afterAll(async () => {
  tls.setDefaultCACertificates(defaultCAs);
  await new Promise((resolve) => jwks?.close(resolve));
  await table?.close();
});

describe('the push authorizer (tokens verified with aws-jwt-verify)', () => {
  it('allows a member of every chapter, with the context $connect and $disconnect need', async () => {
    const result = await connect({ [PUSH_QUERY.chapters]: '3,4', [PUSH_QUERY.token]: token({}) });
    expect(result).toEqual({
      principalId: String(MEMBER),
      policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: METHOD_ARN }] },
      context: { user_id: MEMBER, chapters: '3,4' },
    });
  });

  it('accepts an access token whose client_id (no aud) is an audience, as API Gateway JWT authorizers do', async () => {
    expect(await effect({ chapters: '3', token: token({ aud: undefined, client_id: AUDIENCE }) })).toBe('Allow');
  });

  it.each([
    ['an expired token', () => token({ exp: Math.floor(Date.now() / 1000) - 60 })],
    ['another audience', () => token({ aud: 'someone-else' })],
    ['another issuer', () => token({ iss: 'https://issuer.example.com' })],
    ['a token signed by another key', () => token({}, stranger.privateKey)],
    ['a tampered token', () => token({}).replace(/\.[^.]+\./, `.${base64url({ iss: issuer, aud: AUDIENCE, exp: 9999999999, user_id: 7, user_type: 2, name: 'Mallory' })}.`)],
    ['a token of an unknown key id', () => token({}, privateKey, 'other-key')],
    ['a token without the user_id claim', () => token({ user_id: undefined })],
    ['no token', () => ''],
    ['header stand-ins instead of a token', () => ''],
  ])('denies %s', async (what, make) => {
    const query: Record<string, string> = { chapters: '3', ...(make() && { token: make() }) };
    if (what.startsWith('header')) Object.assign(query, { user_id: String(MEMBER), user_type: '2', user_name: 'Ada' });
    expect(await effect(query)).toBe('Deny');
  });

  it('denies a member of some of the chapters but not all, and a non-member', async () => {
    expect(await effect({ chapters: '3,4,5', token: token({}) })).toBe('Deny');
    expect(await effect({ chapters: '5', token: token({}) })).toBe('Deny');
    expect(await effect({ chapters: '5', token: token({ user_id: 7 }) })).toBe('Allow');
  });

  it.each(['', '0', '3,x', '-3', '1.5', Array.from({ length: 11 }, (_, i) => i + 1).join(',')])('denies chapters=%p', async (chapters) => {
    expect(await effect({ chapters, token: token({}) })).toBe('Deny');
  });
});
