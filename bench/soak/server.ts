/**
 * The soak's two processes, so the API's memory is measured apart from the embedded database's:
 *
 *   tsx bench/soak/server.ts db    dynalite in memory with the table and the demo chapter, as
 *                                  `npm start -- --memory` starts it (local/environment.ts)
 *   tsx bench/soak/server.ts api   the local API server (local/server.ts) with the same handlers,
 *                                  configured as `npm start` configures them, on SOAK_DYNAMODB_ENDPOINT
 *
 * Each listens on a free port of 127.0.0.1 and prints its URL. `npm start` runs both in one process
 * (local/start.ts); bench/soak/run.ts --single-process runs exactly that instead.
 */
import { LOCAL_TABLE_NAME, startLocalDatabase, useLocalEnvironment } from '../../local/environment';
import { loadHandlers } from '../../local/handlers';
import { createLocalServer } from '../../local/server';

async function database(): Promise<void> {
  const db = await startLocalDatabase({ memory: true, port: 0 });
  console.log(`DynamoDB (dynalite) listening on ${db.endpoint}`);
  const stop = () => void db.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

async function api(): Promise<void> {
  const endpoint = process.env.SOAK_DYNAMODB_ENDPOINT;
  if (!endpoint) throw new Error('SOAK_DYNAMODB_ENDPOINT is not set');
  useLocalEnvironment({ endpoint, tableName: LOCAL_TABLE_NAME, close: async () => undefined });
  const server = createLocalServer(await loadHandlers());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  console.log(`Group chat API listening on http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`);
  const stop = () => {
    server.close();
    server.closeAllConnections();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

const role = process.argv[2];
(role === 'db' ? database() : role === 'api' ? api() : Promise.reject(new Error('usage: server.ts db|api'))).catch((error) => {
  console.error(error);
  process.exit(1);
});
