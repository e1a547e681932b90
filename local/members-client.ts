/**
 * The course platform's side of the admin routes, as `npm run members` (./members.ts) uses it: user
 * ids sent in calls of at most MAX_USER_IDS_PER_CALL, each request signed with SigV4 (service
 * `execute-api`) by the AWS SDK's own signer with the default credential chain — the same signer,
 * hash and chain the SDK's clients use. A local server (http://127.0.0.1, http://localhost) checks
 * no signature, so nothing is signed for it and no credentials are needed.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import { MAX_USER_IDS_PER_CALL, ROUTES, type MemberCount } from '../lambda/contract';

export type MembersAction = 'add' | 'remove';

const ROUTE_IDS: Record<MembersAction, string> = { add: 'AdminAddMembers', remove: 'AdminRemoveMembers' };

/** Where `npm start` serves the API. */
export const DEFAULT_URL = 'http://127.0.0.1:3000';

const REQUEST_TIMEOUT_MS = 30_000;

/** What went wrong, in one line for the operator (a bad argument, an unreachable API, a refusal). */
export class MembersError extends Error {
  override name = 'MembersError';
}

/**
 * User ids from `--users` (`1,4,7`) or a file's text (one per line, or comma-separated, or both;
 * blank lines ignored), each an integer of at least 1; repeated ids are kept once, in first order.
 */
export function parseUserIds(text: string, source: string): number[] {
  const ids: number[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((line, index) => {
    for (const part of line.split(',')) {
      const item = part.trim();
      if (item === '') continue;
      const id = /^\d+$/.test(item) ? Number(item) : NaN;
      if (!Number.isSafeInteger(id) || id < 1) {
        const where = lines.length > 1 ? `${source} line ${index + 1}` : source;
        throw new MembersError(`${where}: "${item.slice(0, 40)}" is not a user id (an integer of at least 1)`);
      }
      ids.push(id);
    }
  });
  if (ids.length === 0) throw new MembersError(`${source}: no user ids`);
  return [...new Set(ids)];
}

/** A local server: plain http on the loopback names `npm start` answers on. It checks no signature. */
export function isLocal(url: URL): boolean {
  return url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
}

/**
 * The region to sign for: `--region`, else the one an execute-api URL names
 * (`<api>.execute-api.<region>.amazonaws.com`: a request signed for another region is refused), else
 * AWS_REGION / AWS_DEFAULT_REGION (custom domains name none).
 */
export function signingRegion(url: URL, explicit: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const fromUrl = /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$/.exec(url.hostname)?.[1];
  return explicit || fromUrl || env.AWS_REGION || env.AWS_DEFAULT_REGION || undefined;
}

/** The admin route's URL under the API's base URL (a deployed stack's `ApiUrl`, or the local server's). */
export function adminUrl(base: string, action: MembersAction): URL {
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw new MembersError(`--url: "${base}" is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new MembersError(`--url must be http:// or https://, got ${url.protocol}`);
  const path = ROUTES.find((route) => route.id === ROUTE_IDS[action])!.path;
  return new URL(path.slice(1), url.href.endsWith('/') ? url : `${url.href}/`);
}

export interface SyncMembers {
  action: MembersAction;
  chapterId: number;
  userIds: readonly number[];
  /** The API's base URL. @default DEFAULT_URL */
  url?: string;
  /** Region to sign for (see signingRegion). */
  region?: string;
  /** After each call: how many ids were sent so far, of how many, and the count that call answered. */
  onProgress?: (progress: { sent: number; total: number; memberCount: number }) => void;
  env?: NodeJS.ProcessEnv;
}

type Sign = (request: SignableRequest) => Promise<Record<string, string>>;

interface SignableRequest {
  url: URL;
  headers: Record<string, string>;
  body: string;
}

/** Adds or removes the users, in calls of at most MAX_USER_IDS_PER_CALL ids; returns the last call's answer. */
export async function syncMembers(options: SyncMembers): Promise<MemberCount> {
  const { action, chapterId, userIds } = options;
  if (userIds.length === 0) throw new MembersError('no user ids');
  const url = adminUrl(options.url ?? DEFAULT_URL, action);
  const sign = isLocal(url) ? undefined : signer(url, options.region, options.env ?? process.env);
  let answer: MemberCount | undefined;
  for (let sent = 0; sent < userIds.length; ) {
    const batch = userIds.slice(sent, sent + MAX_USER_IDS_PER_CALL);
    try {
      answer = await post(url, { id: chapterId, user_ids: batch }, sign);
    } catch (error) {
      if (!(error instanceof MembersError) || sent === 0) throw error;
      throw new MembersError(`${error.message} (the ${sent} ids before were applied; every call is idempotent: run it again)`);
    }
    sent += batch.length;
    options.onProgress?.({ sent, total: userIds.length, memberCount: answer.member_count });
  }
  return answer!;
}

function signer(url: URL, explicitRegion: string | undefined, env: NodeJS.ProcessEnv): Sign {
  const region = signingRegion(url, explicitRegion, env);
  if (!region) throw new MembersError(`no region to sign for: give --region (or AWS_REGION); ${url.hostname} names none`);
  const sigv4 = new SignatureV4({ service: 'execute-api', region, credentials: defaultProvider(), sha256: Sha256 });
  return async ({ url: target, headers, body }) => {
    try {
      const signed = await sigv4.sign({
        method: 'POST',
        protocol: target.protocol,
        hostname: target.hostname,
        port: target.port ? Number(target.port) : undefined,
        path: target.pathname,
        headers: { ...headers, host: target.host },
        body,
      });
      return signed.headers;
    } catch (error) {
      throw new MembersError(`cannot sign the request (AWS credentials from the default chain): ${firstLine(error)}`);
    }
  };
}

async function post(url: URL, params: object, sign: Sign | undefined): Promise<MemberCount> {
  const body = JSON.stringify(params);
  const unsigned = { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) };
  const headers = sign ? await sign({ url, headers: unsigned, body }) : unsigned;
  const { status, text } = await send(url, headers, body);
  let answer: { code?: unknown; msg?: unknown; message?: unknown; data?: { member_count?: unknown } | null } | undefined;
  try {
    answer = JSON.parse(text);
  } catch {
    // not JSON: described below
  }
  const memberCount = answer?.data?.member_count;
  if (status === 200 && typeof memberCount === 'number') return { member_count: memberCount };
  // Our envelope has `msg`; API Gateway's own refusals (IAM: 403, throttling: 429) have `message`.
  const why = String(answer?.msg ?? answer?.message ?? text.slice(0, 200)).replace(/\s+/g, ' ');
  throw new MembersError(`POST ${url.href} answered ${status}: ${why}`);
}

function send(url: URL, headers: Record<string, string>, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const request = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, { method: 'POST', headers, timeout: REQUEST_TIMEOUT_MS }, (res: IncomingMessage) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      res.on('error', (error) => reject(unreachable(url, error)));
    });
    request.on('timeout', () => request.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS / 1000} s`)));
    request.on('error', (error) => reject(unreachable(url, error)));
    request.end(body);
  });
}

function unreachable(url: URL, error: NodeJS.ErrnoException): MembersError {
  const hint = isLocal(url) ? ' (is `npm start` running?)' : '';
  return new MembersError(`cannot reach ${url.origin}: ${error.code ?? firstLine(error)}${hint}`);
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message || error.name : String(error)).split('\n')[0];
}
