/**
 * A loopback HTTP proxy in front of the DynamoDB engine (DynamoDB Local) that records every request
 * a client sends (operation and parameters) and what the engine says it consumed. It adds
 * ReturnConsumedCapacity=TOTAL to each request (the client under test need not ask for it) and reads
 * the engine's ConsumedCapacity from the answer, which it relays unchanged. Counting on the wire
 * measures the built bundle, whose SDK copy is inside it, exactly as it runs: every request it
 * sends, retries included.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  operation: string;
  /** The request as the client sent it (before ReturnConsumedCapacity was added). */
  body: Record<string, unknown>;
  /** The engine's answer's HTTP status (a cancelled transaction is a 400). */
  status: number;
  /** Capacity units as the engine reported them in ConsumedCapacity (0 when it reported none): in all, read, written. */
  capacity: number;
  read: number;
  write: number;
}

export interface CountProxy {
  endpoint: string;
  /** Returns the requests recorded since the last take() and forgets them. */
  take(): RecordedRequest[];
  close(): Promise<void>;
}

interface Consumed {
  CapacityUnits?: number;
  ReadCapacityUnits?: number;
  WriteCapacityUnits?: number;
}

const WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems']);

/**
 * The units an answer's ConsumedCapacity reports: one object, or a list of one per table (batch and
 * transaction operations). Split into read and write units where the engine says so, else by the
 * operation (with TOTAL, an engine may give CapacityUnits alone).
 */
function capacityOf(operation: string, answer: { ConsumedCapacity?: Consumed | Consumed[] }): { capacity: number; read: number; write: number } {
  const out = { capacity: 0, read: 0, write: 0 };
  const c = answer.ConsumedCapacity;
  for (const x of c ? (Array.isArray(c) ? c : [c]) : []) {
    const total = x.CapacityUnits ?? 0;
    out.capacity += total;
    if (x.ReadCapacityUnits !== undefined || x.WriteCapacityUnits !== undefined) {
      out.read += x.ReadCapacityUnits ?? 0;
      out.write += x.WriteCapacityUnits ?? 0;
    } else if (WRITES.has(operation)) out.write += total;
    else out.read += total;
  }
  return out;
}

export function startCountProxy(upstream: string): Promise<CountProxy> {
  const target = new URL(upstream);
  const agent = new http.Agent({ keepAlive: true });
  let recorded: RecordedRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
      const operation = String(req.headers['x-amz-target'] ?? '').split('.').pop() ?? '';
      const sent = Buffer.from(JSON.stringify({ ...body, ReturnConsumedCapacity: 'TOTAL' }), 'utf8');
      const headers = { ...req.headers, 'content-length': String(sent.length) };
      delete headers.connection;
      const up = http.request(
        { hostname: target.hostname, port: target.port, method: req.method, path: req.url, headers, agent },
        (upRes) => {
          const parts: Buffer[] = [];
          upRes.on('data', (c: Buffer) => parts.push(c));
          upRes.on('end', () => {
            const answer = Buffer.concat(parts);
            let consumed = { capacity: 0, read: 0, write: 0 };
            try {
              consumed = capacityOf(operation, JSON.parse(answer.toString('utf8')));
            } catch {
              // not JSON: nothing consumed
            }
            recorded.push({ operation, body, status: upRes.statusCode ?? 0, ...consumed });
            const out = { ...upRes.headers };
            delete out.connection;
            delete out['transfer-encoding'];
            res.writeHead(upRes.statusCode ?? 502, { ...out, 'content-length': String(answer.length) });
            res.end(answer);
          });
        },
      );
      up.on('error', () => req.socket.destroy());
      up.end(sent);
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        endpoint: `http://127.0.0.1:${port}`,
        take: () => {
          const out = recorded;
          recorded = [];
          return out;
        },
        close: () =>
          new Promise<void>((done) => {
            agent.destroy();
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}
