/**
 * `npm start [-- --memory]`: the whole API on 127.0.0.1 with no AWS and no Docker, on DynamoDB Local
 * (or on the engine DYNAMODB_ENDPOINT names). PORT picks the API port (default 3000), DYNAMODB_PORT
 * DynamoDB Local's (default 8000; it listens on every interface, so `sam local invoke`'s container reaches it).
 */
import { ENV } from '../lambda/contract';
import { DEMO_CHAPTER_ID } from './demo-chapter';
import { EngineUnreachableError } from './dynamodb';
import { JavaMissingError } from './dynamodb-local';
import { DEFAULT_DYNAMODB_PORT, DATA_DIR, LocalSettingError, localMembershipMode, startLocalDatabase, useLocalEnvironment } from './environment';
import { loadHandlers } from './handlers';
import { createLocalServer } from './server';

async function main(): Promise<void> {
  const memory = process.argv.includes('--memory');
  const port = Number(process.env.PORT ?? 3000);
  const external = process.env[ENV.dynamodbEndpoint];
  const membership = localMembershipMode(); // a bad MEMBERSHIP stops us before anything starts
  const db = await startLocalDatabase({ memory, port: Number(process.env.DYNAMODB_PORT ?? DEFAULT_DYNAMODB_PORT) });
  useLocalEnvironment(db);
  const server = createLocalServer(await loadHandlers());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  }).catch(async (error) => {
    await db.close();
    throw error;
  });
  const address = server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : port}`;
  console.log(`Group chat API listening on ${url}`);
  const data = external ? 'on that engine' : memory ? 'in memory' : `in ${DATA_DIR}`;
  console.log(`DynamoDB (${external ? ENV.dynamodbEndpoint : 'DynamoDB Local'}) at ${db.endpoint}, table ${db.tableName}, data ${data}`);
  console.log(
    membership === 'self'
      ? 'Membership: self (users join and leave; the admin routes are open here, deployed they need IAM)'
      : 'Membership: managed (join and leave answer 403; POST /admin/add_members is open here, deployed it needs IAM)',
  );
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
  // What to install, which engine does not answer, which port is taken: one line each, no stack.
  if (error instanceof JavaMissingError || error instanceof EngineUnreachableError || error instanceof LocalSettingError) console.error(error.message);
  else if (error.code === 'EADDRINUSE') console.error(`Port in use: ${error.message}. Set PORT or DYNAMODB_PORT.`);
  else if (/^Cannot start DynamoDB Local on port/.test(error.message)) console.error(`${error.message}. Set DYNAMODB_PORT.`);
  else console.error(error);
  process.exit(1);
});
