/**
 * The API's `$default` route: every request no route matched. A known path with another method gets
 * 405 (with `Allow`), any other path 404, both as the envelope, so a client never reads a bare
 * gateway error from us. It touches no data. The local server answers unmatched requests with it too.
 */
import { envelope, type ApiEvent, type ApiResult } from '../http/api-handler';
import { ErrorCode } from '../http/errors';
import { ROUTES } from '../routes';

const METHOD_OF_PATH = new Map(ROUTES.map((route) => [route.path, route.method]));

export function notRouted(path: string): ApiResult {
  const allowed = METHOD_OF_PATH.get(path);
  if (allowed === undefined) return envelope(ErrorCode.NotFound, 'no such route', null);
  const answer = envelope(ErrorCode.MethodNotAllowed, `method must be ${allowed}`, null);
  return { ...answer, headers: { ...answer.headers, allow: allowed } };
}

export const handler = async (event: ApiEvent): Promise<ApiResult> => notRouted(event.rawPath);
