/**
 * Push on the local server (`npm start`, tests, the bench): the WebSocket API at LOCAL_PUSH_PATH
 * (./websocket.ts), its management endpoint (./connections.ts) and the stream poller feeding the
 * fan-out (./stream.ts) — the handlers the stack deploys, unchanged. Call it after the table's
 * environment is set (the handlers read it at import); it sets PUSH_CONNECTIONS_ENDPOINT itself.
 */
import type { Server } from 'node:http';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { ENV, LOCAL_PUSH_PATH, PUSH_FANOUT } from '../../lambda/contract';
import { loadHandler } from '../handlers';
import { lambdaContext } from '../lambda-context';
import { LocalConnections } from './connections';
import { startStreamPoller, type StreamPoller } from './stream';
import { loadPushHandlers, servePush, type FrameCounts } from './websocket';

export interface LocalPush {
  /** The upgrade's path on the local server: `ws://127.0.0.1:<port>/push?chapters=…`. */
  path: string;
  /** Client frames received and frames sent (answers and posts): what API Gateway would bill as messages. */
  frames(): FrameCounts;
  connections: LocalConnections;
  poller: StreamPoller;
  close(): Promise<void>;
}

export async function startLocalPush(server: Server, db: { endpoint: string; tableName: string }): Promise<LocalPush> {
  const connections = new LocalConnections();
  process.env[ENV.pushConnectionsEndpoint] = await connections.listen();
  const handlers = await loadPushHandlers();
  const fanOut = (await loadHandler(PUSH_FANOUT.entry)) as unknown as (event: DynamoDBStreamEvent, context: unknown) => Promise<DynamoDBBatchResponse>;
  const counts: FrameCounts = { received: 0, sent: 0 };
  const websocket = servePush(server, handlers, connections, counts);
  const poller = await startStreamPoller({ ...db, handler: (event) => fanOut(event, lambdaContext(PUSH_FANOUT.id)) });
  return {
    path: LOCAL_PUSH_PATH,
    frames: () => ({ received: counts.received, sent: counts.sent + connections.posted }),
    connections,
    poller,
    async close() {
      await websocket.close();
      await poller.close();
      await connections.close();
    },
  };
}
