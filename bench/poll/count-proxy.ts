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
  /** Read or write capacity units as the engine reported them in ConsumedCapacity (0 when it reported none). */
  capacity: number;
}

export interface CountProxy {
  endpoint: string;
  /** Returns the requests recorded since the last take() and forgets them. */
  take(): RecordedRequest[];
  close(): Promise<void>;
}

function capacityOf(answer: { ConsumedCapacity?: { CapacityUnits?: number } | { CapacityUnits?: number }[] }): number {
  const c = answer.ConsumedCapacity;
  if (!c) return 0;
  return (Array.isArray(c) ? c : [c]).reduce((sum, x) => sum + (x.CapacityUnits ?? 0), 0);
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
            let capacity = 0;
            try {
              capacity = capacityOf(JSON.parse(answer.toString('utf8')));
            } catch {
              // not JSON: nothing consumed
            }
            recorded.push({ operation, body, capacity });
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
