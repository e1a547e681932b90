/**
 * `npm start [-- --memory]`: the whole API on 127.0.0.1 with no AWS and no Docker.
 * PORT picks the API port (default 3000), DYNAMODB_PORT the embedded DynamoDB's (default 8000);
 * DYNAMODB_HOST=0.0.0.0 opens it beyond loopback (for `sam local invoke`, whose container calls in).
 */
import { DEMO_CHAPTER_ID } from './demo-chapter';
import { DEFAULT_DYNAMODB_PORT, DATA_DIR, startLocalDatabase, useLocalEnvironment } from './environment';
import { loadHandlers } from './handlers';
import { createLocalServer } from './server';

async function main(): Promise<void> {
  const memory = process.argv.includes('--memory');
  const port = Number(process.env.PORT ?? 3000);
  const db = await startLocalDatabase({
    memory,
    port: Number(process.env.DYNAMODB_PORT ?? DEFAULT_DYNAMODB_PORT),
    host: process.env.DYNAMODB_HOST,
  });
  useLocalEnvironment(db);
  const server = createLocalServer(await loadHandlers());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const address = server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : port}`;
  console.log(`Group chat API listening on ${url}`);
  console.log(`DynamoDB (dynalite) at ${db.endpoint}, table ${db.tableName}, data ${memory ? 'in memory' : `in ${DATA_DIR}`}`);
  console.log(`Try it:\n  curl -s -X POST ${url}/message/find_group_chat -d 'id=${DEMO_CHAPTER_ID}&msg_time=0'`);

  const stop = () => {
    server.close();
    server.closeAllConnections();
    void db.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: NodeJS.ErrnoException) => {
  console.error(error.code === 'EADDRINUSE' ? `Port in use: ${error.message}. Set PORT or DYNAMODB_PORT.` : error);
  process.exit(1);
});
