/** The soak's HTTP client (bench/soak/run.ts): keep-alive, loopback, every answer counted by route and status. */
import http from 'node:http';
import type { Identity } from '../../lambda/contract';
import { identityHeaders } from '../../test/support/chat-client';

export type Route = 'find_group_chat' | 'send_group_chat' | 'join_group_chat' | 'leave_group_chat' | 'nope';

export interface Answer {
  status: number;
  body: { code: number; msg: string; data: unknown };
}

export class Client {
  /**
   * Keep-alive. Idle sockets are dropped after 2 s, well before the server's 5 s keep-alive timeout
   * (Node's agent already keeps a 1 s margin to it; on a loaded machine that was not enough once).
   */
  readonly agent = new http.Agent({ keepAlive: true, maxSockets: 256, timeout: 2000 });
  /** `route status` → count; `route error` is a transport error (no answer). */
  readonly statuses = new Map<string, number>();
  readonly latencies = new Map<Route, number[]>();
  /** Answers with a status the request did not expect. */
  readonly unexpected: string[] = [];
  readonly transportErrors: string[] = [];
  /** The verifier's reads are counted apart from the load's. */
  counting = true;

  constructor(private readonly base: URL) {}

  /** A POST to /message/<route>, as `as` (x-user-* headers) when given; undefined when no answer came. */
  async post(route: Route, params: Record<string, string | number>, options: { form?: boolean; as?: Identity } = {}): Promise<Answer | undefined> {
    const body = options.form
      ? new URLSearchParams(Object.entries(params).map(([k, v]): [string, string] => [k, String(v)])).toString()
      : JSON.stringify(params);
    const headers = {
      'content-type': options.form ? 'application/x-www-form-urlencoded' : 'application/json',
      'content-length': String(Buffer.byteLength(body)),
      ...(options.as && identityHeaders(options.as)),
    };
    const started = performance.now();
    const label = this.counting ? route : `${route} (verify)`;
    let reused = false;
    try {
      const answer = await new Promise<Answer>((resolve, reject) => {
        const request = http.request(
          { host: this.base.hostname, port: this.base.port, path: `/message/${route}`, method: 'POST', headers, agent: this.agent },
          (response) => {
            const chunks: Buffer[] = [];
            response.on('data', (chunk: Buffer) => chunks.push(chunk));
            response.on('end', () => {
              try {
                resolve({ status: response.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
              } catch (error) {
                reject(error);
              }
            });
            response.on('error', reject);
          },
        );
        request.on('socket', () => (reused = request.reusedSocket));
        request.setTimeout(30_000, () => request.destroy(new Error('no answer in 30 s')));
        request.on('error', reject);
        request.end(body);
      });
      this.count(`${label} ${answer.status}`);
      if (this.counting) {
        const list = this.latencies.get(route) ?? [];
        list.push(performance.now() - started);
        this.latencies.set(route, list);
      }
      return answer;
    } catch (error) {
      this.count(`${label} error`);
      if (this.transportErrors.length < 20) {
        this.transportErrors.push(`${route}: ${(error as Error).message}${reused ? ' (on a reused keep-alive socket)' : ''}`);
      }
      return undefined;
    }
  }

  private count(key: string) {
    this.statuses.set(key, (this.statuses.get(key) ?? 0) + 1);
  }

  /** Whether the answer has one of `statuses`; an answer with another is noted as unexpected. */
  expect(answer: Answer | undefined, statuses: number[], what: string): boolean {
    if (answer && statuses.includes(answer.status)) return true;
    if (answer && this.unexpected.length < 20) this.unexpected.push(`${what}: ${answer.status} ${answer.body?.msg}`);
    return false;
  }
}
