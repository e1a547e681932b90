/**
 * The soak's API process, so its memory is measured apart from the database's (DynamoDB Local, a
 * java process the soak starts itself: bench/soak/processes.ts):
 *
 *   tsx bench/soak/server.ts api   the local API server (local/server.ts) with the same handlers,
 *                                  configured as `npm start` configures them, on
 *                                  SOAK_DYNAMODB_ENDPOINT and table SOAK_TABLE_NAME
 *
 * It listens on a free port of 127.0.0.1 and prints its URL. `npm start` runs the API and starts its
 * DynamoDB Local from one process (local/start.ts); bench/soak/run.ts --single-process runs exactly that.
 */
import { useLocalEnvironment } from '../../local/environment';
import { loadHandlers } from '../../local/handlers';
import { createLocalServer } from '../../local/server';

async function api(): Promise<void> {
  const endpoint = process.env.SOAK_DYNAMODB_ENDPOINT;
  const tableName = process.env.SOAK_TABLE_NAME;
  if (!endpoint || !tableName) throw new Error('SOAK_DYNAMODB_ENDPOINT and SOAK_TABLE_NAME must be set');
  useLocalEnvironment({ endpoint, tableName, close: async () => undefined });
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
(role === 'api' ? api() : Promise.reject(new Error('usage: server.ts api'))).catch((error) => {
  console.error(error);
  process.exit(1);
});
