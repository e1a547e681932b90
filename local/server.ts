/**
 * The local API: a small HTTP server that turns each request into an API Gateway payload-format-2.0
 * event and calls the same handlers the stack deploys, on the same routes (lambda/contract/routes.ts).
 * It checks no authorization: the caller is whoever the x-user-* headers say, and the admin routes
 * (IAM, SigV4, when deployed) are open.
 */
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { ErrorCode } from '../lambda/contract';
import { handler as notRouted } from '../lambda/handlers/not-routed';
import { envelope } from '../lambda/http/envelope';
import { apiGatewayEvent, matchRoute, parseUrl } from './api-gateway-event';
import { serveDemoPage } from './demo-page';
import type { RouteHandlers } from './handlers';
import { lambdaContext } from './lambda-context';

/** API Gateway HTTP APIs accept payloads up to 10 MB; the local server refuses more, as it does. */
const MAX_BODY_BYTES = 10 * 1024 * 1024;

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

export function createLocalServer(handlers: RouteHandlers): Server {
  return createServer(async (req, res) => {
    try {
      // GET / and its two files: the demo chat page (local/demo-page.ts); everything else is the API's.
      if (await serveDemoPage(req, res)) return;
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
