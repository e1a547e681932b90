/**
 * DynamoDB's HTTP wire, as the fault proxy needs it: its error answers (JSON shape, headers and
 * checksum as DynamoDB sends them), what a request says about itself, and forwarding a request
 * byte for byte with only the hop-by-hop headers left to each hop.
 */
import http from 'node:http';
import { crc32 } from 'node:zlib';

const DYNAMODB_NAMESPACE = 'com.amazonaws.dynamodb.v20120810';

/** The error answers, as DynamoDB sends them. */
export const ERROR_ANSWERS = {
  throttle: { status: 400, type: 'ThrottlingException', message: 'Rate of requests exceeds the allowed throughput.' },
  'provisioned-throughput': {
    status: 400,
    type: 'ProvisionedThroughputExceededException',
    message:
      'The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.',
  },
  'server-error': { status: 500, type: 'InternalServerError', message: 'Internal server error' },
} as const satisfies Record<string, { status: number; type: string; message: string }>;

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
export function endToEndHeaders(rawHeaders: string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (!HOP_BY_HOP.has(rawHeaders[i].toLowerCase())) kept.push(rawHeaders[i], rawHeaders[i + 1]);
  }
  return kept;
}

export function parseBody(raw: Buffer): unknown {
  if (raw.length === 0) return undefined;
  const text = raw.toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export function parseAttempt(header: string | string[] | undefined): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  const match = value?.match(/attempt=(\d+)/);
  return match ? Number(match[1]) : undefined;
}

function randomRequestId(): string {
  const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  return Array.from({ length: 52 }, () => chars[Math.floor(Math.random() * chars.length)]).join('');
}

/** Answers as DynamoDB does when it refuses a request with `fault`. */
export function answerError(res: http.ServerResponse, fault: keyof typeof ERROR_ANSWERS): void {
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
}

export interface UpstreamAnswer {
  status: number;
  rawHeaders: string[];
  body: Buffer;
}

/** Sends the request to `target` and hands over its whole answer; rejects when the upstream fails. */
export function forward(target: URL, agent: http.Agent, req: http.IncomingMessage, body: Buffer): Promise<UpstreamAnswer> {
  return new Promise((resolve, reject) => {
    const upstreamReq = http.request(
      {
        protocol: target.protocol,
        hostname: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: endToEndHeaders(req.rawHeaders),
        agent,
      },
      (upstreamRes) => {
        const chunks: Buffer[] = [];
        upstreamRes.on('data', (chunk: Buffer) => chunks.push(chunk));
        upstreamRes.on('end', () => resolve({ status: upstreamRes.statusCode ?? 502, rawHeaders: upstreamRes.rawHeaders, body: Buffer.concat(chunks) }));
        upstreamRes.on('error', reject);
      },
    );
    upstreamReq.on('error', reject);
    upstreamReq.end(body);
  });
}
