/**
 * The fault proxy (test/support/fault-proxy.ts) between the real SDK client and a real engine (DynamoDB Local):
 * it passes traffic through byte for byte, each fault does what it says (applied or not), and the
 * SDK classifies and retries what it injects exactly as it would DynamoDB's own failures.
 *
 * Every test starts its own proxy and client (the SDK's retry quota is per client, and plans and
 * counts are per proxy), so the tests run concurrently on one engine and the file stays fast even
 * though the SDK backs off ~1 s (base) after throttling errors.
 */
import type { DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import http from 'node:http';
import { crc32 } from 'node:zlib';
import { createDocumentClient, dynamoDbConfig } from '../../lambda/data/client';
import { deleteTable, ensureTable, localClient } from '../../local/dynamodb';
import { testEndpoint, uniqueTableName } from '../support/dynamodb';
import {
  emptyCounts,
  randomFaults,
  startFaultProxy,
  type Fault,
  type FaultCounts,
  type FaultPlan,
  type FaultProxy,
  type FaultProxyOptions,
  type ProxiedRequest,
} from '../support/fault-proxy';

const TABLE_NAME = uniqueTableName('fault-proxy');
/** A client whose attempts time out fast, for the 'timeout-before' cases. */
const SHORT_TIMEOUTS = { connectionTimeout: 300, requestTimeout: 300, throwOnRequestTimeout: true };
const SHORT_HOLD_MS = 600;

/** The run's engine (DynamoDB Local). */
const engine = { endpoint: testEndpoint() };
/** Talks to the engine directly: sets up and checks what the proxied calls did. */
let direct: DynamoDBDocumentClient;

beforeAll(async () => {
  direct = localClient(engine.endpoint);
  await ensureTable(direct, TABLE_NAME);
});

afterAll(async () => {
  await deleteTable(direct, TABLE_NAME);
  direct.destroy();
});

interface Harness {
  proxy: FaultProxy;
  /** The project's client configuration, pointed at the proxy. */
  db: DynamoDBDocumentClient;
}

/** Runs `body` with a fresh proxy and client, and always closes both. */
async function withProxy(
  body: (h: Harness) => Promise<void>,
  options: { proxy?: FaultProxyOptions; requestHandler?: DynamoDBClientConfig['requestHandler'] } = {},
): Promise<void> {
  const proxy = await startFaultProxy(engine.endpoint, options.proxy);
  const config = dynamoDbConfig({ DYNAMODB_ENDPOINT: proxy.endpoint });
  const db = createDocumentClient(options.requestHandler ? { ...config, requestHandler: options.requestHandler } : config);
  try {
    await body({ proxy, db });
  } finally {
    db.destroy();
    await proxy.close();
  }
}

/** Each test writes under its own partition. */
let nextChapter = 1000;
const newKey = (sk = 'item') => ({ chapter_id: nextChapter++, sk });

const storedItem = async (key: { chapter_id: number; sk: string }) =>
  (await direct.send(new GetCommand({ TableName: TABLE_NAME, Key: key, ConsistentRead: true }))).Item;

const put = (db: DynamoDBDocumentClient, item: Record<string, unknown>, conditional = false) =>
  db.send(
    new PutCommand({
      TableName: TABLE_NAME,
      Item: item,
      ...(conditional && { ConditionExpression: 'attribute_not_exists(sk)' }),
    }),
  );

type CallError = Error & { $metadata: { attempts?: number; httpStatusCode?: number } };

/** The rejection of `promise` (fails the test when it resolves). */
async function rejection(promise: Promise<unknown>): Promise<CallError> {
  try {
    await promise;
  } catch (error) {
    return error as CallError;
  }
  throw new Error('expected the call to fail');
}

/** The name and message of a failed call's error (Node's own, see test/support/environment.js). */
function identify(failure: Error): { name: string; message: string } {
  return { name: failure.name, message: failure.message };
}

const counted = (partial: Partial<FaultCounts>): FaultCounts => ({ ...emptyCounts(), ...partial });

/** Faults the first attempt of every PutItem call; everything else passes. */
const firstPutAttempt =
  (fault: Fault): FaultPlan =>
  (request) =>
    request.operation === 'PutItem' && request.attempt === 1 ? fault : undefined;

// ---- raw HTTP, to see the bytes the SDK sees -----------------------------------------------------

interface RawAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** One DynamoDB JSON request with a well-formed (unchecked) SigV4 header, on its own connection. */
function rawCall(endpoint: string, operation: string, payload: unknown): Promise<RawAnswer> {
  const body = Buffer.from(JSON.stringify(payload));
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${endpoint}/`,
      {
        method: 'POST',
        agent: false,
        headers: {
          'Content-Type': 'application/x-amz-json-1.0',
          'Content-Length': body.length,
          'X-Amz-Target': `DynamoDB_20120810.${operation}`,
          'X-Amz-Date': '20250101T000000Z',
          Authorization:
            'AWS4-HMAC-SHA256 Credential=local/20250101/local/dynamodb/aws4_request, SignedHeaders=host;x-amz-date;x-amz-target, Signature=00',
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const PER_RESPONSE_HEADERS = ['x-amzn-requestid', 'date', 'connection', 'keep-alive'];
const stableHeaders = (headers: http.IncomingHttpHeaders) =>
  Object.fromEntries(Object.entries(headers).filter(([name]) => !PER_RESPONSE_HEADERS.includes(name)));

// ---- pass-through -------------------------------------------------------------------------------

describe('pass-through', () => {
  test.concurrent('forwards calls untouched and tells the plan what it sees', async () => {
    await withProxy(async ({ proxy, db }) => {
      const seen: ProxiedRequest[] = [];
      proxy.setPlan((request) => {
        seen.push(request);
        return undefined;
      });
      const key = newKey();

      const written = await put(db, { ...key, text: 'hello' });
      const read = await db.send(new GetCommand({ TableName: TABLE_NAME, Key: key }));

      expect(written.$metadata).toMatchObject({ httpStatusCode: 200, attempts: 1 });
      expect(read.Item).toEqual({ ...key, text: 'hello' });
      expect(read.$metadata.attempts).toBe(1);
      expect(proxy.counts()).toEqual(counted({ forwarded: 2 }));
      expect(seen).toEqual([
        {
          operation: 'PutItem',
          body: expect.objectContaining({ TableName: TABLE_NAME, Item: { chapter_id: { N: String(key.chapter_id) }, sk: { S: key.sk }, text: { S: 'hello' } } }),
          seq: 1,
          attempt: 1,
        },
        { operation: 'GetItem', body: expect.objectContaining({ Key: { chapter_id: { N: String(key.chapter_id) }, sk: { S: key.sk } } }), seq: 2, attempt: 1 },
      ]);

      // Without a plan everything passes too; a new plan restarts seq.
      proxy.setPlan(undefined);
      proxy.resetCounts();
      expect((await db.send(new GetCommand({ TableName: TABLE_NAME, Key: key }))).Item?.text).toBe('hello');
      expect(proxy.counts()).toEqual(counted({ forwarded: 1 }));
      proxy.setPlan((request) => {
        seen.push(request);
        return undefined;
      });
      await db.send(new GetCommand({ TableName: TABLE_NAME, Key: key }));
      expect(seen.at(-1)?.seq).toBe(1);
    });
  });

  test.concurrent("relays the engine's status, headers and body byte for byte", async () => {
    await withProxy(async ({ proxy }) => {
      const key = newKey();
      await put(direct, { ...key, text: 'bytes ✓', n: 42 });
      const getItem = { TableName: TABLE_NAME, Key: { chapter_id: { N: String(key.chapter_id) }, sk: { S: key.sk } } };

      for (const [operation, payload] of [
        ['GetItem', getItem],
        ['GetItem', { ...getItem, TableName: 'no-such-table' }], // an error answer (400 ResourceNotFoundException)
      ] as const) {
        const viaProxy = await rawCall(proxy.endpoint, operation, payload);
        const straight = await rawCall(engine.endpoint, operation, payload);

        expect(viaProxy.status).toBe(straight.status);
        expect(viaProxy.body.equals(straight.body)).toBe(true);
        expect(stableHeaders(viaProxy.headers)).toEqual(stableHeaders(straight.headers));
        // Each request has its own id (DynamoDB Local's are UUIDs), so it is compared by presence only.
        expect(viaProxy.headers['x-amzn-requestid']).toMatch(/^[0-9A-Za-z-]{20,}$/);
        expect(viaProxy.headers['content-length']).toBe(String(viaProxy.body.length));
      }
      expect(proxy.counts()).toEqual(counted({ forwarded: 2 }));
    });
  });

  test.concurrent("'slow' answers normally, just later", async () => {
    await withProxy(
      async ({ proxy, db }) => {
        proxy.setPlan(firstPutAttempt('slow'));
        const key = newKey();
        const started = Date.now();
        const out = await put(db, key);
        expect(Date.now() - started).toBeGreaterThanOrEqual(140);
        expect(out.$metadata.attempts).toBe(1);
        expect(await storedItem(key)).toEqual(key);
        expect(proxy.counts()).toEqual(counted({ slow: 1 }));
      },
      { proxy: { slowMs: 150 } },
    );
  });
});

// ---- faults that never reach the engine ----------------------------------------------------------

interface NotAppliedCase {
  fault: Fault;
  error: { name: string; message?: RegExp; httpStatusCode?: number };
  short?: boolean;
}

const NOT_APPLIED: NotAppliedCase[] = [
  { fault: 'throttle', error: { name: 'ThrottlingException', httpStatusCode: 400 } },
  { fault: 'provisioned-throughput', error: { name: 'ProvisionedThroughputExceededException', httpStatusCode: 400 } },
  { fault: 'server-error', error: { name: 'InternalServerError', httpStatusCode: 500 } },
  // node-http-handler names ECONNRESET (socket hang up) and its own request timeout TimeoutError, which the SDK retries.
  { fault: 'reset-before', error: { name: 'TimeoutError', message: /socket hang up/ } },
  { fault: 'timeout-before', error: { name: 'TimeoutError', message: /exceeded the configured 300 ms requestTimeout/ }, short: true },
];

const harnessOptions = (short?: boolean) =>
  short ? { proxy: { timeoutHoldMs: SHORT_HOLD_MS }, requestHandler: SHORT_TIMEOUTS } : {};

describe('faults that are not applied', () => {
  test.concurrent.each(NOT_APPLIED)(
    "'$fault' on every attempt: the call fails with $error.name after 3 attempts, nothing written",
    async ({ fault, error, short }) => {
      await withProxy(async ({ proxy, db }) => {
        proxy.setPlan((request) => (request.operation === 'PutItem' ? fault : undefined));
        const key = newKey(fault);

        const failure = await rejection(put(db, key));

        expect(identify(failure).name).toBe(error.name);
        if (error.message) expect(identify(failure).message).toMatch(error.message);
        if (error.httpStatusCode) expect(failure.$metadata.httpStatusCode).toBe(error.httpStatusCode);
        expect(failure.$metadata.attempts).toBe(3);
        expect(proxy.counts()).toEqual(counted({ [fault]: 3 }));
        expect(await storedItem(key)).toBeUndefined();
      }, harnessOptions(short));
    },
  );

  test.concurrent.each(NOT_APPLIED)(
    "'$fault' on the first attempt only: the SDK retries and the second attempt writes",
    async ({ fault, short }) => {
      await withProxy(async ({ proxy, db }) => {
        proxy.setPlan(firstPutAttempt(fault));
        const key = newKey(fault);

        const out = await put(db, key, true);

        expect(out.$metadata.attempts).toBe(2);
        expect(proxy.counts()).toEqual(counted({ [fault]: 1, forwarded: 1 }));
        expect(await storedItem(key)).toEqual(key);
      }, harnessOptions(short));
    },
  );

  test.concurrent('error answers have DynamoDB’s JSON error shape', async () => {
    await withProxy(async ({ proxy }) => {
      const expected = [
        ['throttle', 400, 'ThrottlingException'],
        ['provisioned-throughput', 400, 'ProvisionedThroughputExceededException'],
        ['server-error', 500, 'InternalServerError'],
      ] as const;
      for (const [fault, status, type] of expected) {
        proxy.setPlan(() => fault);
        const answer = await rawCall(proxy.endpoint, 'GetItem', {});
        expect(answer.status).toBe(status);
        expect(answer.headers['content-type']).toBe('application/x-amz-json-1.0');
        expect(answer.headers['x-amzn-errortype']).toMatch(new RegExp(`^${type}:`));
        expect(answer.headers['x-amz-crc32']).toBe(String(crc32(answer.body)));
        expect(answer.headers['content-length']).toBe(String(answer.body.length));
        expect(JSON.parse(answer.body.toString())).toEqual({
          __type: `com.amazonaws.dynamodb.v20120810#${type}`,
          message: expect.any(String),
        });
      }
    });
  });
});

// ---- applied, but the answer is lost -------------------------------------------------------------

describe("'lost-response'", () => {
  test.concurrent('applies a conditional put, the SDK retries it, and the retry fails its condition', async () => {
    await withProxy(async ({ proxy, db }) => {
      proxy.setPlan(firstPutAttempt('lost-response'));
      const key = newKey();

      const failure = await rejection(put(db, { ...key, text: 'once' }, true));

      expect(failure.name).toBe('ConditionalCheckFailedException');
      expect(failure.$metadata.attempts).toBe(2);
      expect(proxy.counts()).toEqual(counted({ 'lost-response': 1, forwarded: 1 }));
      expect(await storedItem(key)).toEqual({ ...key, text: 'once' });
    });
  });

  test.concurrent('on every attempt: the call fails with a network error although the write is applied', async () => {
    await withProxy(async ({ proxy, db }) => {
      proxy.setPlan((request) => (request.operation === 'PutItem' ? 'lost-response' : undefined));
      const key = newKey();

      const failure = await rejection(put(db, key));

      expect(identify(failure)).toEqual({ name: 'TimeoutError', message: 'socket hang up' });
      expect(failure.$metadata.attempts).toBe(3);
      expect(proxy.counts()).toEqual(counted({ 'lost-response': 3 }));
      expect(await storedItem(key)).toEqual(key);
    });
  });
});

// ---- connections --------------------------------------------------------------------------------

describe('connections', () => {
  test.concurrent('a destroyed socket leaves the other in-flight requests alone, and the client keeps working', async () => {
    await withProxy(
      async ({ proxy, db }) => {
        const victim = newKey('victim');
        // The others are held (slow) while the victim's first attempt is reset.
        proxy.setPlan((request) => {
          const sk = (request.body as { Item?: { sk?: { S?: string } } }).Item?.sk?.S;
          return sk === 'victim' && request.attempt === 1 ? 'reset-before' : 'slow';
        });
        const others = Array.from({ length: 5 }, (_, i) => ({ chapter_id: victim.chapter_id, sk: `other-${i}` }));

        const results = await Promise.all([put(db, victim), ...others.map((item) => put(db, item))]);

        expect(results.map((r) => r.$metadata.attempts)).toEqual([2, 1, 1, 1, 1, 1]);
        expect(proxy.counts()).toEqual(counted({ 'reset-before': 1, slow: 6 }));
        for (const key of [victim, ...others]) expect(await storedItem(key)).toEqual(key);

        proxy.setPlan(undefined);
        for (let i = 0; i < 3; i++) {
          expect((await db.send(new GetCommand({ TableName: TABLE_NAME, Key: victim }))).$metadata.attempts).toBe(1);
        }
      },
      { proxy: { slowMs: 100 } },
    );
  });

  test.concurrent('close() ends held requests and open sockets at once', async () => {
    const proxy = await startFaultProxy(engine.endpoint); // holds 'timeout-before' requests for 2 s
    const db = createDocumentClient(dynamoDbConfig({ DYNAMODB_ENDPOINT: proxy.endpoint }));
    try {
      proxy.setPlan(() => 'timeout-before');
      const call = rejection(put(db, newKey()));
      while (proxy.counts()['timeout-before'] === 0) await new Promise((r) => setTimeout(r, 10));

      const started = Date.now();
      await proxy.close();
      expect(Date.now() - started).toBeLessThan(500);
      // The held attempt's socket is gone (socket hang up); the retries find the port closed.
      const failure = await call;
      expect(identify(failure).message).toMatch(/ECONNREFUSED/);
      expect(failure.$metadata.attempts).toBe(3);
      expect(Date.now() - started).toBeLessThan(1000);
    } finally {
      db.destroy();
      await proxy.close();
    }
  });
});

// ---- randomFaults --------------------------------------------------------------------------------

describe('randomFaults', () => {
  const request = (operation: string, seq: number): ProxiedRequest => ({ operation, body: {}, seq, attempt: 1 });
  const run = (plan: FaultPlan, operations: string[]) => operations.map((op, i) => plan(request(op, i + 1)));
  const ops = (n: number, operation = 'PutItem') => Array.from({ length: n }, () => operation);

  test('is deterministic for a seed and differs between seeds', () => {
    const faults: Fault[] = ['throttle', 'reset-before', 'lost-response'];
    const a = run(randomFaults(0.5, faults, { seed: 7 }), ops(200));
    expect(run(randomFaults(0.5, faults, { seed: 7 }), ops(200))).toEqual(a);
    expect(run(randomFaults(0.5, faults, { seed: 8 }), ops(200))).not.toEqual(a);
  });

  test('faults about `rate` of the requests, with every fault of the list', () => {
    const faults: Fault[] = ['throttle', 'server-error', 'slow'];
    const outcomes = run(randomFaults(0.3, faults, { seed: 42 }), ops(3000));
    const injected = outcomes.filter((f) => f !== undefined);
    expect(injected.length / outcomes.length).toBeGreaterThan(0.25);
    expect(injected.length / outcomes.length).toBeLessThan(0.35);
    expect(new Set(injected)).toEqual(new Set(faults));
    expect(run(randomFaults(0, faults), ops(100)).every((f) => f === undefined)).toBe(true);
    expect(run(randomFaults(1, faults), ops(100)).every((f) => f !== undefined && faults.includes(f))).toBe(true);
  });

  test('only touches the listed operations', () => {
    const plan = randomFaults(1, ['throttle'], { operations: ['PutItem', 'UpdateItem'] });
    expect(run(plan, ['PutItem', 'GetItem', 'Query', 'UpdateItem'])).toEqual(['throttle', undefined, undefined, 'throttle']);
  });

  test('drives a proxy', async () => {
    await withProxy(async ({ proxy, db }) => {
      proxy.setPlan(randomFaults(1, ['server-error'], { operations: ['PutItem'] }));
      const key = newKey();
      expect((await rejection(put(db, key))).name).toBe('InternalServerError');
      await db.send(new GetCommand({ TableName: TABLE_NAME, Key: key }));
      expect(proxy.counts()).toEqual(counted({ 'server-error': 3, forwarded: 1 }));
    });
  });
});
