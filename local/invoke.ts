/**
 * `npm run invoke -- events/<file>.json`: invokes the handler of the event's route once, as
 * `sam local invoke` would, against the local database, and prints the handler's result. The
 * database is DYNAMODB_ENDPOINT's, else the one a running `npm start` serves (whatever its port:
 * .local-data/endpoint.json), else one of its own on .local-data/; a line on stderr says which.
 */
import { readFileSync } from 'node:fs';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { NOT_ROUTED, ROUTES } from '../lambda/contract';
import { openLocalDatabase, useLocalEnvironment } from './environment';
import { lambdaContext } from './lambda-context';
import { loadHandler } from './handlers';

async function main(): Promise<void> {
  const file = process.argv[2];
  if (!file) throw new Error('usage: npm run invoke -- events/<file>.json');
  const event = JSON.parse(readFileSync(file, 'utf8')) as APIGatewayProxyEventV2;
  if (typeof event.rawPath !== 'string') throw new Error(`${file} is not an API Gateway event (payload format 2.0): it has no rawPath`);
  // As API Gateway routes it: a route's own function, or the `$default` route's for anything else.
  const route = ROUTES.find((r) => r.path === event.rawPath && r.method === event.requestContext?.http?.method);
  const { id, entry } = route ?? NOT_ROUTED;
  const db = await openLocalDatabase();
  try {
    console.error(`Database: ${db.source ?? db.endpoint} at ${db.endpoint}, table ${db.tableName}`);
    useLocalEnvironment(db);
    const handler = await loadHandler(entry);
    console.log(JSON.stringify(await handler(event, lambdaContext(id)), null, 2));
  } finally {
    await db.close();
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
