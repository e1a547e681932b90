/** Loads the routes' handlers from their sources, as the stack bundles them (the functions read their settings at import). */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import path from 'node:path';
import { ROUTES, type RouteSpec } from '../lambda/contract';

export type LambdaHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

const PROJECT_ROOT = path.resolve(__dirname, '..');

/** Imports a handler source (relative to the project root) and returns its `handler`. */
export async function loadHandler(entry: string): Promise<LambdaHandler> {
  const module = (await import(path.join(PROJECT_ROOT, entry))) as { handler: LambdaHandler };
  return module.handler;
}

export type RouteHandlers = Map<string, { route: RouteSpec; handler: LambdaHandler }>;

/** Every route's handler by path. */
export async function loadHandlers(): Promise<RouteHandlers> {
  const byPath: RouteHandlers = new Map();
  for (const route of ROUTES) byPath.set(route.path, { route, handler: await loadHandler(route.entry) });
  return byPath;
}
