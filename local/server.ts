/**
 * The local API: a small HTTP server that turns each request into an API Gateway payload-format-2.0
 * event and calls the same handlers the stack deploys, on the same routes (lambda/routes.ts).
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import path from 'node:path';
import { envelope } from '../lambda/http/api-handler';
import { ErrorCode } from '../lambda/http/errors';
import { handler as notRouted } from '../lambda/handlers/not-found';
import { ROUTES, type RouteSpec } from '../lambda/routes';
import { lambdaContext } from './lambda-context';

export type LambdaHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

const PROJECT_ROOT = path.resolve(__dirname, '..');
/** API Gateway HTTP APIs accept payloads up to 10 MB; the local server refuses more, as it does. */
const MAX_BODY_BYTES = 10 * 1024 * 1024;

/** Imports a route's handler from its source (the functions read their settings at import). */
export async function loadHandler(route: RouteSpec): Promise<LambdaHandler> {
  const module = (await import(path.join(PROJECT_ROOT, route.entry))) as { handler: LambdaHandler };
  return module.handler;
}

export async function loadHandlers(): Promise<Map<string, { route: RouteSpec; handler: LambdaHandler }>> {
  const byPath = new Map<string, { route: RouteSpec; handler: LambdaHandler }>();
  for (const route of ROUTES) byPath.set(route.path, { route, handler: await loadHandler(route) });
  return byPath;
}

/** API Gateway passes text bodies as they are and base64-encodes the rest (forms included). */
function isTextBody(contentType: string): boolean {
  const type = contentType.split(';')[0].trim().toLowerCase();
  return type.startsWith('text/') || type === 'application/json' || type.endsWith('+json') || type === 'application/xml';
}

export interface HttpRequestParts {
  method: string;
  /** Path and query string, e.g. `/message/find_group_chat?id=1`. */
  url: string;
  headers?: Record<string, string | string[] | undefined>;
  body?: Buffer;
  sourceIp?: string;
  routeKey?: string;
}

/** A request target as a URL: prefixed rather than resolved, so a path such as `//x` stays a path, not a host. */
function parseUrl(target: string): URL {
  return new URL(`http://localhost${target.startsWith('/') ? '' : '/'}${target}`);
}

/** The event API Gateway (HTTP API, payload format 2.0) hands a Lambda function for this request. */
export function apiGatewayEvent(request: HttpRequestParts): APIGatewayProxyEventV2 {
  const url = parseUrl(request.url);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers ?? {})) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(',') : value;
  }
  const query: Record<string, string> = {};
  for (const [name, value] of url.searchParams) query[name] = name in query ? `${query[name]},${value}` : value;
  const body = request.body ?? Buffer.alloc(0);
  const text = isTextBody(headers['content-type'] ?? '');
  const routeKey = request.routeKey ?? '$default';
  const host = headers.host ?? 'localhost';
  const now = new Date();
  return {
    version: '2.0',
    routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    ...(url.search.length > 1 && { queryStringParameters: query }),
    requestContext: {
      accountId: 'local',
      apiId: 'local',
      domainName: host,
      domainPrefix: host.split('.')[0],
      http: {
        method: request.method,
        path: url.pathname,
        protocol: 'HTTP/1.1',
        sourceIp: request.sourceIp ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey,
      stage: '$default',
      time: now.toISOString(),
      timeEpoch: now.getTime(),
    },
    ...(body.length > 0 && { body: text ? body.toString('utf8') : body.toString('base64') }),
    isBase64Encoded: body.length > 0 && !text,
  };
}

function send(res: ServerResponse, result: APIGatewayProxyStructuredResultV2): void {
  res.writeHead(result.statusCode ?? 200, result.headers as Record<string, string>);
  res.end(result.body ?? '');
}

function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => resolve(size <= MAX_BODY_BYTES ? Buffer.concat(chunks) : undefined));
    req.on('error', reject);
  });
}

/** The route API Gateway would match for this method and path; undefined sends it to `$default`. */
export function matchRoute(method: string, path: string): RouteSpec | undefined {
  return ROUTES.find((route) => route.method === method && route.path === path);
}

export function createLocalServer(handlers: Map<string, { route: RouteSpec; handler: LambdaHandler }>): Server {
  return createServer(async (req, res) => {
    try {
      const body = await readBody(req);
      if (body === undefined) return send(res, envelope(ErrorCode.PayloadTooLarge, 'request body is too large', null));
      const route = matchRoute(req.method ?? '', parseUrl(req.url ?? '/').pathname);
      const target = route && handlers.get(route.path);
      // Like the HTTP API: a request that matches no route goes to the `$default` route's function.
      const event = apiGatewayEvent({
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        headers: req.headers,
        body,
        sourceIp: req.socket.remoteAddress,
        routeKey: route ? `${route.method} ${route.path}` : '$default',
      });
      if (!target) return send(res, await notRouted(event));
      send(res, await target.handler(event, lambdaContext(target.route.id)));
    } catch (error) {
      // Handlers answer every error themselves; reaching here is a bug in the local server.
      console.error(error);
      if (!res.headersSent) send(res, envelope(ErrorCode.Internal, 'internal error', null));
    }
  });
}
