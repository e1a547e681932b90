/**
 * The API's `$default` route: every request no route matched. A known path with another method gets
 * 405 (with `Allow`), any other path 404, both as the envelope, so a client never reads a bare
 * gateway error from us. It touches no data. The local server answers unmatched requests with it too.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { ErrorCode, ROUTES } from '../contract';
import { envelope } from '../http/envelope';

const METHOD_OF_PATH = new Map(ROUTES.map((route) => [route.path, route.method]));

export function notRouted(path: string): APIGatewayProxyStructuredResultV2 {
  const allowed = METHOD_OF_PATH.get(path);
  if (allowed === undefined) return envelope(ErrorCode.NotFound, 'no such route', null);
  const answer = envelope(ErrorCode.MethodNotAllowed, `method must be ${allowed}`, null);
  return { ...answer, headers: { ...answer.headers, allow: allowed } };
}

export const handler = async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => notRouted(event.rawPath);
