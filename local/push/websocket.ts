/**
 * The local WebSocket API: upgrades at LOCAL_PUSH_PATH on the local server run the push handlers
 * the stack deploys, in API Gateway's order — the REQUEST authorizer (Deny: the handshake is
 * answered 403, no socket), `$connect` (not 2xx: refused the same way), then the upgrade; each
 * text frame goes to the route its `action` selects (a two-way route's answer is sent back; a mock
 * route's fixed answer is sent without a handler, as API Gateway's MOCK integration does); a close
 * runs `$disconnect` with the authorizer's context.
 */
import type { APIGatewayAuthorizerResult, APIGatewayProxyResultV2, Context } from 'aws-lambda';
import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { LOCAL_PUSH_PATH, PUSH_AUTHORIZER, PUSH_MOCK_ROUTES, PUSH_ROUTES, type PushRouteSpec } from '../../lambda/contract';
import { parseUrl } from '../api-gateway-event';
import { loadHandler } from '../handlers';
import { lambdaContext } from '../lambda-context';
import type { LocalConnections } from './connections';

type Handler<TEvent, TResult> = (event: TEvent, context: Context) => Promise<TResult>;
type RouteHandler = Handler<unknown, APIGatewayProxyResultV2 | undefined>;

export interface PushHandlers {
  authorize: Handler<unknown, APIGatewayAuthorizerResult>;
  routes: Map<string, { route: PushRouteSpec; handler: RouteHandler }>;
}

/** Imports the authorizer and the routes' handlers from their sources (they read their settings at import). */
export async function loadPushHandlers(): Promise<PushHandlers> {
  const load = async <T>(entry: string) => (await loadHandler(entry)) as unknown as T;
  const routes = new Map<string, { route: PushRouteSpec; handler: RouteHandler }>();
  for (const route of PUSH_ROUTES) routes.set(route.routeKey, { route, handler: await load<RouteHandler>(route.entry) });
  return { authorize: await load<PushHandlers['authorize']>(PUSH_AUTHORIZER.entry), routes };
}

/** Frames through the local WebSocket API, counted as API Gateway bills them (messages in and out). */
export interface FrameCounts {
  received: number;
  sent: number;
}

/** API Gateway-like connection ids: 12 random bytes, base64. */
const connectionId = () => randomBytes(12).toString('base64');

function refuse(socket: Duplex, status: number, reason: string): void {
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

/** The local WebSocket API; `close` ends every connection and waits for their `$disconnect`s. */
export function servePush(server: Server, handlers: PushHandlers, connections: LocalConnections, counts: FrameCounts): { close(): Promise<void> } {
  const wss = new WebSocketServer({ noServer: true });
  const disconnects = new Set<Promise<unknown>>();
  const routeOf = (key: string) => handlers.routes.get(key);
  const mockOf = (key: string) => PUSH_MOCK_ROUTES.find((route) => route.routeKey === key);

  const requestContext = (id: string, routeKey: string, eventType: string, req: IncomingMessage) => ({
    routeKey,
    eventType,
    connectionId: id,
    messageDirection: 'IN',
    requestId: randomUUID(),
    extendedRequestId: randomUUID(),
    requestTimeEpoch: Date.now(),
    stage: 'local',
    apiId: 'local',
    domainName: req.headers.host ?? '127.0.0.1',
    identity: { sourceIp: req.socket.remoteAddress ?? '127.0.0.1' },
  });

  async function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = parseUrl(req.url ?? '/');
    if (url.pathname !== LOCAL_PUSH_PATH) return refuse(socket, 404, 'Not Found');
    const query = Object.fromEntries(url.searchParams);
    const id = connectionId();
    const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : (v ?? '')]));
    const connectContext = requestContext(id, '$connect', 'CONNECT', req);
    const auth = await handlers.authorize(
      { type: 'REQUEST', methodArn: 'arn:aws:execute-api:local:000000000000:local/local/$connect', headers, queryStringParameters: query, requestContext: connectContext },
      lambdaContext(PUSH_AUTHORIZER.id),
    );
    if (!auth.policyDocument.Statement.every((s) => s.Effect === 'Allow')) return refuse(socket, 403, 'Forbidden');
    const authorizer = { ...auth.context, principalId: auth.principalId };
    const connect = routeOf('$connect')!;
    const connected = await connect.handler({ requestContext: { ...connectContext, authorizer }, headers, queryStringParameters: query, isBase64Encoded: false }, lambdaContext(connect.route.id));
    const status = typeof connected === 'object' && connected ? (connected.statusCode ?? 200) : 200;
    if (status < 200 || status > 299) return refuse(socket, 403, 'Forbidden');

    wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      connections.add(id, ws);
      ws.on('message', (data, isBinary) => {
        counts.received += 1;
        void onFrame(ws, id, req, authorizer, isBinary ? '' : data.toString('utf8'));
      });
      ws.on('close', (code, reason) => {
        connections.remove(id);
        const disconnect = routeOf('$disconnect')!;
        const event = {
          requestContext: { ...requestContext(id, '$disconnect', 'DISCONNECT', req), authorizer, disconnectStatusCode: code, disconnectReason: reason.toString() },
          isBase64Encoded: false,
        };
        const done = disconnect.handler(event, lambdaContext(disconnect.route.id)).catch((error: unknown) => console.error('$disconnect failed', error));
        disconnects.add(done);
        void done.finally(() => disconnects.delete(done));
      });
    });
  }

  async function onFrame(ws: WebSocket, id: string, req: IncomingMessage, authorizer: object, text: string): Promise<void> {
    let action: unknown;
    try {
      action = (JSON.parse(text) as { action?: unknown }).action;
    } catch {
      action = undefined;
    }
    const reply = (body: string) => {
      counts.sent += 1;
      ws.send(body);
    };
    // A mock route: API Gateway answers its fixed frame, no function runs.
    const mock = typeof action === 'string' ? mockOf(action) : undefined;
    if (mock) return reply(mock.response);
    const target = typeof action === 'string' ? routeOf(action) : undefined;
    // No route and no `$default` route: API Gateway answers with an error frame.
    if (!target || target.route.routeKey.startsWith('$')) return reply(JSON.stringify({ message: 'Forbidden', connectionId: id, requestId: randomUUID() }));
    try {
      const event = { requestContext: { ...requestContext(id, target.route.routeKey, 'MESSAGE', req), authorizer }, body: text, isBase64Encoded: false };
      const result = await target.handler(event, lambdaContext(target.route.id));
      const body = typeof result === 'object' && result ? result.body : undefined;
      if (target.route.returnsResponse && body !== undefined) reply(body);
    } catch (error) {
      console.error(`route ${target.route.routeKey} failed`, error);
      reply(JSON.stringify({ message: 'Internal server error', connectionId: id, requestId: randomUUID() }));
    }
  }

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    upgrade(req, socket, head).catch((error: unknown) => {
      // The authorizer or $connect failed (not a refusal): API Gateway answers 500.
      console.error('push connect failed', error);
      refuse(socket, 500, 'Internal Server Error');
    });
  });
  return {
    async close() {
      for (const client of wss.clients) client.terminate();
      await new Promise((resolve) => wss.close(resolve));
      // Each terminated socket's 'close' has queued its $disconnect by now (or does on the next turn).
      await new Promise((resolve) => setImmediate(resolve));
      await Promise.all(disconnects);
    },
  };
}
