/**
 * `npm run invoke -- events/<file>.json`: invokes the handler of the event's route once, as
 * `sam local invoke` would, against the local database (`npm start`'s when it runs, else its own),
 * and prints the handler's result.
 */
import { readFileSync } from 'node:fs';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { ROUTES } from '../lambda/contract';
import { openLocalDatabase, useLocalEnvironment } from './environment';
import { lambdaContext } from './lambda-context';
import { loadHandler } from './handlers';

async function main(): Promise<void> {
  const file = process.argv[2];
  if (!file) throw new Error('usage: npm run invoke -- events/<file>.json');
  const event = JSON.parse(readFileSync(file, 'utf8')) as APIGatewayProxyEventV2;
  const route = ROUTES.find((r) => r.path === event.rawPath);
  if (!route) throw new Error(`no route for rawPath ${event.rawPath}; routes: ${ROUTES.map((r) => r.path).join(', ')}`);
  const db = await openLocalDatabase();
  try {
    useLocalEnvironment(db);
    const handler = await loadHandler(route.entry);
    console.log(JSON.stringify(await handler(event, lambdaContext(route.id)), null, 2));
  } finally {
    await db.close();
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
