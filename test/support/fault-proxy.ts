/**
 * A loopback HTTP proxy between the AWS SDK's DynamoDB client and dynalite that injects faults at
 * the HTTP level, so the SDK's real retry strategy (and our code above it) sees what it would see
 * from DynamoDB: throttling and 500 answers in DynamoDB's JSON error shape, reset connections,
 * requests that never get an answer, and writes that were applied but whose answer was lost.
 *
 * Point a client at it with `dynamoDbConfig({ DYNAMODB_ENDPOINT: proxy.endpoint })`.
 *
 * Behaviour worth knowing when writing plans:
 * - The proxy reads each request's whole body before it asks the plan, so a fault never races the
 *   client's upload and every fault but 'lost-response' and 'slow' leaves the table untouched.
 * - Forwarded requests keep their method, path, headers (Host included: it is signed, and dynalite
 *   ignores it) and body; the answer is relayed with dynalite's status, headers (x-amz-crc32,
 *   content-length, x-amzn-requestid…) and body byte for byte. Only hop-by-hop headers
 *   (Connection, Keep-Alive, Transfer-Encoding…) are left to each hop, as any HTTP proxy does.
 * - Once a request is received it is forwarded even if the client has given up on it meanwhile
 *   (as DynamoDB goes on with a request whose caller went away).
 * - If dynalite itself fails (it is down), the client's socket is destroyed; that counts as
 *   'forwarded'.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { crc32 } from 'node:zlib';
import { DYNAMODB_TIMEOUTS } from '../../lambda/data/client';
import { seededRandom } from './random';

export type Fault =
  /** 400 ThrottlingException without forwarding: not applied. */
  | 'throttle'
  /** 400 ProvisionedThroughputExceededException without forwarding: not applied. */
  | 'provisioned-throughput'
  /** 500 InternalServerError without forwarding: not applied. */
  | 'server-error'
  /** Destroys the client's socket without forwarding: not applied. */
  | 'reset-before'
  /** Holds the request for `timeoutHoldMs` (past the client's request timeout), never forwards, then destroys the socket: not applied. */
  | 'timeout-before'
  /** Forwards, waits for dynalite's whole answer (the request IS applied), then destroys the client's socket instead of answering. */
  | 'lost-response'
  /** Forwards after `slowMs` (below the client's timeouts) and answers normally. */
  | 'slow';

export const FAULTS: readonly Fault[] = [
  'throttle',
  'provisioned-throughput',
  'server-error',
  'reset-before',
  'timeout-before',
  'lost-response',
  'slow',
];

export interface ProxiedRequest {
  /** The DynamoDB operation, e.g. 'PutItem' from the X-Amz-Target header 'DynamoDB_20120810.PutItem' ('' when absent). */
  operation: string;
  /** The parsed JSON request body (the raw text when it is not JSON, undefined when empty). */
  body: unknown;
  /** 1-based number of this request since the proxy started or the plan was last set. */
  seq: number;
  /**
   * The SDK's attempt number of this request (1 = first try, 2 = first retry…), from the
   * `amz-sdk-request: attempt=N; max=M` header the SDK's retry middleware adds; undefined without it.
   */
  attempt: number | undefined;
}

/** Decides the fault for one request; undefined passes it through. */
export type FaultPlan = (request: ProxiedRequest) => Fault | undefined;

export type FaultCounts = Record<Fault | 'forwarded', number>;

export interface FaultProxy {
  /** http://127.0.0.1:<port> */
  endpoint: string;
  /** Replaces the plan (undefined passes everything through) and restarts `seq` at 1. */
  setPlan(plan: FaultPlan | undefined): void;
  /** How many requests got each fault; 'forwarded' = passed through untouched. */
  counts(): FaultCounts;
  resetCounts(): void;
  /** Closes the server and every open socket, and drops held requests (idempotent). */
  close(): Promise<void>;
}

export interface FaultProxyOptions {
  /** How long 'timeout-before' holds a request; default: the client's request timeout + 500 ms. */
  timeoutHoldMs?: number;
  /** How long 'slow' delays a request before forwarding it; default 50 ms. */
  slowMs?: number;
}

const DYNAMODB_NAMESPACE = 'com.amazonaws.dynamodb.v20120810';

/** The error answers, as DynamoDB sends them. */
const ERROR_ANSWERS = {
  throttle: { status: 400, type: 'ThrottlingException', message: 'Rate of requests exceeds the allowed throughput.' },
  'provisioned-throughput': {
    status: 400,
    type: 'ProvisionedThroughputExceededException',
    message:
      'The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.',
  },
  'server-error': { status: 500, type: 'InternalServerError', message: 'Internal server error' },
} as const satisfies Partial<Record<Fault, { status: number; type: string; message: string }>>;

/** Hop-by-hop headers (RFC 9110 §7.6.1): each hop manages its own connection. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** Raw header pairs [name, value, name, value…] without the hop-by-hop ones, names' case kept. */
function endToEndHeaders(rawHeaders: string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (!HOP_BY_HOP.has(rawHeaders[i].toLowerCase())) kept.push(rawHeaders[i], rawHeaders[i + 1]);
  }
  return kept;
}

function parseBody(raw: Buffer): unknown {
  if (raw.length === 0) return undefined;
  const text = raw.toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function parseAttempt(header: string | string[] | undefined): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  const match = value?.match(/attempt=(\d+)/);
  return match ? Number(match[1]) : undefined;
}

export function emptyCounts(): FaultCounts {
  return {
    throttle: 0,
    'provisioned-throughput': 0,
    'server-error': 0,
    'reset-before': 0,
    'timeout-before': 0,
    'lost-response': 0,
    slow: 0,
    forwarded: 0,
  };
}

function randomRequestId(): string {
  const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  return Array.from({ length: 52 }, () => chars[Math.floor(Math.random() * chars.length)]).join('');
}

export function startFaultProxy(upstream: string, options: FaultProxyOptions = {}): Promise<FaultProxy> {
  const timeoutHoldMs = options.timeoutHoldMs ?? DYNAMODB_TIMEOUTS.requestTimeoutMs + 500;
  const slowMs = options.slowMs ?? 50;
  const target = new URL(upstream);
  const upstreamAgent = new http.Agent({ keepAlive: true });

  let plan: FaultPlan | undefined;
  let seq = 0;
  let counts = emptyCounts();
  let closed = false;
  let closing: Promise<void> | undefined;
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();

  const later = (ms: number, action: () => void) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      action();
    }, ms);
    timers.add(timer);
  };

  /** Sends the request to dynalite and hands over its whole answer; rejects when dynalite fails. */
  const forward = (req: http.IncomingMessage, body: Buffer) =>
    new Promise<{ status: number; rawHeaders: string[]; body: Buffer }>((resolve, reject) => {
      const upstreamReq = http.request(
        {
          protocol: target.protocol,
          hostname: target.hostname,
          port: target.port,
          method: req.method,
          path: req.url,
          headers: endToEndHeaders(req.rawHeaders),
          agent: upstreamAgent,
        },
        (upstreamRes) => {
          const chunks: Buffer[] = [];
          upstreamRes.on('data', (chunk: Buffer) => chunks.push(chunk));
          upstreamRes.on('end', () =>
            resolve({ status: upstreamRes.statusCode ?? 502, rawHeaders: upstreamRes.rawHeaders, body: Buffer.concat(chunks) }),
          );
          upstreamRes.on('error', reject);
        },
      );
      upstreamReq.on('error', reject);
      upstreamReq.end(body);
    });

  const relay = async (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer, loseResponse: boolean) => {
    let answer: Awaited<ReturnType<typeof forward>>;
    try {
      answer = await forward(req, body);
    } catch {
      req.socket.destroy();
      return;
    }
    if (loseResponse || res.destroyed || req.socket.destroyed) {
      req.socket.destroy();
      return;
    }
    // The flat raw-header array keeps names, their case and order (and content-length) as dynalite sent them.
    res.writeHead(answer.status, endToEndHeaders(answer.rawHeaders));
    res.end(answer.body);
  };

  const answerError = (res: http.ServerResponse, fault: keyof typeof ERROR_ANSWERS) => {
    const { status, type, message } = ERROR_ANSWERS[fault];
    const body = Buffer.from(JSON.stringify({ __type: `${DYNAMODB_NAMESPACE}#${type}`, message }), 'utf8');
    res.writeHead(status, {
      'x-amzn-RequestId': randomRequestId(),
      'x-amzn-ErrorType': `${type}:http://internal.amazon.com/coral/${DYNAMODB_NAMESPACE}/`,
      'x-amz-crc32': String(crc32(body)),
      'Content-Type': 'application/x-amz-json-1.0',
      'Content-Length': String(body.length),
    });
    res.end(body);
  };

  const handle = (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer) => {
    if (closed) {
      req.socket.destroy();
      return;
    }
    const targetHeader = req.headers['x-amz-target'];
    const request: ProxiedRequest = {
      operation: typeof targetHeader === 'string' ? (targetHeader.split('.').pop() ?? '') : '',
      body: parseBody(body),
      seq: ++seq,
      attempt: parseAttempt(req.headers['amz-sdk-request']),
    };
    const fault = plan?.(request);
    counts[fault ?? 'forwarded']++;
    switch (fault) {
      case undefined:
        void relay(req, res, body, false);
        return;
      case 'throttle':
      case 'provisioned-throughput':
      case 'server-error':
        answerError(res, fault);
        return;
      case 'reset-before':
        req.socket.destroy();
        return;
      case 'timeout-before':
        later(timeoutHoldMs, () => req.socket.destroy());
        return;
      case 'lost-response':
        void relay(req, res, body, true);
        return;
      case 'slow':
        later(slowMs, () => void relay(req, res, body, false));
        return;
      default: {
        const unknown: never = fault;
        throw new Error(`unknown fault ${String(unknown)}`);
      }
    }
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => handle(req, res, Buffer.concat(chunks)));
    req.on('error', () => req.socket.destroy());
  });
  // Longer than any idle gap between a test's calls: the SDK's agent never reuses a socket the proxy is closing.
  server.keepAliveTimeout = 60_000;
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      const { port } = server.address() as AddressInfo;
      resolve({
        endpoint: `http://127.0.0.1:${port}`,
        setPlan(next) {
          plan = next;
          seq = 0;
        },
        counts: () => ({ ...counts }),
        resetCounts() {
          counts = emptyCounts();
        },
        close() {
          if (!closing) {
            closed = true;
            for (const timer of timers) clearTimeout(timer);
            timers.clear();
            closing = new Promise<void>((done) => server.close(() => done()));
            for (const socket of sockets) socket.destroy();
            upstreamAgent.destroy();
          }
          return closing;
        },
      });
    });
  });
}

/**
 * A plan that gives each request whose operation is in `operations` (all when omitted) one of
 * `faults` with probability `rate`, from a PRNG seeded by `seed` (default 1): the same sequence of
 * requests gets the same faults on every run.
 */
export function randomFaults(rate: number, faults: Fault[], options: { operations?: string[]; seed?: number } = {}): FaultPlan {
  if (!(rate >= 0 && rate <= 1)) throw new RangeError(`rate must be within [0, 1], got ${rate}`);
  if (faults.length === 0 && rate > 0) throw new RangeError('faults must not be empty');
  const random = seededRandom(options.seed ?? 1);
  const operations = options.operations && new Set(options.operations);
  return (request) => {
    if (operations && !operations.has(request.operation)) return undefined;
    if (random() >= rate) return undefined;
    return faults[Math.floor(random() * faults.length)];
  };
}
