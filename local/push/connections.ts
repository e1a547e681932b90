/**
 * The local WebSocket API's connection registry and its management endpoint: `POST
 * /@connections/{id}` on loopback, as API Gateway's management API answers PostToConnection (the
 * body goes to the connection as one text frame; 410 GoneException for an unknown connection), so
 * the fan-out handler posts through the real SDK client, unchanged.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What a connection needs of its socket. */
export interface Socket {
  send(data: string): void;
}

export class LocalConnections {
  private readonly sockets = new Map<string, Socket>();
  private server?: Server;
  /** Frames posted to a connection, in all. */
  posted = 0;

  add(connectionId: string, socket: Socket): void {
    this.sockets.set(connectionId, socket);
  }

  remove(connectionId: string): void {
    this.sockets.delete(connectionId);
  }

  get size(): number {
    return this.sockets.size;
  }

  /** Starts the management endpoint on a free loopback port; answers its URL (the fan-out's PUSH_CONNECTIONS_ENDPOINT). */
  async listen(): Promise<string> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const match = /^\/@connections\/([^/?]+)$/.exec(req.url ?? '');
        const answer = (status: number, errorType?: string, message = '') => {
          res.writeHead(status, { 'content-type': 'application/json', ...(errorType && { 'x-amzn-errortype': errorType }) });
          res.end(errorType ? JSON.stringify({ message }) : '');
        };
        if (req.method !== 'POST' || !match) return answer(404, 'NotFoundException', 'no such route');
        const socket = this.sockets.get(decodeURIComponent(match[1]));
        if (!socket) return answer(410, 'GoneException', 'connection is gone');
        try {
          socket.send(Buffer.concat(chunks).toString('utf8'));
          this.posted += 1;
          answer(200);
        } catch {
          answer(500, 'InternalServerErrorException', 'could not send');
        }
      });
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}
