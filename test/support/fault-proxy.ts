/**
 * A loopback HTTP proxy between the AWS SDK's DynamoDB client and the engine that injects faults at
 * the HTTP level, so the SDK's real retry strategy (and our code above it) sees what it would see
 * from DynamoDB: throttling and 500 answers in DynamoDB's JSON error shape, reset connections,
 * requests that never get an answer, and writes that were applied but whose answer was lost.
 *
 * Point a client at it with `dynamoDbConfig({ DYNAMODB_ENDPOINT: proxy.endpoint })`.
 *
 * Behaviour worth knowing when writing plans:
 * - The proxy reads each request's whole body before it asks the plan, so a fault never races the
 *   client's upload and every fault but 'lost-response' and 'slow' leaves the table untouched.
 * - Forwarded requests keep their method, path, headers (Host included: it is signed, and the engine
 *   ignores it) and body; the answer is relayed with the engine's status, headers (x-amz-crc32,
 *   content-length, x-amzn-requestid…) and body byte for byte. Only hop-by-hop headers
 *   (Connection, Keep-Alive, Transfer-Encoding…) are left to each hop, as any HTTP proxy does.
 * - Once a request is received it is forwarded even if the client has given up on it meanwhile
 *   (as DynamoDB goes on with a request whose caller went away).
 * - If the engine itself fails (it is down), the client's socket is destroyed; that counts as
 *   'forwarded'.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { DYNAMODB_TIMEOUTS } from '../../lambda/contract';
import { answerError, endToEndHeaders, forward, parseAttempt, parseBody, type UpstreamAnswer } from './dynamodb-wire';
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
  /** Forwards, waits for the engine's whole answer (the request IS applied), then destroys the client's socket instead of answering. */
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

class FaultProxyServer implements FaultProxy {
  endpoint = '';
  private plan: FaultPlan | undefined;
  private seq = 0;
  private faultCounts = emptyCounts();
  private closing: Promise<void> | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly upstreamAgent = new http.Agent({ keepAlive: true });
  private readonly server: http.Server;

  constructor(
    private readonly upstream: URL,
    private readonly timeoutHoldMs: number,
    private readonly slowMs: number,
  ) {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => this.handle(req, res, Buffer.concat(chunks)));
      req.on('error', () => req.socket.destroy());
    });
    // Longer than any idle gap between a test's calls: the SDK's agent never reuses a socket the proxy is closing.
    this.server.keepAliveTimeout = 60_000;
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  listen(): Promise<this> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => {
        this.server.off('error', reject);
        this.endpoint = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
        resolve(this);
      });
    });
  }

  setPlan(next: FaultPlan | undefined): void {
    this.plan = next;
    this.seq = 0;
  }

  counts(): FaultCounts {
    return { ...this.faultCounts };
  }

  resetCounts(): void {
    this.faultCounts = emptyCounts();
  }

  close(): Promise<void> {
    if (!this.closing) {
      for (const timer of this.timers) clearTimeout(timer);
      this.timers.clear();
      this.closing = new Promise<void>((done) => this.server.close(() => done()));
      for (const socket of this.sockets) socket.destroy();
      this.upstreamAgent.destroy();
    }
    return this.closing;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer): void {
    if (this.closing) {
      req.socket.destroy();
      return;
    }
    const targetHeader = req.headers['x-amz-target'];
    const fault = this.plan?.({
      operation: typeof targetHeader === 'string' ? (targetHeader.split('.').pop() ?? '') : '',
      body: parseBody(body),
      seq: ++this.seq,
      attempt: parseAttempt(req.headers['amz-sdk-request']),
    });
    this.faultCounts[fault ?? 'forwarded']++;
    switch (fault) {
      case undefined:
        return void this.relay(req, res, body, false);
      case 'throttle':
      case 'provisioned-throughput':
      case 'server-error':
        return answerError(res, fault);
      case 'reset-before':
        return void req.socket.destroy();
      case 'timeout-before':
        return this.later(this.timeoutHoldMs, () => req.socket.destroy());
      case 'lost-response':
        return void this.relay(req, res, body, true);
      case 'slow':
        return this.later(this.slowMs, () => void this.relay(req, res, body, false));
      default: {
        const unknown: never = fault;
        throw new Error(`unknown fault ${String(unknown)}`);
      }
    }
  }

  /** Forwards the request and relays the answer byte for byte, or, with `loseResponse`, destroys the client's socket instead. */
  private async relay(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer, loseResponse: boolean): Promise<void> {
    let answer: UpstreamAnswer;
    try {
      answer = await forward(this.upstream, this.upstreamAgent, req, body);
    } catch {
      req.socket.destroy();
      return;
    }
    if (loseResponse || res.destroyed || req.socket.destroyed) {
      req.socket.destroy();
      return;
    }
    // The flat raw-header array keeps names, their case and order (and content-length) as the engine sent them.
    res.writeHead(answer.status, endToEndHeaders(answer.rawHeaders));
    res.end(answer.body);
  }

  private later(ms: number, action: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      action();
    }, ms);
    this.timers.add(timer);
  }
}

export function startFaultProxy(upstream: string, options: FaultProxyOptions = {}): Promise<FaultProxy> {
  const timeoutHoldMs = options.timeoutHoldMs ?? DYNAMODB_TIMEOUTS.requestTimeoutMs + 500;
  return new FaultProxyServer(new URL(upstream), timeoutHoldMs, options.slowMs ?? 50).listen();
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
