/**
 * The event API Gateway (HTTP API, payload format 2.0) hands a Lambda function for an HTTP request,
 * and the route it would match: what the local server, the tests and the benchmark call handlers with.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { randomUUID } from 'node:crypto';
import { ROUTES, type RouteSpec } from '../lambda/contract';

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
export function parseUrl(target: string): URL {
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

/** The route API Gateway would match for this method and path; undefined sends it to `$default`. */
export function matchRoute(method: string, path: string): RouteSpec | undefined {
  return ROUTES.find((route) => route.method === method && route.path === path);
}

