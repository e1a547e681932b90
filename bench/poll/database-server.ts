/**
 * The embedded DynamoDB in its own process (in memory, on a free loopback port, started as local
 * runs start it: local/dynamodb.ts), so the benchmark process measures the handler, not the
 * database's work or garbage. Prints the endpoint; stops on SIGTERM or when its parent closes stdin.
 * The one place the benchmark starts an engine (the soak's runs through local/environment.ts).
 */
import { startDynalite } from '../../local/dynamodb';

startDynalite().then((db) => {
  process.stdout.write(`${db.endpoint}\n`);
  const stop = () => void db.close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.stdin.on('end', stop);
  process.stdin.resume();
});
